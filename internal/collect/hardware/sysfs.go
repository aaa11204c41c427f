package hardware

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

const (
	// maxAttrBytes bounds one sysfs attribute: the kernel fills at most a
	// page, so anything longer is not sysfs.
	maxAttrBytes = 4096
	// maxAttrRunes bounds a reported string; USB descriptors hold at most
	// 126 characters, the rest is garbage or an attack on the message size.
	maxAttrRunes = 256
	// maxDirEntries bounds each directory listing, so a pathological tree
	// (or a fixture gone wrong) cannot make a snapshot unbounded.
	maxDirEntries = 4096
	// maxLinks bounds the symlinks followed while resolving one path, as
	// the kernel's own limit does.
	maxLinks = 40
)

// sysfs reads the host's /sys through the host root. Paths are absolute
// host paths ("/sys/..."); links are resolved by hand so that a link can
// never lead out of the root, whatever the root is.
type sysfs struct {
	root hostfs.Root
}

// resolve returns p with every symlink resolved, as a host path inside the
// root. An absolute link target restarts at the root and ".." stops at
// the root, as with RESOLVE_IN_ROOT.
func (s sysfs) resolve(p string) (string, error) {
	rest := strings.Split(p, "/")
	cur := "/"
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(s.root.Path(next))
		if err != nil {
			return "", err // *PathError names the path
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s: too many links", s.root.Path(p))
		}
		target, err := os.Readlink(s.root.Path(next))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, nil
}

// linkName is the last element of the resolved link dir/name, such as a
// driver's name for "driver"; "" when there is no such link.
func (s sysfs) linkName(dir, name string) string {
	fi, err := os.Lstat(s.root.Path(dir, name))
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return ""
	}
	target, err := s.resolve(path.Join(dir, name))
	if err != nil {
		return ""
	}
	return path.Base(target)
}

// exists reports whether dir/name exists, without following a final link.
func (s sysfs) exists(dir, name string) bool {
	_, err := os.Lstat(s.root.Path(dir, name))
	return err == nil
}

// attr reads one attribute as a clean string: "" when it is missing,
// unreadable or empty (an absent attribute is normal in sysfs).
func (s sysfs) attr(dir, name string) string {
	b, err := s.root.ReadFile(maxAttrBytes, dir, name)
	if err != nil {
		return ""
	}
	return cleanAttr(b)
}

// cleanAttr trims an attribute and makes it safe to report: valid UTF-8,
// no control characters, bounded length.
func cleanAttr(b []byte) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxAttrRunes {
		s = string(r[:maxAttrRunes])
	}
	return strings.TrimSpace(s)
}

// list returns the sorted names in dir, at most maxDirEntries of them. A
// missing directory is not an error: the bus is not on this host.
func (s sysfs) list(dir string) ([]string, error) {
	f, err := os.Open(s.root.Path(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxDirEntries)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("list %s: %w", f.Name(), err)
	}
	slices.Sort(names)
	return names, nil
}

// devPath is the kernel's DEVPATH of a resolved sysfs device directory,
// the same string uevents carry ("/devices/...").
func devPath(resolved string) string { return strings.TrimPrefix(resolved, "/sys") }

// isVirtual reports whether a resolved device lives under
// /sys/devices/virtual: software devices without hardware behind them.
func isVirtual(resolved string) bool { return strings.HasPrefix(resolved, "/sys/devices/virtual/") }

// underUSB reports whether a resolved device hangs off a USB port.
func underUSB(resolved string) bool {
	for _, el := range strings.Split(resolved, "/") {
		if strings.HasPrefix(el, "usb") && len(el) > 3 && el[3] >= '0' && el[3] <= '9' {
			return true
		}
	}
	return false
}
