package listening

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

// requests are the four dumps of a snapshot. The state filters run in the
// kernel: TCP LISTEN, and UDP CLOSE, which is what an unconnected UDP
// socket reports (a connected one is ESTABLISHED).
var requests = []sockdiag.Request{
	{Family: sockdiag.IPv4, Protocol: sockdiag.TCP, States: sockdiag.States(sockdiag.Listen)},
	{Family: sockdiag.IPv6, Protocol: sockdiag.TCP, States: sockdiag.States(sockdiag.Listen)},
	{Family: sockdiag.IPv4, Protocol: sockdiag.UDP, States: sockdiag.States(sockdiag.Close)},
	{Family: sockdiag.IPv6, Protocol: sockdiag.UDP, States: sockdiag.States(sockdiag.Close)},
}

// Sources of the socket list, a closed label set.
const (
	sourceSockDiag = "sock_diag"
	sourceProcNet  = "proc_net"
)

// socketLister lists the sockets of the module's network namespace.
type socketLister interface {
	list() ([]sockdiag.Socket, string, error)
}

// hostSockets lists from sock_diag and falls back to /proc/net, per dump,
// so that a kernel without udp_diag still gets TCP from sock_diag.
type hostSockets struct {
	root hostfs.Root
	// dump is sockdiag.Dump; tests replace it to exercise the fallback.
	dump func(sockdiag.Request, []sockdiag.Socket) ([]sockdiag.Socket, error)
}

func newHostSockets(root hostfs.Root) hostSockets {
	return hostSockets{root: root, dump: sockdiag.Dump}
}

func (h hostSockets) list() ([]sockdiag.Socket, string, error) {
	var out []sockdiag.Socket
	source := sourceSockDiag
	for _, req := range requests {
		n := len(out)
		var err error
		if out, err = h.dump(req, out); err == nil {
			continue
		}
		out = out[:n]
		source = sourceProcNet
		var ferr error
		if out, ferr = sockdiag.ReadProcNet(h.root, req, out); ferr != nil {
			return nil, source, fmt.Errorf("list %s/%s sockets: %w (fallback: %w)", req.Protocol, req.Family, err, ferr)
		}
	}
	return filterListening(out), source, nil
}

// filterListening keeps TCP listeners and bound, unconnected UDP sockets.
// The kernel filter already did most of it; this also covers /proc/net
// and a UDP socket whose connect() was undone with AF_UNSPEC.
func filterListening(socks []sockdiag.Socket) []sockdiag.Socket {
	return slices.DeleteFunc(socks, func(s sockdiag.Socket) bool {
		switch s.Protocol {
		case sockdiag.TCP:
			return s.State != sockdiag.Listen
		case sockdiag.UDP:
			return s.State != sockdiag.Close || s.Local.Port() == 0 || s.Remote.Port() != 0
		}
		return true
	})
}

// protocolName is the payload's Protocol: the retired agents' lower-case
// tcp/tcp6/udp/udp6 (the /proc/net file the socket is listed in). A
// tcp6 listener on :: also accepts IPv4 unless it set IPV6_V6ONLY.
func protocolName(s sockdiag.Socket) string {
	p := s.Protocol.String()
	if s.Family == sockdiag.IPv6 {
		p += "6"
	}
	return p
}

// key identifies a listener across snapshots: a restarted service gets a
// new socket inode, so it shows as removed and added (a different
// process may now hold the port).
type key struct {
	Protocol string
	Addr     netip.Addr
	Port     uint16
	Inode    uint64
}

func (k key) String() string {
	return strings.Join([]string{k.Protocol, k.Addr.String(), strconv.Itoa(int(k.Port)), strconv.FormatUint(k.Inode, 10)}, " ")
}

func keyOf(s sockdiag.Socket) key {
	return key{protocolName(s), s.Local.Addr(), s.Local.Port(), s.Inode}
}

func compareKeys(a, b key) int {
	if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	if a.Port != b.Port {
		return int(a.Port) - int(b.Port)
	}
	switch {
	case a.Inode < b.Inode:
		return -1
	case a.Inode > b.Inode:
		return 1
	}
	return 0
}
