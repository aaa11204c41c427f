package connection

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// peekSocket reads the addresses and protocol of socket fd in process
// pid through a duplicate taken with pidfd_getfd (Linux 5.6; needs
// CAP_SYS_PTRACE over the process, as /proc/<pid>/fd does). The audit
// records carry only the address the process passed: not the local end
// of a connect, nor the peer of an accept called without an address.
// The duplicate is closed at once; it keeps the socket open only for the
// few microseconds of the three calls.
func peekSocket(pid int32, fd int) (local, remote netip.AddrPort, proto string, err error) {
	pidfd, err := unix.PidfdOpen(int(pid), 0)
	if err != nil {
		return local, remote, "", fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	sfd, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return local, remote, "", fmt.Errorf("pidfd_getfd %d/%d: %w", pid, fd, err)
	}
	defer unix.Close(sfd)
	p, err := unix.GetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err != nil {
		return local, remote, "", fmt.Errorf("SO_PROTOCOL: %w", err)
	}
	switch p {
	case unix.IPPROTO_TCP, unix.IPPROTO_MPTCP:
		// Go listens with MPTCP by default since 1.24; on the wire it is
		// TCP (or TCP subflows).
		proto = protoTCP
	case unix.IPPROTO_UDP:
		proto = protoUDP
	default:
		return local, remote, "", fmt.Errorf("protocol %d: %w", p, errNotConn)
	}
	if sa, err := unix.Getsockname(sfd); err == nil {
		local = addrPortOf(sa)
	}
	if sa, err := unix.Getpeername(sfd); err == nil {
		remote = addrPortOf(sa)
	}
	return local, remote, proto, nil
}

func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}
