package login

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// lines is a consumer that keeps the whole lines of each chunk.
func lines(got *[]string) consumer {
	return func(chunk []byte, _ int64) int {
		used := 0
		for {
			i := bytes.IndexByte(chunk[used:], '\n')
			if i < 0 {
				return used
			}
			*got = append(*got, string(chunk[used:used+i]))
			used += i + 1
		}
	}
}

// TestTailerLongLine: a line longer than a chunk is skipped and counted,
// and the lines after it are still read; a partial last line waits.
func TestTailerLongLine(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, "auth.log")
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tl := &tailer{root: hostfs.Root(root), name: "/auth.log"}
	var got []string
	if err := tl.poll(lines(&got)); err != nil || !tl.known || tl.st.Offset != 0 {
		t.Fatalf("first poll: %v, %+v", err, tl.st)
	}
	content := strings.Repeat("x", chunkBytes+100) + "\nshort\npartial"
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tl.poll(lines(&got)); err != nil {
		t.Fatal(err)
	}
	// The skipped chunk leaves the long line's tail, read as a line.
	if len(got) != 2 || got[0] != strings.Repeat("x", 100) || got[1] != "short" {
		t.Errorf("lines %q", got)
	}
	if tl.skipped != 1 || tl.st.Offset != int64(len(content)-len("partial")) {
		t.Errorf("skipped %d, offset %d", tl.skipped, tl.st.Offset)
	}
}
