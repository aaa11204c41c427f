package hostfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPath(t *testing.T) {
	tests := []struct {
		name string
		root Root
		elem []string
		want string
	}{
		{"host root", "/", []string{"proc", "meminfo"}, "/proc/meminfo"},
		{"container root", "/host", []string{"etc", "passwd"}, "/host/etc/passwd"},
		{"absolute element", "/host", []string{"/etc/passwd"}, "/host/etc/passwd"},
		{"dot-dot cannot climb out", "/host", []string{"..", "..", "etc", "shadow"}, "/host/etc/shadow"},
		{"dot-dot inside an element", "/host", []string{"proc/../../etc"}, "/host/etc"},
		{"relative root", "testdata/host", []string{"proc", "cmdline"}, "testdata/host/proc/cmdline"},
		{"no elements", "/host", nil, "/host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.root.Path(tt.elem...); got != tt.want {
				t.Errorf("Path(%q) = %q, want %q", tt.elem, got, tt.want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Root(dir)
	if b, err := r.ReadFile(5, "f"); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile at the limit = %q, %v", b, err)
	}
	if _, err := r.ReadFile(4, "f"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile over the limit: err = %v, want ErrTooLarge", err)
	}
	if _, err := r.ReadFile(5, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: err = %v, want ErrNotExist", err)
	}
}

func TestLimitedReader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		limit   int64
		wantErr error
	}{
		{"under", "abc", 4, nil},
		{"at", "abcd", 4, nil},
		{"over", "abcde", 4, ErrTooLarge},
		{"zero limit, empty input", "", 0, nil},
		{"zero limit", "a", 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One-byte reads exercise the boundary too.
			for _, rd := range []io.Reader{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				b, err := io.ReadAll(LimitedReader(rd, tt.limit))
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == nil && string(b) != tt.input {
					t.Errorf("read %q, want %q", b, tt.input)
				}
			}
		})
	}
}

// TestOpenResolvesSymlinksInsideRoot: an absolute link in the host tree
// must lead to the host's file, never to the container's own.
func TestOpenResolvesSymlinksInsideRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/lib/os-release"), []byte("ID=hostos\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/lib/os-release", filepath.Join(root, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/../../../../etc/hostname", filepath.Join(root, "etc/escape")); err != nil {
		t.Fatal(err)
	}
	b, err := Root(root).ReadFile(1024, "etc", "os-release")
	if err != nil || string(b) != "ID=hostos\n" {
		t.Fatalf("got %q, %v; want the file inside the root", b, err)
	}
	if _, err := Root(root).ReadFile(1024, "etc", "escape"); err == nil {
		t.Fatal("a link climbing out of the root was followed")
	}
}
