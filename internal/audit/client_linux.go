package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const nlgrpReadlog = 1 // AUDIT_NLGRP_READLOG

// ErrOverrun means the kernel dropped records because our socket buffer
// was full (ENOBUFS); the reader keeps working.
var ErrOverrun = errors.New("audit: socket receive buffer overrun")

// errTimeout is a receive timeout: no record within the poll interval.
var errTimeout = errors.New("audit: receive timeout")

// Reader receives the records the kernel multicasts to AUDIT_NLGRP_READLOG
// (needs CAP_AUDIT_READ). It never becomes the audit daemon.
type Reader struct {
	fd  int
	buf []byte
}

// OpenReader joins the read-log multicast group with a receive buffer of
// rcvbuf bytes (forced when CAP_NET_ADMIN allows).
func OpenReader(rcvbuf int) (*Reader, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("audit socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (nlgrpReadlog - 1)}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit multicast bind (needs CAP_AUDIT_READ): %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	// A timeout lets Receive callers notice cancellation.
	tv := unix.NsecToTimeval((250 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit socket timeout: %w", err)
	}
	return &Reader{fd: fd, buf: make([]byte, 1<<16)}, nil
}

// Receive returns the messages of the next datagram; they alias an
// internal buffer valid until the next call. It returns (nil, nil) after
// a quiet poll interval, and ErrOverrun when records were lost.
func (r *Reader) Receive() ([]Message, error) {
	n, _, err := unix.Recvfrom(r.fd, r.buf, 0)
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		return nil, nil
	case errors.Is(err, unix.ENOBUFS):
		return nil, ErrOverrun
	case err != nil:
		return nil, fmt.Errorf("audit receive: %w", err)
	}
	return ParseNetlink(r.buf[:n])
}

// Close closes the socket.
func (r *Reader) Close() error { return unix.Close(r.fd) }

// Control sends requests (status, rules) to the kernel; it needs
// CAP_AUDIT_CONTROL in the initial user namespace.
type Control struct {
	fd  int
	seq atomic.Uint32
}

// OpenControl opens a unicast audit socket.
func OpenControl() (*Control, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("audit socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit bind: %w", err)
	}
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit socket timeout: %w", err)
	}
	return &Control{fd: fd}, nil
}

// Close closes the socket.
func (c *Control) Close() error { return unix.Close(c.fd) }

// Reply shapes of request.
const (
	untilAck   = iota // the ack ends the exchange
	untilReply        // a reply of the request's type, which the kernel sends from a thread, after the ack
	untilDone         // a dump: replies up to NLMSG_DONE
)

// request sends one message with NLM_F_REQUEST|NLM_F_ACK and returns the
// replies, reading as far as until says.
func (c *Control) request(typ uint16, data []byte, until int) ([]Message, error) {
	seq := c.seq.Add(1)
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	b := make([]byte, nlmsgHdrLen+len(data))
	putHeader(b, uint32(len(b)), typ, flags, seq)
	copy(b[nlmsgHdrLen:], data)
	if err := unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("audit request %d: %w", typ, err)
	}
	var out []Message
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				err = errTimeout
			}
			return out, fmt.Errorf("audit request %d: %w", typ, err)
		}
		msgs, err := ParseNetlink(buf[:n])
		if err != nil {
			return out, fmt.Errorf("audit request %d: %w", typ, err)
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			switch m.Type {
			case unix.NLMSG_ERROR:
				if e := nlError(m.Data); e != nil {
					return out, fmt.Errorf("audit request %d: %w", typ, e)
				}
				if until == untilAck {
					return out, nil
				}
			case unix.NLMSG_DONE:
				return out, nil
			default:
				out = append(out, Message{Type: m.Type, Seq: m.Seq, Data: append([]byte(nil), m.Data...)})
				if until == untilReply && m.Type == typ {
					return out, nil
				}
			}
		}
	}
}

func nlError(b []byte) error {
	if len(b) < 4 {
		return ErrTruncated
	}
	code := int32(binary.NativeEndian.Uint32(b))
	if code == 0 {
		return nil
	}
	return syscall.Errno(-code)
}

// Status reads the kernel's audit status.
func (c *Control) Status() (Status, error) {
	msgs, err := c.request(TypeGet, nil, untilReply)
	if err != nil {
		return Status{}, err
	}
	for _, m := range msgs {
		if m.Type == TypeGet {
			return ParseStatus(m.Data)
		}
	}
	return Status{}, fmt.Errorf("audit status: no reply")
}

// SetEnabled switches auditing on (1) or off (0).
func (c *Control) SetEnabled(v uint32) error {
	_, err := c.request(TypeSet, Status{Mask: statusEnabled, Enabled: v}.marshal(), untilAck)
	return err
}

// AddRule installs an encoded rule.
func (c *Control) AddRule(rule []byte) error {
	_, err := c.request(TypeAddRule, rule, untilAck)
	return err
}

// DeleteRule removes an encoded rule.
func (c *Control) DeleteRule(rule []byte) error {
	_, err := c.request(TypeDelRule, rule, untilAck)
	return err
}

// Rules lists the installed rules, encoded.
func (c *Control) Rules() ([][]byte, error) {
	msgs, err := c.request(TypeListRules, nil, untilDone)
	var rules [][]byte
	for _, m := range msgs {
		if m.Type == TypeListRules {
			rules = append(rules, m.Data)
		}
	}
	return rules, err
}

// ExecRules installs exec rules keyed key for the native (and, where the
// kernel has one, compat) ABI and switches auditing on if it was off. The
// returned undo removes exactly what was added; auditing goes off again
// only when no rule is left, so another collector's rules keep working.
// Call it on every exit path.
func (c *Control) ExecRules(key string) (undo func() error, err error) {
	machine, err := KernelMachine()
	if err != nil {
		return nil, err
	}
	arches := execArches(machine)
	if len(arches) == 0 {
		return nil, fmt.Errorf("exec audit rules: unsupported machine %q", machine)
	}
	rules := make([][]byte, 0, len(arches))
	for _, a := range arches {
		rule, err := ExecRule(a, key)
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule)
	}
	return c.InstallRules(rules)
}

// IsPermission reports whether err is a refusal for lack of privilege or
// namespace (EPERM, EACCES, ECONNREFUSED from a user namespace).
func IsPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EPROTONOSUPPORT)
}
