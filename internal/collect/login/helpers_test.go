package login

import (
	"encoding/binary"
	"flag"
	"net/netip"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// utmpBytes encodes r as glibc writes it, for tests.
func utmpBytes(r utmpRecord) []byte {
	b := make([]byte, utmpSize)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(r.Type))
	le.PutUint32(b[4:], uint32(r.PID))
	copy(b[8:40], r.Line)
	copy(b[40:44], r.ID)
	copy(b[44:76], r.User)
	copy(b[76:332], r.Host)
	le.PutUint16(b[332:], uint16(r.Exit[0]))
	le.PutUint16(b[334:], uint16(r.Exit[1]))
	le.PutUint32(b[336:], uint32(r.Session))
	le.PutUint32(b[340:], uint32(r.Time.Unix()))
	le.PutUint32(b[344:], uint32(r.Time.Nanosecond()/1000))
	if r.Addr.Is4() {
		a := r.Addr.As4()
		copy(b[348:], a[:])
	} else if r.Addr.IsValid() {
		a := r.Addr.As16()
		copy(b[348:], a[:])
	}
	return b
}

var t0 = time.Date(2026, 11, 29, 2, 26, 32, 406794000, time.UTC)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
