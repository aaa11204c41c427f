package process

import (
	"os"
	"syscall"
)

// statID is the identity of the regular file at p, with one stat.
func statID(p string) (fileID, bool) {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{ino: uint64(st.Ino), dev: uint64(st.Dev), size: fi.Size(), mtime: fi.ModTime()}, true
}
