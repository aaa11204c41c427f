package listening

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/container"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// Owner is the process holding a socket, as far as it could be read.
type Owner struct {
	PID         int32
	Exe         string
	CommandLine string
	// UserName is the name of the socket's uid (the kernel records the
	// creator's fsuid), which needs no process access.
	UserName      string
	ContainerID   string
	ContainerName string
	Module        string // IoT Edge module
}

// ownerLookup attributes sockets, by inode, to processes. Sockets without
// a known owner (a process whose fds the module may not read, a socket
// closed meanwhile) are missing from the map.
type ownerLookup interface {
	owners(inodes map[uint64]uint32) (map[uint64]Owner, error)
}

// procOwners walks /proc/*/fd once per snapshot (procfs.SocketInodes)
// and reads each owning process once. It needs CAP_SYS_PTRACE and
// CAP_DAC_READ_SEARCH for processes of other users (kernel-sources.md §3);
// without them those listeners are reported without a process.
type procOwners struct {
	root       hostfs.Root
	log        *logrus.Entry
	containers *container.Resolver

	mu     sync.Mutex
	reader *procfs.Reader // built on first use: it reads boot id and time
}

func newProcOwners(root hostfs.Root, log *logrus.Entry) *procOwners {
	return &procOwners{root: root, log: log, containers: container.NewResolver(root, container.Options{Logger: log})}
}

func (p *procOwners) procReader() (*procfs.Reader, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reader == nil {
		r, err := procfs.NewReader(p.root)
		if err != nil {
			return nil, err
		}
		p.reader = r
	}
	return p.reader, nil
}

// owners maps each inode of inodes (inode → socket uid) to its owner. A
// scan stopped at its bound still attributes what it found.
func (p *procOwners) owners(inodes map[uint64]uint32) (map[uint64]Owner, error) {
	reader, err := p.procReader()
	if err != nil {
		return nil, fmt.Errorf("socket owners: %w", err)
	}
	pids, stats, scanErr := procfs.SocketInodesStats(p.root)
	if pids == nil && scanErr != nil {
		return nil, scanErr
	}
	if stats.Denied > 0 {
		p.log.WithField("denied", stats.Denied).Debug("some processes' fds were not readable")
	}
	out := make(map[uint64]Owner, len(inodes))
	procs := make(map[int32]*procfs.Process)
	for inode, uid := range inodes {
		o := Owner{}
		if name, ok, err := reader.Users().Name(uid); err == nil && ok {
			o.UserName = name
		}
		pid, found := pids[inode]
		if !found {
			if o.UserName != "" {
				out[inode] = o
			}
			continue
		}
		o.PID = pid
		proc, seen := procs[pid]
		if !seen {
			// A process gone since the scan keeps its pid only.
			proc, _ = reader.ReadProcess(pid)
			procs[pid] = proc
		}
		if proc != nil {
			o.Exe, o.CommandLine = proc.Exe, proc.CommandLine
			if info, ok := p.containers.Lookup(proc.Cgroup); ok {
				o.ContainerID, o.ContainerName, o.Module = info.ID, info.Name, info.Module
			}
		}
		out[inode] = o
	}
	return out, scanErr
}

// details are the owner's ExtraDetails entries, leaving out unknowns.
func (o Owner) details(d map[string]string) {
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	if o.PID > 0 {
		d["Pid"] = strconv.FormatInt(int64(o.PID), 10)
	}
	set("Executable", o.Exe)
	set("CommandLine", o.CommandLine)
	set("UserName", o.UserName)
	set("ContainerId", o.ContainerID)
	set("ContainerName", o.ContainerName)
	set("IoTEdgeModule", o.Module)
}
