//go:build !linux

package exehash

import "io/fs"

// keyOf has no inode identity outside Linux, so nothing is cached there.
func keyOf(fi fs.FileInfo) (key, bool) {
	return key{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}, false
}
