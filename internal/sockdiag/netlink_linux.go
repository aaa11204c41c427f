package sockdiag

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// recvBufBytes bounds one read. The kernel fills a dump datagram up
	// to the reader's buffer, so 32 KiB takes about 350 sockets a read.
	recvBufBytes = 32 << 10
	// dumpTimeout bounds a dump the kernel never finishes; a dump of a
	// million sockets takes about a second.
	dumpTimeout = 10 * time.Second
)

// seqCounter numbers requests so that replies can be checked.
var seqCounter atomic.Uint32

// Dump lists the sockets req selects, appending them to dst. It opens a
// NETLINK_SOCK_DIAG socket in the caller's network namespace for the one
// dump; the kernel applies the state filter, so a dump of listeners
// costs little on a host with many connections.
func Dump(req Request, dst []Socket) ([]Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return dst, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(dumpTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return dst, fmt.Errorf("sock_diag timeout: %w", err)
	}
	seq := seqCounter.Add(1)
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Sendto(fd, marshalRequest(req, seq), 0, kernel); err != nil {
		return dst, fmt.Errorf("sock_diag %s/%s request: %w", req.Protocol, req.Family, err)
	}
	buf := make([]byte, recvBufBytes)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return dst, fmt.Errorf("sock_diag %s/%s receive: %w", req.Protocol, req.Family, err)
		}
		var done bool
		dst, done, err = parseDump(buf[:n], seq, req.Protocol, dst)
		if err != nil {
			return dst, fmt.Errorf("sock_diag %s/%s: %w", req.Protocol, req.Family, err)
		}
		if done {
			return dst, nil
		}
		if n == 0 {
			return dst, fmt.Errorf("sock_diag %s/%s: %w empty datagram", req.Protocol, req.Family, ErrMalformed)
		}
	}
}
