package audit

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestGrouper(t *testing.T) {
	g := NewGrouper()
	now := time.Unix(100, 0)
	var got []Event
	done := func(ev Event) { got = append(got, ev) }
	add := func(typ uint16, text string) { g.Add(mustParse(t, typ, text), now, done) }

	add(TypeSyscall, syscallText)
	add(TypeExecve, execveText)
	add(TypeUserAuth, userText) // standalone, interleaved
	add(TypeCWD, cwdText)
	add(TypeEOE, eoeText)
	if len(got) != 2 || got[0].Serial != 77 || got[1].Serial != 4242 || len(got[1].Records) != 3 || got[1].Incomplete {
		t.Fatalf("events = %+v", got)
	}
	// An event without EOE is flushed after MaxAge, flagged.
	got = nil
	add(TypeSyscall, `audit(1.0:5000): arch=c000003e syscall=59`)
	g.Flush(now.Add(time.Second), done)
	if len(got) != 0 {
		t.Fatal("flushed too early")
	}
	g.Flush(now.Add(3*time.Second), done)
	if len(got) != 1 || !got[0].Incomplete || g.Len() != 0 {
		t.Fatalf("after MaxAge: %+v, open %d", got, g.Len())
	}
	// The in-flight bound holds whatever arrives.
	got = nil
	g.MaxInFlight = 10
	for i := 0; i < 1000; i++ {
		r := Record{Type: TypeSyscall, Serial: uint64(10000 + i)}
		g.Add(r, now, done)
	}
	if g.Len() != 10 || len(got) != 990 || len(g.order) > 2*10+64 {
		t.Errorf("open %d, flushed %d, order %d", g.Len(), len(got), len(g.order))
	}
}

func netlinkMsg(typ uint16, payload string) []byte {
	b := make([]byte, nlmsgHdrLen+len(payload))
	putHeader(b, uint32(len(b)), typ, 0, 1)
	copy(b[nlmsgHdrLen:], payload)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseNetlink(t *testing.T) {
	b := append(netlinkMsg(TypeSyscall, syscallText), netlinkMsg(TypeEOE, eoeText)...)
	msgs, err := ParseNetlink(b)
	if err != nil || len(msgs) != 2 || msgs[0].Type != TypeSyscall || string(msgs[1].Data) != eoeText {
		t.Fatalf("msgs = %+v, %v", msgs, err)
	}
	// The unicast quirk: length without the header.
	q := netlinkMsg(TypeExecve, execveText)
	binary.NativeEndian.PutUint32(q, uint32(len(execveText)))
	if len(execveText) >= nlmsgHdrLen {
		binary.NativeEndian.PutUint32(q, 8) // shorter than a header
	}
	if msgs, err := ParseNetlink(q); err != nil || len(msgs) != 1 || msgs[0].Type != TypeExecve {
		t.Errorf("quirk: %+v, %v", msgs, err)
	}
	for name, b := range map[string][]byte{
		"too long":      func() []byte { b := netlinkMsg(TypeEOE, "x"); b[0] = 0xff; return b }(),
		"trailing junk": append(netlinkMsg(TypeEOE, "abcd"), 1, 2, 3),
	} {
		if _, err := ParseNetlink(b); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ParseStatus(make([]byte, 8)); !errors.Is(err, ErrTruncated) {
		t.Errorf("short status: %v", err)
	}
	st, err := ParseStatus(Status{Enabled: 1, PID: 5, BacklogLimit: 64}.marshal())
	if err != nil || st.Enabled != 1 || st.PID != 5 || st.BacklogLimit != 64 {
		t.Errorf("status = %+v, %v", st, err)
	}
}

func FuzzParseNetlink(f *testing.F) {
	f.Add(append(netlinkMsg(TypeSyscall, syscallText), netlinkMsg(TypeEOE, eoeText)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := ParseNetlink(b)
		g := NewGrouper()
		for _, m := range msgs {
			if r, err := ParseRecord(m.Type, m.Data); err == nil {
				g.Add(r, time.Unix(0, 0), func(Event) {})
			}
		}
	})
}

func TestExecRule(t *testing.T) {
	r, err := ExecRule(archX8664, "azureiotsecurity")
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 1040+len("azureiotsecurity") {
		t.Errorf("rule is %d bytes", len(r))
	}
	// execve 59 is bit 27 of word 1, execveat 322 bit 2 of word 10.
	if w := binary.NativeEndian.Uint32(r[12+4*1:]); w != 1<<27 {
		t.Errorf("mask word 1 = %#x", w)
	}
	if w := binary.NativeEndian.Uint32(r[12+4*10:]); w != 1<<2 {
		t.Errorf("mask word 10 = %#x", w)
	}
	if k, err := RuleKey(r); err != nil || k != "azureiotsecurity" {
		t.Errorf("RuleKey = %q, %v", k, err)
	}
	if _, err := ExecRule(archX8664, ""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := ExecRule(Arch{Syscall: []int{5000}}, "k"); err == nil {
		t.Error("syscall out of range accepted")
	}
	if _, err := RuleKey(r[:100]); err == nil {
		t.Error("short rule accepted")
	}
}

func TestExecArches(t *testing.T) {
	for m, n := range map[string]int{"x86_64": 2, "i686": 1, "aarch64": 2, "armv7l": 1, "riscv64": 0} {
		if got := len(execArches(m)); got != n {
			t.Errorf("execArches(%q) = %d arches, want %d", m, got, n)
		}
	}
}
