//go:build !linux

package procfs

import (
	"errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// SocketInodes needs Linux's /proc; elsewhere it returns
// errors.ErrUnsupported.
func SocketInodes(root hostfs.Root) (map[uint64]int32, error) { return nil, errors.ErrUnsupported }

// SocketInodesStats needs Linux's /proc; elsewhere it returns
// errors.ErrUnsupported.
func SocketInodesStats(root hostfs.Root) (map[uint64]int32, ScanStats, error) {
	return nil, ScanStats{}, errors.ErrUnsupported
}
