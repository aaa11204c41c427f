package exehash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func newHasher(t testing.TB, opt Options) (*Hasher, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opt.Registerer = reg
	h, err := New("/", opt)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg
}

func TestHashPathCache(t *testing.T) {
	h, _ := newHasher(t, Options{})
	p := filepath.Join(t.TempDir(), "tool")
	os.WriteFile(p, []byte("v1"), 0o755)

	for i := range 2 {
		r, err := h.HashPath(p)
		if err != nil || r != (Result{SHA256: sum([]byte("v1"))}) {
			t.Fatalf("call %d: %+v %v", i, r, err)
		}
	}
	if hits, misses := testutil.ToFloat64(h.m.hits), testutil.ToFloat64(h.m.misses); hits != 1 || misses != 1 {
		t.Errorf("hits %v misses %v, want 1 1", hits, misses)
	}
	// Rewritten in place with the same size: the mtime changes the key.
	os.WriteFile(p, []byte("v2"), 0o755)
	later := time.Now().Add(time.Hour)
	os.Chtimes(p, later, later)
	if r, _ := h.HashPath(p); r.SHA256 != sum([]byte("v2")) {
		t.Errorf("stale digest after rewrite: %+v", r)
	}
	if got := testutil.ToFloat64(h.m.bytes); got != 4 {
		t.Errorf("read bytes %v, want 4", got)
	}
}

func TestHashSkips(t *testing.T) {
	h, _ := newHasher(t, Options{MaxSize: 10})
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 11), 0o755)
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, make([]byte, 10), 0o755)
	tests := []struct {
		path string
		want Result
	}{
		{big, Result{Skipped: SkipTooLarge}},
		{dir, Result{Skipped: SkipNotRegular}},
		{"/dev/null", Result{Skipped: SkipNotRegular}},
		{exact, Result{SHA256: sum(make([]byte, 10))}},
	}
	for _, tt := range tests {
		if r, err := h.HashPath(tt.path); err != nil || r != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.path, r, err, tt.want)
		}
	}
	if got := testutil.ToFloat64(h.m.skipped.WithLabelValues("too_large")); got != 1 {
		t.Errorf("too_large skips %v", got)
	}
	if _, err := h.HashPath(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestHashPIDReplaced checks that /proc/<pid>/exe hashes the file the
// process runs, even after its path is overwritten and then deleted.
func TestHashPIDReplaced(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary:", err)
	}
	orig, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sleeper")
	os.WriteFile(bin, orig, 0o755)
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Replace the path (a new inode) and then remove it.
	os.Remove(bin)
	os.WriteFile(bin, []byte("impostor"), 0o755)
	os.Remove(bin)

	h, _ := newHasher(t, Options{})
	var r Result
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		// Until exec completes the child runs the test binary: poll.
		if r, err = h.HashPID(int32(cmd.Process.Pid)); err == nil && r.SHA256 == sum(orig) {
			break
		}
	}
	if err != nil || r.SHA256 != sum(orig) {
		t.Errorf("HashPID = %+v %v, want the original binary's digest", r, err)
	}
}

func TestHashPIDPermission(t *testing.T) {
	h, _ := newHasher(t, Options{})
	_, err := h.HashPID(1)
	if err == nil {
		t.Skip("pid 1's exe is readable on this host")
	}
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HashPID(1) = %v, want a permission error", err)
	}
}

func TestHashConcurrent(t *testing.T) {
	h, _ := newHasher(t, Options{CacheSize: 2})
	dir := t.TempDir()
	var paths []string
	for _, c := range "abcd" {
		p := filepath.Join(dir, string(c))
		os.WriteFile(p, []byte{byte(c)}, 0o644)
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				p := paths[(g+i)%len(paths)]
				r, err := h.HashPath(p)
				if err != nil || r.SHA256 != sum([]byte{filepath.Base(p)[0]}) {
					t.Errorf("%s: %+v %v", p, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := h.cache.len(); n > 2 {
		t.Errorf("cache holds %d, cap 2", n)
	}
}

func TestMetricsRegisterOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New("/", Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(hostfs.Root("/"), Options{Registerer: reg}); err == nil {
		t.Error("second registration on one registry: want an error")
	}
}

func benchFile(b *testing.B, size int) string {
	p := filepath.Join(b.TempDir(), "bin")
	if err := os.WriteFile(p, make([]byte, size), 0o755); err != nil {
		b.Fatal(err)
	}
	return p
}

// go test -run '^$' -bench Hash -benchmem ./internal/exehash
func BenchmarkHashHit(b *testing.B) {
	h, _ := newHasher(b, Options{})
	p := benchFile(b, 1<<20)
	h.HashPath(p)
	for b.Loop() {
		if r, err := h.HashPath(p); err != nil || r.SHA256 == "" {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkHashMiss1MiB(b *testing.B) {
	h, _ := newHasher(b, Options{})
	p := benchFile(b, 1<<20)
	b.SetBytes(1 << 20)
	for b.Loop() {
		h.mu.Lock()
		h.cache = newLRU(DefaultCacheSize)
		h.mu.Unlock()
		if r, err := h.HashPath(p); err != nil || r.SHA256 == "" {
			b.Fatal(r, err)
		}
	}
}
