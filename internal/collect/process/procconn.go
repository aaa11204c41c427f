package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Proc connector messages (linux/cn_proc.h, linux/connector.h). A
// datagram is nlmsghdr (16) + cn_msg (20) + proc_event; the event header
// is what u32, cpu u32, timestamp_ns u64, then the event data.
const (
	nlHdrLen    = 16
	cnMsgLen    = 20
	procEvHdr   = 16
	cnIdxProc   = 1
	cnValProc   = 1
	procCnFork  = 0x00000001
	procCnExec  = 0x00000002
	procCnExit  = 0x80000000
	procCnNone  = 0
	nlmsgDone   = 3
	nlmsgError  = 2
	nlmsgNoop   = 1
	cnOpListen  = 1
	cnOpIgnore  = 2
	minCnDgram  = nlHdrLen + cnMsgLen + procEvHdr
	forkDataLen = 16
	execDataLen = 8
	exitDataLen = 16
)

// cnEvent is a decoded proc connector event.
type cnEvent struct {
	What       uint32
	TimeNs     uint64
	PID, TGID  int32 // child for fork
	ParentPID  int32 // fork: parent pid; exit: parent tgid (kernels ≥ 5.x)
	ParentTGID int32
	ExitCode   uint32
	ExitSignal uint32
}

var errCnMessage = errors.New("malformed proc connector message")

// parseCnMessages decodes the proc events of one datagram, skipping
// events of other kinds (uid, sid, comm, ptrace, coredump). Byte order is
// the host's: the kernel writes in its own.
func parseCnMessages(b []byte, dst []cnEvent) ([]cnEvent, error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlHdrLen {
			return dst, fmt.Errorf("%w: %d trailing bytes", errCnMessage, len(b))
		}
		l := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if l < nlHdrLen || l > len(b) {
			return dst, fmt.Errorf("%w: netlink length %d of %d", errCnMessage, l, len(b))
		}
		msg := b[nlHdrLen:l]
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
		switch typ {
		case nlmsgNoop:
			continue
		case nlmsgError:
			return dst, fmt.Errorf("%w: netlink error message", errCnMessage)
		}
		ev, ok, err := parseCnMsg(msg)
		if err != nil {
			return dst, err
		}
		if ok {
			dst = append(dst, ev)
		}
	}
	return dst, nil
}

func parseCnMsg(m []byte) (cnEvent, bool, error) {
	ne := binary.NativeEndian
	var ev cnEvent
	if len(m) < cnMsgLen {
		return ev, false, fmt.Errorf("%w: cn_msg of %d bytes", errCnMessage, len(m))
	}
	idx, val := ne.Uint32(m[0:]), ne.Uint32(m[4:])
	dlen := int(ne.Uint16(m[16:]))
	if idx != cnIdxProc || val != cnValProc {
		return ev, false, nil
	}
	d := m[cnMsgLen:]
	if dlen > len(d) {
		return ev, false, fmt.Errorf("%w: cn_msg len %d of %d", errCnMessage, dlen, len(d))
	}
	d = d[:dlen]
	if len(d) < procEvHdr {
		return ev, false, fmt.Errorf("%w: proc_event of %d bytes", errCnMessage, len(d))
	}
	ev.What = ne.Uint32(d[0:])
	ev.TimeNs = ne.Uint64(d[8:])
	d = d[procEvHdr:]
	i32 := func(off int) int32 { return int32(ne.Uint32(d[off:])) }
	need := map[uint32]int{procCnFork: forkDataLen, procCnExec: execDataLen, procCnExit: exitDataLen}[ev.What]
	if need == 0 {
		return ev, false, nil
	}
	if len(d) < need {
		return ev, false, fmt.Errorf("%w: event %#x data of %d bytes", errCnMessage, ev.What, len(d))
	}
	switch ev.What {
	case procCnFork:
		ev.ParentPID, ev.ParentTGID, ev.PID, ev.TGID = i32(0), i32(4), i32(8), i32(12)
	case procCnExec:
		ev.PID, ev.TGID = i32(0), i32(4)
	case procCnExit:
		ev.PID, ev.TGID = i32(0), i32(4)
		ev.ExitCode, ev.ExitSignal = ne.Uint32(d[8:]), ne.Uint32(d[12:])
		if len(d) >= exitDataLen+8 {
			ev.ParentPID, ev.ParentTGID = i32(16), i32(20)
		}
	}
	return ev, true, nil
}

// cnListenRequest is the datagram that subscribes (op LISTEN) or
// unsubscribes (op IGNORE) to process events.
func cnListenRequest(op uint32, pid uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlHdrLen+cnMsgLen+4)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nlmsgDone)
	ne.PutUint32(b[12:], pid)
	c := b[nlHdrLen:]
	ne.PutUint32(c[0:], cnIdxProc)
	ne.PutUint32(c[4:], cnValProc)
	ne.PutUint16(c[16:], 4)
	ne.PutUint32(c[cnMsgLen:], op)
	return b
}

// cnRaw converts a connector event, reading /proc right away for an exec.
func cnRaw(ev cnEvent, now time.Time, enr enricher) (rawEvent, bool) {
	if ev.PID != ev.TGID {
		return rawEvent{}, false // a thread, not a process
	}
	switch ev.What {
	case procCnFork:
		return rawEvent{kind: rawFork, time: now, pid: ev.TGID, ppid: ev.ParentTGID}, true
	case procCnExit:
		return rawEvent{kind: rawExit, time: now, pid: ev.TGID, ppid: ev.ParentTGID, waitStatus: ev.ExitCode, exitKnown: true}, true
	case procCnExec:
		r := rawEvent{kind: rawExec, time: now, pid: ev.TGID}
		if p, err := enr.readProcess(ev.TGID); err == nil {
			r.proc, r.ppid, r.startTicks = p, p.PPID, p.StartTicks
			r.uid, r.uidKnown = p.UID, true
			r.exe = p.Exe
			r.argv, r.argvKnown = p.Argv, p.Argv != nil
		}
		return r, true
	}
	return rawEvent{}, false
}
