// Package sockdiag lists the host's TCP and UDP sockets: from
// NETLINK_SOCK_DIAG (inet_diag), which needs no capability and filters by
// state in the kernel, or, as a fallback, from /proc/net/{tcp,tcp6,udp,
// udp6}, which walks every socket in text (kernel-sources.md §4).
//
// Both see the network namespace of the reading process: the sock_diag
// socket lives in the module's namespace, and <root>/proc/net is the
// kernel's symlink to self/net, i.e. the reader's namespace too, even
// under /host. They show the host's sockets only when the module runs
// with host networking (the deployment's NetworkMode "host").
package sockdiag

import (
	"errors"
	"fmt"
	"net/netip"
)

// Family is an address family, with Linux's values.
type Family uint8

// Address families.
const (
	IPv4 Family = 2  // AF_INET
	IPv6 Family = 10 // AF_INET6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "inet"
	case IPv6:
		return "inet6"
	}
	return fmt.Sprintf("Family(%d)", uint8(f))
}

// Protocol is an IP protocol number.
type Protocol uint8

// Protocols.
const (
	TCP Protocol = 6  // IPPROTO_TCP
	UDP Protocol = 17 // IPPROTO_UDP
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// State is a socket state, the kernel's TCP_* numbering, which UDP shares:
// an unconnected UDP socket is Close, a connected one Established.
type State uint8

// Socket states (include/net/tcp_states.h).
const (
	Established State = 1
	Close       State = 7
	Listen      State = 10
)

// StateMask selects states: bit n stands for State n.
type StateMask uint32

// AllStates selects every state.
const AllStates StateMask = 0xffffffff

// States returns the mask of the given states.
func States(s ...State) StateMask {
	var m StateMask
	for _, st := range s {
		m |= 1 << (st & 31)
	}
	return m
}

// Has reports whether s is selected.
func (m StateMask) Has(s State) bool { return s < 32 && m&(1<<s) != 0 }

// Socket is one TCP or UDP socket.
type Socket struct {
	Family   Family
	Protocol Protocol
	State    State
	Local    netip.AddrPort
	Remote   netip.AddrPort
	// Interface is the bound device index (SO_BINDTODEVICE or an IPv6
	// scope), 0 for none; /proc/net does not show it.
	Interface uint32
	// Cookie identifies the socket for its lifetime; 0 from /proc/net.
	Cookie uint64
	UID    uint32
	// Inode is the socket inode, the key to the owning process's fd.
	Inode uint64
}

// Request selects one dump: one family and protocol, some states.
type Request struct {
	Family   Family
	Protocol Protocol
	States   StateMask
}

// MaxSockets bounds one dump, so a host with millions of sockets costs a
// bounded amount of memory; the dump fails with ErrTooMany past it.
const MaxSockets = 1 << 20

// Errors.
var (
	// ErrMalformed is wrapped by every parse error on bad input.
	ErrMalformed = errors.New("malformed")
	// ErrTooMany means a dump held more than MaxSockets sockets.
	ErrTooMany = errors.New("too many sockets")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w %s", ErrMalformed, fmt.Sprintf(format, args...))
}
