package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

type doc struct {
	Version int
	Items   []string
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := doc{Version: 2, Items: []string{"a", "b"}}
	if err := Save(dir, "x.json", want); err != nil {
		t.Fatal(err)
	}
	var got doc
	found, err := Load(dir, "x.json", 1<<20, &got)
	if err != nil || !found || got.Version != 2 || strings.Join(got.Items, ",") != "a,b" {
		t.Fatalf("Load = %+v, %v, %v", got, found, err)
	}
	// Replacing leaves no temporary files behind.
	if err := Save(dir, "x.json", doc{Version: 3}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d files, want 1", len(entries))
	}
}

func TestLoadMissingOrNoDir(t *testing.T) {
	var d doc
	if found, err := Load("", "x.json", 100, &d); found || err != nil {
		t.Fatalf("no state dir: %v, %v", found, err)
	}
	if found, err := Load(t.TempDir(), "x.json", 100, &d); found || err != nil {
		t.Fatalf("first run: %v, %v", found, err)
	}
	if err := Save("", "x.json", d); err != nil {
		t.Fatalf("Save without a state dir: %v", err)
	}
}

func TestLoadBadInput(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":  `{"Version":1,"Items":["a"`,
		"not json":   "\x00\x01garbage",
		"too large":  `{"Version":1,"Items":["` + strings.Repeat("a", 200) + `"]}`,
		"wrong type": `{"Version":"one"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x.json"), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var d doc
			found, err := Load(dir, "x.json", 100, &d)
			if err == nil || found {
				t.Fatalf("Load accepted %q: %+v", content, d)
			}
			if !strings.Contains(err.Error(), "x.json") {
				t.Errorf("error %q does not name the file", err)
			}
			if name == "too large" && !errors.Is(err, hostfs.ErrTooLarge) {
				t.Errorf("error %v: want ErrTooLarge", err)
			}
		})
	}
}

func TestSaveReadOnlyDir(t *testing.T) {
	if err := Save(filepath.Join(t.TempDir(), "missing"), "x.json", doc{}); err == nil {
		t.Fatal("Save into a missing directory succeeded")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"Version":1,"Items":["a"]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		var d doc
		found, err := Load(dir, "x.json", 1<<16, &d)
		if found == (err != nil) {
			t.Fatalf("found=%v with err=%v", found, err)
		}
	})
}
