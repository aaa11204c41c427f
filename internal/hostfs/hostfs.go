// Package hostfs resolves host paths under one injectable root: "/" when
// the module runs on the host, "/host" in the container.
package hostfs

import (
	"fmt"
	securejoin "github.com/cyphar/filepath-securejoin"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultReadLimit bounds whole-file reads of host files.
const DefaultReadLimit = 4 << 20

// Root is the directory the host's filesystem is mounted at.
type Root string

// Path joins elem under the root. Elements are host-absolute or relative
// paths; ".." cannot climb out of the root.
func (r Root) Path(elem ...string) string {
	p := filepath.Join(append([]string{"/"}, elem...)...)
	return filepath.Join(string(r), p)
}

// ErrTooLarge is returned when a file exceeds the read limit.
var ErrTooLarge = fmt.Errorf("file exceeds read limit")

// ReadFile reads a whole host file, refusing more than limit bytes so a
// hostile or runaway file cannot exhaust memory.
func (r Root) ReadFile(limit int64, elem ...string) ([]byte, error) {
	f, err := r.Open(elem...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: %w (%d bytes)", f.Name(), ErrTooLarge, limit)
	}
	return b, nil
}

// Open opens a host file for reading. Under a root other than "/",
// symbolic links are resolved inside the root (an absolute link such as
// /etc/os-release -> /usr/lib/os-release means the host's file, not the
// container's), except under /proc and /sys, whose kernel-made links
// (self, magic links) must resolve as the kernel intends.
func (r Root) Open(elem ...string) (*os.File, error) {
	p := filepath.Join(append([]string{"/"}, elem...)...)
	if string(r) == "/" || string(r) == "" || kernelFS(p) {
		return os.Open(r.Path(elem...))
	}
	return openInRoot(string(r), p)
}

// Resolve returns the path of a host file with every symbolic link on the
// way resolved inside the root, as Open does, for callers that must not
// open the file itself (a stat through O_PATH, a readlink). It is the
// user-space resolution Open falls back to on kernels without openat2.
func (r Root) Resolve(elem ...string) (string, error) {
	p := filepath.Join(append([]string{"/"}, elem...)...)
	if string(r) == "/" || string(r) == "" || kernelFS(p) {
		return r.Path(elem...), nil
	}
	return securejoin.SecureJoin(filepath.Clean(string(r)), p)
}

func kernelFS(p string) bool {
	return p == "/proc" || p == "/sys" || strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/")
}

// LimitedReader wraps f so that reading more than limit bytes fails with
// ErrTooLarge instead of silently truncating.
func LimitedReader(rd io.Reader, limit int64) io.Reader {
	return &limited{r: rd, n: limit}
}

type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, ErrTooLarge
	}
	return n, err
}
