//go:build !linux

package baseline

import (
	"os"
	"path/filepath"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// statInRoot without openat2: the module only runs on Linux; this keeps
// the package building elsewhere. Owners are unknown here.
func statInRoot(root hostfs.Root, p string) (fileStat, error) {
	fi, err := os.Stat(root.Path(p))
	if err != nil {
		return fileStat{}, err
	}
	m := uint32(fi.Mode().Perm())
	switch {
	case fi.Mode().IsRegular():
		m |= sIFREG
	case fi.IsDir():
		m |= sIFDIR
	}
	return fileStat{Mode: m}, nil
}

func readlinkAt(d *os.File, name string) (string, error) {
	return os.Readlink(filepath.Join(d.Name(), name))
}
