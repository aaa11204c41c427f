// Package audit is a small client of the Linux audit subsystem over
// netlink: a multicast reader (AUDIT_NLGRP_READLOG) that never registers
// as the audit daemon, so a running auditd is never disturbed, optional
// keyed rules, and pure parsers that turn records into events grouped by
// serial. Process, connection and login sources share it.
package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Record types this package knows by name (linux/audit.h).
const (
	TypeGet        = 1000
	TypeSet        = 1001
	TypeListRules  = 1013
	TypeAddRule    = 1011
	TypeDelRule    = 1012
	TypeUserAuth   = 1100
	TypeUserLogin  = 1112
	TypeSyscall    = 1300
	TypePath       = 1302
	TypeSockaddr   = 1306
	TypeCWD        = 1307
	TypeExecve     = 1309
	TypeEOE        = 1320
	TypeProctitle  = 1327
	typeFirstUser  = 1100
	typeLastUser   = 1299
	typeFirstUser2 = 2100
	typeLastUser2  = 2999
)

// Field is one key=value pair of a record, in record order. Value is as
// written by the kernel: quoted strings keep their quotes so that String
// can tell them from hex-encoded ones.
type Field struct {
	Key, Value string
}

// Record is one audit record: "audit(<sec>.<ms>:<serial>): k=v ...".
type Record struct {
	Type   uint16
	Time   time.Time
	Serial uint64
	Fields []Field
}

// Errors of ParseRecord.
var (
	ErrNoHeader = errors.New("audit record: missing audit(<time>:<serial>) header")
)

// maxFields bounds the fields kept per record: an EXECVE record of a huge
// argv is split by the kernel into records of ~7.5 KiB each, so this is
// never reached by honest input.
const maxFields = 4096

// ParseRecord parses the text of one record (the netlink payload).
func ParseRecord(typ uint16, text []byte) (Record, error) {
	r := Record{Type: typ}
	text = bytes.TrimRight(text, "\x00\n")
	i := bytes.Index(text, []byte("audit("))
	if i < 0 {
		return r, ErrNoHeader
	}
	rest := text[i+len("audit("):]
	end := bytes.IndexByte(rest, ')')
	if end < 0 {
		return r, ErrNoHeader
	}
	hdr := rest[:end]
	colon := bytes.IndexByte(hdr, ':')
	if colon < 0 {
		return r, fmt.Errorf("%w: %q", ErrNoHeader, hdr)
	}
	t, err := parseStamp(hdr[:colon])
	if err != nil {
		return r, err
	}
	serial, err := strconv.ParseUint(string(hdr[colon+1:]), 10, 64)
	if err != nil {
		return r, fmt.Errorf("audit record serial %q: %w", hdr[colon+1:], err)
	}
	r.Time, r.Serial = t, serial
	body := rest[end+1:]
	body = bytes.TrimPrefix(body, []byte(":"))
	r.Fields = parseFields(body, r.Fields)
	return r, nil
}

// parseStamp reads "<seconds>.<milliseconds>".
func parseStamp(b []byte) (time.Time, error) {
	sec, frac, _ := bytes.Cut(b, []byte("."))
	s, err := strconv.ParseInt(string(sec), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("audit record time %q: %w", b, err)
	}
	var ns int64
	if len(frac) > 0 {
		if len(frac) > 9 {
			return time.Time{}, fmt.Errorf("audit record time %q: fraction too long", b)
		}
		f, err := strconv.ParseInt(string(frac), 10, 64)
		if err != nil || f < 0 {
			return time.Time{}, fmt.Errorf("audit record time %q: bad fraction", b)
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(s, ns), nil
}

// parseFields splits "k=v k="quoted v" msg='k=v ...'" into fields. The
// single-quoted msg of user-space records is flattened into its fields,
// as its content is itself k=v text.
func parseFields(b []byte, dst []Field) []Field {
	for len(b) > 0 && len(dst) < maxFields {
		b = bytes.TrimLeft(b, " \t\n")
		if len(b) == 0 {
			break
		}
		eq := bytes.IndexAny(b, "= ")
		if eq < 0 || b[eq] == ' ' {
			// A bare word (no '='): skip it.
			sp := bytes.IndexByte(b, ' ')
			if sp < 0 {
				break
			}
			b = b[sp:]
			continue
		}
		key := string(b[:eq])
		b = b[eq+1:]
		var val []byte
		switch {
		case len(b) > 0 && (b[0] == '"'):
			end := bytes.IndexByte(b[1:], '"')
			if end < 0 {
				val, b = b, nil
			} else {
				val, b = b[:end+2], b[end+2:]
			}
		case len(b) > 0 && b[0] == '\'':
			end := bytes.LastIndexByte(b[1:], '\'')
			if end < 0 {
				end = len(b) - 1
			}
			inner := b[1 : end+1]
			b = b[end+1:]
			if len(b) > 0 {
				b = b[1:]
			}
			dst = parseFields(inner, dst)
			continue
		default:
			sp := bytes.IndexAny(b, " \t\n")
			if sp < 0 {
				sp = len(b)
			}
			val, b = b[:sp], b[sp:]
		}
		dst = append(dst, Field{Key: key, Value: string(val)})
	}
	return dst
}

// Get returns the raw value of the first field named key.
func (r *Record) Get(key string) (string, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// String returns the value of key as a string the way the kernel encodes
// untrusted strings: quoted, or hex when it holds special bytes. "(null)"
// and "?" mean absent.
func (r *Record) String(key string) (string, bool) {
	v, ok := r.Get(key)
	if !ok {
		return "", false
	}
	return DecodeValue(v)
}

// Int returns the value of key as a decimal integer.
func (r *Record) Int(key string) (int64, bool) {
	v, ok := r.Get(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// DecodeValue decodes one untrusted-string value: "quoted" → quoted,
// even-length hex → its bytes, "(null)"/"?" → absent.
func DecodeValue(v string) (string, bool) {
	if v == "(null)" || v == "?" || v == "" {
		return "", false
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1], true
	}
	if b, ok := decodeHex(v); ok {
		return string(b), true
	}
	return v, true
}

func decodeHex(v string) ([]byte, bool) {
	if len(v)%2 != 0 || len(v) == 0 {
		return nil, false
	}
	out := make([]byte, len(v)/2)
	for i := 0; i < len(out); i++ {
		hi, ok1 := unhex(v[2*i])
		lo, ok2 := unhex(v[2*i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out[i] = hi<<4 | lo
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
