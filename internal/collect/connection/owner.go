package connection

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/container"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

// owner is the process behind a connection, as far as /proc told.
type owner struct {
	exe, commandLine string
	argv             []string
	uid              uint32
	entityID         string
	container        container.Info
}

// owners is what the engine needs from the host besides the kernel event.
// hostOwners implements it over /proc and sock_diag.
type owners interface {
	// process reads pid, from a short-lived cache.
	process(pid int32, now time.Time) (owner, bool)
	userName(uid uint32) string
	// listener returns the pid holding the TCP listener on local's port,
	// 0 when none is known.
	listener(local netip.AddrPort, now time.Time) int32
	// socketPIDs maps open socket inodes to pids (one /proc/*/fd pass).
	socketPIDs() (map[uint64]int32, error)
}

// hostOwners reads the host. Its caches are bounded and reset when full:
// entries are cheap to read again.
type hostOwners struct {
	root       hostfs.Root
	rd         *procfs.Reader
	containers *container.Resolver
	size       int
	ttl        time.Duration

	mu        sync.Mutex
	procs     map[int32]cachedOwner
	ports     map[uint16]int32 // TCP listening port → pid
	portsRead time.Time
}

type cachedOwner struct {
	o  owner
	ok bool
	at time.Time
}

// listenerRescan bounds how often an unknown listening port makes the
// listeners and /proc/*/fd be read again.
const listenerRescan = 2 * time.Second

var _ owners = (*hostOwners)(nil)

func newHostOwners(root hostfs.Root, log *logrus.Entry, o Options) (*hostOwners, error) {
	rd, err := procfs.NewReader(root)
	if err != nil {
		return nil, fmt.Errorf("process reader: %w", err)
	}
	return &hostOwners{
		root: root, rd: rd, containers: container.NewResolver(root, container.Options{Logger: log}),
		size: o.OwnerCacheSize, ttl: o.OwnerTTL, procs: map[int32]cachedOwner{}, ports: map[uint16]int32{},
	}, nil
}

func (h *hostOwners) process(pid int32, now time.Time) (owner, bool) {
	h.mu.Lock()
	c, hit := h.procs[pid]
	h.mu.Unlock()
	if hit && now.Sub(c.at) < h.ttl {
		return c.o, c.ok
	}
	var o owner
	p, err := h.rd.ReadProcess(pid)
	ok := err == nil
	if ok {
		o = owner{exe: p.Exe, commandLine: p.CommandLine, argv: p.Argv, uid: p.UID, entityID: p.EntityID}
		o.container, _ = h.containers.Lookup(p.Cgroup)
	}
	h.mu.Lock()
	if len(h.procs) >= h.size {
		clear(h.procs)
	}
	h.procs[pid] = cachedOwner{o: o, ok: ok, at: now}
	h.mu.Unlock()
	return o, ok
}

func (h *hostOwners) userName(uid uint32) string {
	name, ok, err := h.rd.Users().Name(uid)
	if err != nil || !ok {
		return ""
	}
	return name
}

func (h *hostOwners) listener(local netip.AddrPort, now time.Time) int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if pid, ok := h.ports[local.Port()]; ok && now.Sub(h.portsRead) < h.ttl {
		return pid
	}
	if now.Sub(h.portsRead) < listenerRescan {
		return 0
	}
	h.portsRead = now
	clear(h.ports)
	inodes := map[uint64]uint16{}
	for _, f := range []sockdiag.Family{sockdiag.IPv4, sockdiag.IPv6} {
		socks, err := sockdiag.Dump(sockdiag.Request{Family: f, Protocol: sockdiag.TCP, States: sockdiag.States(sockdiag.Listen)}, nil)
		if err != nil {
			continue
		}
		for _, s := range socks {
			inodes[s.Inode] = s.Local.Port()
		}
	}
	pids, err := procfs.SocketInodes(h.root)
	if pids == nil && err != nil {
		return 0
	}
	for inode, port := range inodes {
		if pid, ok := pids[inode]; ok && len(h.ports) < h.size {
			h.ports[port] = pid
		}
	}
	return h.ports[local.Port()]
}

func (h *hostOwners) socketPIDs() (map[uint64]int32, error) {
	return procfs.SocketInodes(h.root)
}
