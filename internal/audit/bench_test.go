package audit

import (
	"testing"
	"time"
)

// BenchmarkExecEvent is the per-exec cost of the audit path: parse the
// five records of one exec, group them, and assemble the Exec.
func BenchmarkExecEvent(b *testing.B) {
	texts := []struct {
		typ  uint16
		text []byte
	}{
		{TypeSyscall, []byte(syscallText)}, {TypeExecve, []byte(execveText)}, {TypeCWD, []byte(cwdText)},
		{TypeProctitle, []byte(ptText)}, {TypeEOE, []byte(eoeText)},
	}
	g := NewGrouper()
	now := time.Unix(0, 0)
	n := 0
	done := func(ev Event) {
		if _, err := ParseExec(ev); err == nil {
			n++
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range texts {
			r, err := ParseRecord(t.typ, t.text)
			if err != nil {
				b.Fatal(err)
			}
			g.Add(r, now, done)
		}
	}
	if n == 0 {
		b.Fatal("no exec assembled")
	}
}
