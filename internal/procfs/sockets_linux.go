package procfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// SocketInodes maps every socket inode open in any process to a pid; see
// SocketInodesStats.
func SocketInodes(root hostfs.Root) (map[uint64]int32, error) {
	m, _, err := SocketInodesStats(root)
	return m, err
}

// SocketInodesStats maps every socket inode open in any process to a pid, in
// one pass over /proc/<pid>/fd. Processes that exit during the pass and
// fds that are closed are skipped, as are processes whose fds cannot be
// read (EACCES); the stats say how many. Threads with their own fd table
// (clone without CLONE_FILES) are not visited. On ErrScanLimit the
// partial map is returned.
//
// It works with directory fds and reused buffers (openat, getdents,
// readlinkat) because this walk dominates the ListeningPorts snapshot
// (kernel-sources.md §4).
func SocketInodesStats(root hostfs.Root) (map[uint64]int32, ScanStats, error) {
	var st ScanStats
	proc, err := os.Open(root.Path("proc"))
	if err != nil {
		return nil, st, fmt.Errorf("socket inodes: %w", err)
	}
	defer proc.Close()
	pids, err := proc.Readdirnames(-1)
	if err != nil {
		return nil, st, fmt.Errorf("socket inodes: %w", err)
	}
	procFD := int(proc.Fd())
	out := make(map[uint64]int32)
	dirents := make([]byte, 32<<10)
	link := make([]byte, 64)
	var names []string
	for _, name := range pids {
		pid, err := strconv.ParseInt(name, 10, 32)
		if err != nil || pid <= 0 {
			continue
		}
		if st.Processes == maxScanPIDs {
			return out, st, fmt.Errorf("socket inodes: %w (%d processes)", ErrScanLimit, maxScanPIDs)
		}
		st.Processes++
		dfd, err := unix.Openat(procFD, name+"/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			st.count(err)
			continue
		}
		names, err = readDirNames(dfd, dirents, names[:0])
		if err != nil {
			st.count(err)
		}
		for _, fd := range names {
			if st.FDs == maxScanFDs {
				unix.Close(dfd)
				return out, st, fmt.Errorf("socket inodes: %w (%d fds)", ErrScanLimit, maxScanFDs)
			}
			st.FDs++
			n, err := unix.Readlinkat(dfd, fd, link)
			if err != nil {
				st.count(err)
				continue
			}
			if inode, ok := parseSocketLink(link[:n]); ok {
				addSocket(out, inode, int32(pid))
			}
		}
		unix.Close(dfd)
	}
	return out, st, nil
}

// readDirNames appends the entry names of the directory fd to names,
// reusing buf across calls.
func readDirNames(fd int, buf []byte, names []string) ([]string, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

func (s *ScanStats) count(err error) {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
		s.Vanished++
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		s.Denied++
	}
}
