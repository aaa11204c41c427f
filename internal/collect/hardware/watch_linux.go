package hardware

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// kernelGroup is the multicast group of the kernel's own uevents
	// (udevd re-broadcasts on group 2, in another format).
	kernelGroup = 1
	// maxPendingChanges bounds the changes waiting for trigger. Dropping
	// one loses nothing: a change still queued triggers a snapshot that
	// starts after the dropped one happened, and sees it.
	maxPendingChanges = 64
	// rcvBufBytes rides out a burst such as a hub with many devices.
	rcvBufBytes = 1 << 20
)

// ActionResync is the Action of a Change sent when the kernel dropped
// uevents because the socket buffer was full: something may have changed.
const ActionResync = "resync"

// WatchChanges reads the kernel's hot-plug uevents until ctx is done and calls
// trigger, from one goroutine, for each USB device, PCI function, disk,
// network interface or serial port added or removed. trigger should start
// an out-of-schedule Collect; that snapshot marks what changed. Watch
// needs no capability, but only sees devices of the host's network
// namespace (the kernel sends uevents to the initial one).
func (c *Collector) WatchChanges(ctx context.Context, trigger func(Change)) error {
	conn, err := listenUevents(kernelGroup)
	if err != nil {
		return err
	}
	return c.watch(ctx, conn, trigger)
}

func (c *Collector) watch(parent context.Context, conn *ueventConn, trigger func(Change)) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// Closing the socket is what ends a blocked read.
	stop := context.AfterFunc(ctx, func() { conn.f.Close() })
	defer stop()
	defer conn.f.Close()

	changes := make(chan Change, maxPendingChanges)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ch := <-changes:
				trigger(ch)
			}
		}
	}()
	err := c.readUevents(conn, changes)
	cancel()
	wg.Wait()
	if parent.Err() != nil {
		return nil // the read failed because ctx closed the socket
	}
	return err
}

// readUevents reads until the socket fails or is closed, queueing the
// changes and counting everything else.
func (c *Collector) readUevents(conn *ueventConn, changes chan<- Change) error {
	buf := make([]byte, maxUevent+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	count := func(result string) { c.metrics.uevents.WithLabelValues(result).Inc() }
	queue := func(ch Change) {
		select {
		case changes <- ch:
			count(ueventTrigger)
		default:
			count(ueventDropped)
		}
	}
	for {
		n, oobn, flags, from, err := conn.read(buf, oob)
		if errors.Is(err, unix.ENOBUFS) {
			count(ueventLost)
			queue(Change{Action: ActionResync})
			continue
		}
		if err != nil {
			return fmt.Errorf("read uevent: %w", err)
		}
		if !conn.trusted(from, senderUID(oob[:oobn])) {
			count(ueventRejected)
			continue
		}
		if flags&unix.MSG_TRUNC != 0 || n > maxUevent {
			count(ueventMalformed)
			continue
		}
		u, err := parseUevent(buf[:n])
		if err != nil {
			count(ueventMalformed)
			c.log.WithError(err).Debug("skipping uevent")
			continue
		}
		ch, ok := u.change()
		if !ok {
			count(ueventIgnored)
			continue
		}
		queue(ch)
	}
}

// ueventConn is a NETLINK_KOBJECT_UEVENT socket on the runtime poller, so
// that closing it ends a blocked read.
type ueventConn struct {
	f    *os.File
	rc   syscall.RawConn
	port uint32
	// trusted decides whom messages are accepted from: by default the
	// kernel only (port 0, uid 0). A root process may unicast to our port;
	// only tests accept that.
	trusted func(port uint32, uid int64) bool
}

func kernelOnly(port uint32, uid int64) bool { return port == 0 && uid == 0 }

func listenUevents(groups uint32) (*ueventConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent socket: %w", err)
	}
	setup := func() error {
		// The sender's credentials come with each message (SO_PASSCRED).
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
			return fmt.Errorf("uevent socket: SO_PASSCRED: %w", err)
		}
		// FORCE passes the rmem_max cap with CAP_NET_ADMIN; without it the
		// capped size is still better than the default.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBufBytes) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBufBytes)
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
			return fmt.Errorf("uevent socket: bind: %w", err)
		}
		return nil
	}
	if err := setup(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("uevent socket: getsockname: %w", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		unix.Close(fd)
		return nil, fmt.Errorf("uevent socket: unexpected address %T", sa)
	}
	f := os.NewFile(uintptr(fd), "uevent")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("uevent socket: %w", err)
	}
	return &ueventConn{f: f, rc: rc, port: nl.Pid, trusted: kernelOnly}, nil
}

// read receives one message; port is the sender's netlink port id.
func (c *ueventConn) read(buf, oob []byte) (n, oobn, flags int, port uint32, err error) {
	var from unix.Sockaddr
	var rerr error
	err = c.rc.Read(func(fd uintptr) bool {
		n, oobn, flags, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_TRUNC)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if rerr != nil {
		return 0, 0, 0, 0, rerr
	}
	nl, ok := from.(*unix.SockaddrNetlink)
	if !ok {
		return 0, 0, 0, 0, fmt.Errorf("unexpected sender address %T", from)
	}
	return n, oobn, flags, nl.Pid, nil
}

// senderUID is the uid in an SCM_CREDENTIALS message, -1 without one.
func senderUID(oob []byte) int64 {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1
	}
	for i := range msgs {
		if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
			return int64(cred.Uid)
		}
	}
	return -1
}
