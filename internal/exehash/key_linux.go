package exehash

import (
	"io/fs"
	"syscall"
)

// keyOf builds the cache key from a stat result. Dev and Ino widths
// differ per architecture (uint32 dev on some 32-bit ABIs), hence the
// conversions.
func keyOf(fi fs.FileInfo) (key, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return key{}, false
	}
	return key{
		dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(),
		mtimeNs: fi.ModTime().UnixNano(),
	}, true
}
