package baseline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// statInRoot stats a host path, following symbolic links inside the root
// as hostfs.Open does, but through an O_PATH descriptor: a FIFO or device
// named by a custom check is never opened for reading, so it cannot block
// the snapshot.
func statInRoot(root hostfs.Root, p string) (fileStat, error) {
	if string(root) == "/" || string(root) == "" || kernelPath(p) {
		return statPath(root.Path(p))
	}
	dir, err := unix.Open(string(root), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileStat{}, &os.PathError{Op: "open", Path: string(root), Err: err}
	}
	defer unix.Close(dir)
	rel := strings.TrimPrefix(filepath.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(dir, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		// Kernels before 5.6: resolve the links in user space, still
		// inside the root.
		resolved, rerr := root.Resolve(p)
		if rerr != nil {
			return fileStat{}, &os.PathError{Op: "stat", Path: p, Err: rerr}
		}
		return statPath(resolved)
	}
	if err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	return fromStat(&st), nil
}

func statPath(name string) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return fromStat(&st), nil
}

func fromStat(st *unix.Stat_t) fileStat {
	return fileStat{Mode: uint32(st.Mode), UID: uint32(st.Uid), GID: uint32(st.Gid), HasOwner: true}
}

// readlinkAt reads the target of the link name in the open directory d
// without following it, so a link to /dev/null under the root is seen as
// written, never resolved against the container's own /dev.
func readlinkAt(d *os.File, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(int(d.Fd()), name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: filepath.Join(d.Name(), name), Err: err}
	}
	return string(buf[:n]), nil
}
