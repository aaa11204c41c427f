package hostfs

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestUserspaceFallbackStaysInRoot runs the pre-5.6 fallback directly, so
// it is tested on kernels that have openat2 as well.
func TestUserspaceFallbackStaysInRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/lib", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "usr/lib/os-release"), []byte("ID=hostos\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"etc/os-release": "/usr/lib/os-release",
		"etc/relative":   "../usr/lib/os-release",
		"etc/climb":      "/../../../../usr/lib/os-release",
		"etc/escape":     "/../../../../etc/hostname",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"/etc/os-release", "/etc/relative", "/etc/climb"} {
		f, err := openResolvedInUserspace(root, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "ID=hostos\n" {
			t.Errorf("%s: read %q, want the file inside the root", name, b)
		}
	}
	if f, err := openResolvedInUserspace(root, "/etc/escape"); err == nil {
		f.Close()
		t.Error("/etc/escape: a link climbing out of the root was followed to the real /etc/hostname")
	}
}
