package connection

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Layout of struct event in bpf/conn.c.
const (
	bpfEventLen = 80

	bpfDirOut = 1
	bpfDirIn  = 2

	bpfFlagOwnerUnknown = 1

	afInet  = 2
	afInet6 = 10
)

// bpfEvent is a decoded ring-buffer record.
type bpfEvent struct {
	KtimeNs       uint64
	PID, TID, UID uint32
	Family        uint16
	Sport, Dport  uint16
	Direction     uint8
	Flags         uint8
	Comm          string
	Local, Remote netip.Addr
}

var errBPFRecord = errors.New("malformed eBPF connection event")

// parseBPFEvent decodes one ring-buffer record (little-endian: the object
// is built for bpfel targets only).
func parseBPFEvent(b []byte) (bpfEvent, error) {
	var e bpfEvent
	if len(b) < bpfEventLen {
		return e, fmt.Errorf("%w: %d bytes", errBPFRecord, len(b))
	}
	le := binary.LittleEndian
	e.KtimeNs = le.Uint64(b[0:])
	e.PID = le.Uint32(b[8:])
	e.TID = le.Uint32(b[12:])
	e.UID = le.Uint32(b[16:])
	e.Family = le.Uint16(b[20:])
	e.Sport = le.Uint16(b[22:])
	e.Dport = le.Uint16(b[24:])
	e.Direction = b[26]
	e.Flags = b[27]
	e.Comm = cString(b[28:44])
	switch e.Family {
	case afInet:
		e.Local = netip.AddrFrom4([4]byte(b[44:48]))
		e.Remote = netip.AddrFrom4([4]byte(b[60:64]))
	case afInet6:
		e.Local = netip.AddrFrom16([16]byte(b[44:60]))
		e.Remote = netip.AddrFrom16([16]byte(b[60:76]))
	default:
		return e, fmt.Errorf("%w: family %d", errBPFRecord, e.Family)
	}
	if e.Direction != bpfDirOut && e.Direction != bpfDirIn {
		return e, fmt.Errorf("%w: direction %d", errBPFRecord, e.Direction)
	}
	return e, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// raw converts a decoded record; bootWall is the wall-clock time of
// CLOCK_BOOTTIME zero.
func (e bpfEvent) raw(bootWall time.Time) rawConn {
	c := rawConn{
		time:   bootWall.Add(time.Duration(e.KtimeNs)),
		dir:    dirOut,
		proto:  protoTCP,
		local:  netip.AddrPortFrom(e.Local, e.Sport),
		remote: netip.AddrPortFrom(e.Remote, e.Dport),
	}
	if e.Direction == bpfDirIn {
		c.dir = dirIn
	}
	if e.Flags&bpfFlagOwnerUnknown == 0 {
		c.pid, c.uid, c.uidKnown, c.comm = int32(e.PID), e.UID, true, e.Comm
	}
	return c
}
