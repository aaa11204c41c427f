package procfs

import (
	"bytes"
	"errors"
	"strconv"
)

// Bounds on one SocketInodes pass. The pid bound is pid_max's ceiling;
// the fd bound stops a pathological host (millions of open files) from
// making the ListeningPorts snapshot unbounded in time and memory.
const (
	maxScanPIDs = 1 << 22
	maxScanFDs  = 1 << 21
)

// ErrScanLimit is returned with a partial map when SocketInodes stopped
// at its process or fd bound.
var ErrScanLimit = errors.New("socket scan limit reached")

// ScanStats counts what one SocketInodes pass skipped, for metrics.
type ScanStats struct {
	Processes int // /proc/<pid> entries visited
	FDs       int // fd links read
	// Vanished counts processes and fds that went away during the scan,
	// Denied those refused (EACCES/EPERM: no CAP_DAC_READ_SEARCH or
	// CAP_SYS_PTRACE, or a sandbox's pid 1).
	Vanished, Denied int
}

// parseSocketLink returns N from a "socket:[N]" fd link target.
func parseSocketLink(target []byte) (uint64, bool) {
	v, ok := bytes.CutPrefix(target, []byte("socket:["))
	if !ok || len(v) < 2 || v[len(v)-1] != ']' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(v[:len(v)-1]), 10, 64)
	return n, err == nil
}

// addSocket records inode→pid. A socket shared by several processes
// (inherited over fork, passed over SCM_RIGHTS) is attributed to the
// lowest pid, usually the parent that created it, so that the result
// does not depend on directory order.
func addSocket(m map[uint64]int32, inode uint64, pid int32) {
	if old, ok := m[inode]; !ok || pid < old {
		m[inode] = pid
	}
}
