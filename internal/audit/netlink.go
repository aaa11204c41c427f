package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Message is one netlink message: an audit record type and its payload.
type Message struct {
	Type uint16
	Seq  uint32
	Data []byte
}

const nlmsgHdrLen = 16

// ErrTruncated reports a netlink buffer whose lengths do not add up.
var ErrTruncated = errors.New("netlink: truncated message")

// ParseNetlink splits one datagram into messages. Data aliases b.
//
// Unicast records to a registered daemon carry a length that excludes the
// header (a kernel quirk); a length shorter than the header is taken as
// that form and the rest of the datagram is the record.
func ParseNetlink(b []byte) ([]Message, error) {
	var msgs []Message
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		seq := binary.NativeEndian.Uint32(b[8:12])
		switch {
		case l < nlmsgHdrLen:
			return append(msgs, Message{Type: typ, Seq: seq, Data: b[nlmsgHdrLen:]}), nil
		case l > len(b):
			return msgs, fmt.Errorf("%w: length %d of %d bytes", ErrTruncated, l, len(b))
		}
		msgs = append(msgs, Message{Type: typ, Seq: seq, Data: b[nlmsgHdrLen:l]})
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	if len(b) != 0 {
		return msgs, fmt.Errorf("%w: %d trailing bytes", ErrTruncated, len(b))
	}
	return msgs, nil
}

// Status is the head of struct audit_status (the fields every kernel has).
type Status struct {
	Mask, Enabled, Failure, PID, RateLimit, BacklogLimit, Lost, Backlog uint32
}

const statusLen = 8 * 4

// ParseStatus decodes an AUDIT_GET reply.
func ParseStatus(b []byte) (Status, error) {
	if len(b) < statusLen {
		return Status{}, fmt.Errorf("audit status: %w: %d bytes", ErrTruncated, len(b))
	}
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(b[4*i:]) }
	return Status{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)}, nil
}

func (s Status) marshal() []byte {
	b := make([]byte, statusLen)
	for i, v := range []uint32{s.Mask, s.Enabled, s.Failure, s.PID, s.RateLimit, s.BacklogLimit, s.Lost, s.Backlog} {
		binary.NativeEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// Status mask bits for AUDIT_SET.
const (
	statusEnabled      = 0x1
	statusBacklogLimit = 0x10
)

// Rule constants (linux/audit.h).
const (
	filterExit   = 0x04
	actionAlways = 2
	fieldArch    = 11
	fieldKey     = 210
	opEqual      = 0x40000000
	maxRuleKey   = 256
	ruleWords    = 64
)

// Arch is an audit architecture with its exec syscall numbers.
type Arch struct {
	ID      uint32
	Syscall []int
}

// ExecRule encodes an audit_rule_data for "-a always,exit -F arch=A -S
// execve,execveat -k key".
func ExecRule(a Arch, key string) ([]byte, error) {
	if len(key) == 0 || len(key) > maxRuleKey {
		return nil, fmt.Errorf("audit rule key %q: want 1..%d bytes", key, maxRuleKey)
	}
	b := make([]byte, 12+4*ruleWords*4+4, 12+4*ruleWords*4+4+len(key))
	put := func(off int, v uint32) { binary.NativeEndian.PutUint32(b[off:], v) }
	const maskOff, fieldsOff, valuesOff, flagsOff = 12, 12 + 4*ruleWords, 12 + 8*ruleWords, 12 + 12*ruleWords
	put(0, filterExit)
	put(4, actionAlways)
	put(8, 2) // field_count
	for _, s := range a.Syscall {
		if s < 0 || s >= 32*ruleWords {
			return nil, fmt.Errorf("audit rule: syscall %d out of range", s)
		}
		off := maskOff + 4*(s/32)
		put(off, binary.NativeEndian.Uint32(b[off:])|1<<(s%32))
	}
	put(fieldsOff, fieldArch)
	put(valuesOff, a.ID)
	put(flagsOff, opEqual)
	put(fieldsOff+4, fieldKey)
	put(valuesOff+4, uint32(len(key)))
	put(flagsOff+4, opEqual)
	put(12+16*ruleWords, uint32(len(key))) // buflen
	return append(b, key...), nil
}

// RuleKey returns the key of an encoded rule (as from AUDIT_LIST_RULES),
// or "" when it has none.
func RuleKey(b []byte) (string, error) {
	const head = 12 + 16*ruleWords + 4
	if len(b) < head {
		return "", fmt.Errorf("audit rule: %w: %d bytes", ErrTruncated, len(b))
	}
	u := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	n := int(u(8))
	if n > ruleWords {
		return "", fmt.Errorf("audit rule: %d fields", n)
	}
	buf := b[head:]
	if int(u(head-4)) < len(buf) {
		buf = buf[:u(head-4)]
	}
	off := 0
	for i := 0; i < n; i++ {
		field, val := u(12+4*ruleWords+4*i), int(u(12+8*ruleWords+4*i))
		switch field {
		case fieldKey:
			if off+val > len(buf) || val < 0 {
				return "", fmt.Errorf("audit rule: %w: key", ErrTruncated)
			}
			return string(buf[off : off+val]), nil
		case 13, 14, 15, 16, 17, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118:
			// String-valued fields (SE*, watch, dir, filterkey family):
			// their value is a length into buf.
			if val < 0 || off+val > len(buf) {
				return "", fmt.Errorf("audit rule: %w: field %d", ErrTruncated, field)
			}
			off += val
		}
	}
	return "", nil
}
