package hostfs

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openInRoot opens rel (absolute within the root) with openat2's
// RESOLVE_IN_ROOT, so every symlink on the way resolves as if root were /.
// Kernels before 5.6 (still common on IoT devices) lack openat2: there
// the links are resolved in user space with the same in-root meaning, so
// an absolute link on the host never escapes into the module's own image.
func openInRoot(root, rel string) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, rel[1:], &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		return openResolvedInUserspace(root, rel)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(root, rel), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, rel)), nil
}

// openResolvedInUserspace is openat2's fallback. A link swapped between
// resolving and opening could still escape; the host root is read-only
// and root-owned, so only the host's own root could race it.
func openResolvedInUserspace(root, rel string) (*os.File, error) {
	p, err := Root(root).Resolve(rel)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(root, rel), Err: err}
	}
	return os.Open(p)
}
