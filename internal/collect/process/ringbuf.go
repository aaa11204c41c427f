package process

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Layout of struct event in bpf/exec.c: a fixed header, then (exec only)
// the filename and args_len bytes of argv.
const (
	bpfHeaderLen   = 72 // offsetof(struct event, filename)
	bpfFilenameLen = 256
	bpfArgsMax     = 4096
	bpfExecFixed   = bpfHeaderLen + bpfFilenameLen

	bpfTypeExec = 1
	bpfTypeExit = 2
	bpfTypeFork = 3

	bpfFlagArgsTruncated  = 1
	bpfFlagArgsUnreadable = 2
)

// bpfEvent is a decoded ring-buffer record.
type bpfEvent struct {
	KtimeNs, StartBootNs, CgroupID uint64
	Type, PID, TID, PPID, UID      uint32
	ExitCode, ArgsLen, Flags       uint32
	Comm                           string
	Filename                       string
	Argv                           []string
}

var errBPFRecord = errors.New("malformed eBPF event")

// parseBPFEvent decodes one ring-buffer record (little-endian: the object
// is built for bpfel targets only).
func parseBPFEvent(b []byte) (bpfEvent, error) {
	var e bpfEvent
	if len(b) < bpfHeaderLen {
		return e, fmt.Errorf("%w: %d bytes", errBPFRecord, len(b))
	}
	le := binary.LittleEndian
	e.KtimeNs = le.Uint64(b[0:])
	e.StartBootNs = le.Uint64(b[8:])
	e.CgroupID = le.Uint64(b[16:])
	e.Type = le.Uint32(b[24:])
	e.PID = le.Uint32(b[28:])
	e.TID = le.Uint32(b[32:])
	e.PPID = le.Uint32(b[36:])
	e.UID = le.Uint32(b[40:])
	e.ExitCode = le.Uint32(b[44:])
	e.ArgsLen = le.Uint32(b[48:])
	e.Flags = le.Uint32(b[52:])
	e.Comm = cString(b[56:72])
	switch e.Type {
	case bpfTypeFork, bpfTypeExit:
		return e, nil
	case bpfTypeExec:
	default:
		return e, fmt.Errorf("%w: type %d", errBPFRecord, e.Type)
	}
	if len(b) < bpfExecFixed {
		return e, fmt.Errorf("%w: exec record of %d bytes", errBPFRecord, len(b))
	}
	e.Filename = cString(b[bpfHeaderLen:bpfExecFixed])
	if e.ArgsLen > bpfArgsMax || int(e.ArgsLen) > len(b)-bpfExecFixed {
		return e, fmt.Errorf("%w: args_len %d of %d bytes", errBPFRecord, e.ArgsLen, len(b)-bpfExecFixed)
	}
	e.Argv = splitArgs(b[bpfExecFixed:bpfExecFixed+int(e.ArgsLen)], e.Flags&bpfFlagArgsTruncated != 0)
	return e, nil
}

// splitArgs splits the NUL-separated argv area. A truncated area ends in
// the middle of an argument, which is kept as the (partial) last one.
func splitArgs(b []byte, truncated bool) []string {
	if len(b) == 0 {
		return nil
	}
	if !truncated {
		b = bytes.TrimSuffix(b, []byte{0})
	}
	// One copy of the area; the arguments are slices of it.
	s := string(b)
	argv := make([]string, 0, bytes.Count(b, []byte{0})+1)
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(argv, s)
		}
		argv, s = append(argv, s[:i]), s[i+1:]
	}
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// nsPerTick converts boot-time nanoseconds to USER_HZ (100) ticks, as
// /proc/<pid>/stat's starttime does.
const nsPerTick = 10_000_000

// raw converts a decoded ring-buffer record.
func (e bpfEvent) raw(bootWall time.Time) rawEvent {
	r := rawEvent{
		time:       bootWall.Add(time.Duration(e.KtimeNs)),
		pid:        int32(e.PID),
		ppid:       int32(e.PPID),
		uid:        e.UID,
		uidKnown:   true,
		startTicks: e.StartBootNs / nsPerTick,
		cgroupID:   e.CgroupID,
	}
	switch e.Type {
	case bpfTypeFork:
		r.kind = rawFork
	case bpfTypeExit:
		r.kind = rawExit
		r.waitStatus, r.exitKnown = e.ExitCode, true
		if e.KtimeNs > e.StartBootNs {
			r.lifetime = time.Duration(e.KtimeNs - e.StartBootNs)
		}
	case bpfTypeExec:
		r.kind = rawExec
		r.exe = e.Filename
		r.argv, r.argvKnown = e.Argv, e.Flags&bpfFlagArgsUnreadable == 0
		r.argvTruncated = e.Flags&bpfFlagArgsTruncated != 0
	}
	return r
}
