// Package exehash computes SHA-256 digests of executables through the
// host root, cached by file identity so an exec storm of one binary hashes
// it once (reference-agents.md §8.2 W-D5: hash the file itself, no IMA).
package exehash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Defaults for Options.
const (
	DefaultMaxSize   = 64 << 20
	DefaultCacheSize = 4096
)

// Skip reasons, put by callers in ExtraDetails. They are also the values
// of the skipped metric's reason label.
const (
	SkipTooLarge   = "file too large to hash"
	SkipNotRegular = "not a regular file"
	SkipChanged    = "file changed while hashing"
)

// Options tune a Hasher; zero values take the defaults.
type Options struct {
	MaxSize   int64 // bytes; larger files are skipped with SkipTooLarge
	CacheSize int   // digests kept
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Result is the outcome of hashing one file. Exactly one of SHA256 and
// Skipped is set.
type Result struct {
	SHA256  string // lowercase hex
	Skipped string // a Skip* reason
}

// Hasher hashes executables. It is safe for concurrent use.
type Hasher struct {
	root    hostfs.Root
	maxSize int64
	m       metrics
	group   singleflight.Group

	mu    sync.Mutex
	cache *lru
}

// New returns a Hasher reading under root and registers its metrics.
func New(root hostfs.Root, opt Options) (*Hasher, error) {
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxSize
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = DefaultCacheSize
	}
	m, err := newMetrics(opt.Registerer)
	if err != nil {
		return nil, err
	}
	return &Hasher{root: root, maxSize: opt.MaxSize, m: m, cache: newLRU(opt.CacheSize)}, nil
}

// HashPID hashes the executable pid runs, through /proc/<pid>/exe: the
// kernel hands out the very file mapped at exec, even if its path has
// since been replaced or deleted. Needs CAP_SYS_PTRACE for other users'
// processes; EACCES is returned as an error wrapping fs.ErrPermission.
func (h *Hasher) HashPID(pid int32) (Result, error) {
	return h.hash(h.root.Path("proc", strconv.FormatInt(int64(pid), 10), "exe"), true)
}

// HashPath hashes the host file at path (a host-absolute path, resolved
// under the root).
func (h *Hasher) HashPath(path string) (Result, error) {
	return h.hash(path, false)
}

func (h *Hasher) hash(p string, proc bool) (Result, error) {
	var f *os.File
	var err error
	if proc {
		f, err = os.Open(p) // a kernel magic link: follow it as the kernel does
	} else {
		f, err = h.root.Open(p)
	}
	if err != nil {
		h.m.errors.Inc()
		return Result{}, fmt.Errorf("hash: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		h.m.errors.Inc()
		return Result{}, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	if !fi.Mode().IsRegular() {
		return h.skip(SkipNotRegular), nil
	}
	if fi.Size() > h.maxSize {
		return h.skip(SkipTooLarge), nil
	}
	k, ok := keyOf(fi)
	if ok {
		h.mu.Lock()
		sum, hit := h.cache.get(k)
		h.mu.Unlock()
		if hit {
			h.m.hits.Inc()
			return Result{SHA256: sum}, nil
		}
	}
	h.m.misses.Inc()
	var r Result
	if ok {
		// Concurrent misses for one file share a single read.
		var v any
		v, err, _ = h.group.Do(k.String(), func() (any, error) { return h.read(f, k, true) })
		r, _ = v.(Result)
	} else {
		r, err = h.read(f, k, false)
	}
	if err != nil {
		h.m.errors.Inc()
		return Result{}, err
	}
	if r.Skipped != "" {
		h.m.skipped.WithLabelValues(skipLabels[r.Skipped]).Inc()
	}
	return r, nil
}

// read hashes f and caches the digest when the file did not change
// during the read (same size and mtime before and after).
func (h *Hasher) read(f *os.File, k key, cacheable bool) (Result, error) {
	d := sha256.New()
	n, err := io.Copy(d, hostfs.LimitedReader(f, h.maxSize))
	if errors.Is(err, hostfs.ErrTooLarge) {
		return Result{Skipped: SkipTooLarge}, nil // grew past the limit
	}
	if err != nil {
		return Result{}, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	h.m.bytes.Add(float64(n))
	sum := hex.EncodeToString(d.Sum(nil))
	fi, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	if k2, _ := keyOf(fi); k2 != k || n != k.size {
		return Result{Skipped: SkipChanged}, nil
	}
	if cacheable {
		h.mu.Lock()
		h.cache.put(k, sum)
		h.mu.Unlock()
	}
	return Result{SHA256: sum}, nil
}

func (h *Hasher) skip(reason string) Result {
	h.m.skipped.WithLabelValues(skipLabels[reason]).Inc()
	return Result{Skipped: reason}
}
