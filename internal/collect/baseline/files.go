package baseline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Bounds on file checks: how much of one file a content check reads and
// how many names one glob may match or one directory listing may return.
const (
	maxContentBytes = 16 << 20
	maxGlobMatches  = 256
	maxDirEntries   = 4096
)

// File type bits of st_mode, the same on every Linux architecture.
const (
	sIFMT  = 0o170000
	sIFREG = 0o100000
	sIFDIR = 0o040000
)

// fileStat is what the checks need of a stat: type and permission bits,
// and the owner where the platform reports one.
type fileStat struct {
	Mode     uint32
	UID, GID uint32
	HasOwner bool
}

func (s fileStat) regular() bool { return s.Mode&sIFMT == sIFREG }
func (s fileStat) dir() bool     { return s.Mode&sIFMT == sIFDIR }
func (s fileStat) perm() uint32  { return s.Mode & 0o7777 }

// kernelPath: /proc and /sys resolve as the kernel intends (see hostfs).
func kernelPath(p string) bool {
	return p == "/proc" || p == "/sys" || strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/")
}

var errTooManyMatches = fmt.Errorf("more than %d files match", maxGlobMatches)

// expand returns the host paths p names: p itself when it holds no
// pattern (whether or not it exists), else the paths its patterns match,
// sorted, level by level: every listing is bounded, and so is the number
// of candidates at each level. A missing directory matches nothing; the
// last element, if literal, is joined without checking it exists.
func expand(root hostfs.Root, p string) ([]string, error) {
	if !hasMeta(p) {
		return []string{p}, nil
	}
	cur := []string{"/"}
	for _, el := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		var next []string
		for _, dir := range cur {
			if !hasMeta(el) {
				next = append(next, path.Join(dir, el))
				continue
			}
			entries, err := listDir(root, dir)
			if isMissing(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if ok, _ := path.Match(el, e.Name()); ok {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
			if len(next) > maxGlobMatches {
				return nil, fmt.Errorf("%s: %w", p, errTooManyMatches)
			}
		}
		cur = next
	}
	sort.Strings(cur)
	return cur, nil
}

// listDir lists a host directory, at most maxDirEntries entries.
func listDir(root hostfs.Root, dir string) ([]fs.DirEntry, error) {
	f, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(maxDirEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(entries) > maxDirEntries {
		return nil, fmt.Errorf("list %s: more than %d entries", dir, maxDirEntries)
	}
	return entries, nil
}

// readLines calls fn with each line of a regular host file (or a kernel
// file under /proc or /sys), reading at most maxContentBytes.
func readLines(root hostfs.Root, p string, fn func(line string) bool) error {
	if !kernelPath(p) {
		st, err := statInRoot(root, p)
		if err != nil {
			return err
		}
		if !st.regular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
	}
	f, err := root.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := eachLine(hostfs.LimitedReader(f, maxContentBytes), nil, fn); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return nil
}

// parseFile opens a regular host file and hands it to parse, bounded. On
// errMalformed the parsed value is returned with the error.
func parseFile[T any](root hostfs.Root, p string, limit int64, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	if !kernelPath(p) {
		st, err := statInRoot(root, p)
		if err != nil {
			return zero, err
		}
		if !st.regular() {
			return zero, fmt.Errorf("%s: not a regular file", p)
		}
	}
	f, err := root.Open(p)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := parse(hostfs.LimitedReader(f, limit))
	if errors.Is(err, errMalformed) {
		return v, fmt.Errorf("%s: %w", p, err)
	}
	if err != nil {
		return zero, fmt.Errorf("parse %s: %w", p, err)
	}
	return v, nil
}
