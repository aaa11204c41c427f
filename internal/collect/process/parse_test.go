package process

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
)

// bpfRecord builds a ring-buffer record as bpf/exec.c writes it.
func bpfRecord(typ, pid, ppid, exitCode, flags uint32, filename string, args []byte) []byte {
	n := bpfHeaderLen
	if typ == bpfTypeExec {
		n = bpfExecFixed + len(args)
	}
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint64(b[0:], 2_000_000_000)
	le.PutUint64(b[8:], 1_500_000_000)
	le.PutUint64(b[16:], 77)
	le.PutUint32(b[24:], typ)
	le.PutUint32(b[28:], pid)
	le.PutUint32(b[32:], pid)
	le.PutUint32(b[36:], ppid)
	le.PutUint32(b[40:], 1000)
	le.PutUint32(b[44:], exitCode)
	le.PutUint32(b[48:], uint32(len(args)))
	le.PutUint32(b[52:], flags)
	copy(b[56:72], "true\x00")
	if typ == bpfTypeExec {
		copy(b[bpfHeaderLen:], filename)
		copy(b[bpfExecFixed:], args)
	}
	return b
}

func TestParseBPFEvent(t *testing.T) {
	ev, err := parseBPFEvent(bpfRecord(bpfTypeExec, 42, 7, 0, 0, "/bin/true", []byte("/bin/true\x00a b\x00\x00")))
	if err != nil {
		t.Fatal(err)
	}
	if ev.PID != 42 || ev.PPID != 7 || ev.UID != 1000 || ev.Comm != "true" || ev.Filename != "/bin/true" ||
		!slices.Equal(ev.Argv, []string{"/bin/true", "a b", ""}) || ev.CgroupID != 77 {
		t.Errorf("exec = %+v", ev)
	}
	r := ev.raw(time.Unix(1000, 0))
	if r.kind != rawExec || r.startTicks != 150 || !r.argvKnown || r.argvTruncated || !r.time.Equal(time.Unix(1002, 0)) {
		t.Errorf("raw = %+v", r)
	}
	// A truncated argv keeps its partial last argument.
	ev, _ = parseBPFEvent(bpfRecord(bpfTypeExec, 42, 7, 0, bpfFlagArgsTruncated, "/bin/x", []byte("x\x00lon")))
	if !slices.Equal(ev.Argv, []string{"x", "lon"}) || !ev.raw(time.Time{}).argvTruncated {
		t.Errorf("truncated argv = %q", ev.Argv)
	}
	ev, _ = parseBPFEvent(bpfRecord(bpfTypeExit, 42, 7, 9, 0, "", nil))
	r = ev.raw(time.Unix(0, 0))
	if st, sig := exitStatus(r.waitStatus); r.kind != rawExit || st != 137 || sig != 9 || r.lifetime != 500*time.Millisecond {
		t.Errorf("exit raw = %+v (status %d signal %d)", r, st, sig)
	}

	for name, b := range map[string][]byte{
		"empty":        nil,
		"short header": make([]byte, bpfHeaderLen-1),
		"unknown type": bpfRecord(9, 1, 1, 0, 0, "", nil),
		"short exec":   bpfRecord(bpfTypeExec, 1, 1, 0, 0, "/x", nil)[:bpfExecFixed-1],
		"args_len past end": func() []byte {
			b := bpfRecord(bpfTypeExec, 1, 1, 0, 0, "/x", []byte("ab"))
			binary.LittleEndian.PutUint32(b[48:], 3)
			return b
		}(),
		"args_len over max": func() []byte {
			b := bpfRecord(bpfTypeExec, 1, 1, 0, 0, "/x", make([]byte, bpfArgsMax+8))
			binary.LittleEndian.PutUint32(b[48:], bpfArgsMax+1)
			return b
		}(),
	} {
		if _, err := parseBPFEvent(b); !errors.Is(err, errBPFRecord) {
			t.Errorf("%s: err = %v, want errBPFRecord", name, err)
		}
	}
}

func FuzzParseBPFEvent(f *testing.F) {
	f.Add(bpfRecord(bpfTypeExec, 42, 7, 0, 0, "/bin/true", []byte("/bin/true\x00a\x00")))
	f.Add(bpfRecord(bpfTypeExit, 42, 7, 256, 0, "", nil))
	f.Add(bpfRecord(bpfTypeFork, 42, 7, 0, 0, "", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := parseBPFEvent(b)
		if err == nil && ev.Type == bpfTypeExec && int(ev.ArgsLen) > len(b)-bpfExecFixed {
			t.Fatalf("accepted args_len %d of %d bytes", ev.ArgsLen, len(b))
		}
	})
}

// cnDatagram builds a proc connector datagram holding one event.
func cnDatagram(what uint32, data ...uint32) []byte {
	ne := binary.NativeEndian
	ev := make([]byte, procEvHdr+4*len(data))
	ne.PutUint32(ev[0:], what)
	ne.PutUint64(ev[8:], 123)
	for i, v := range data {
		ne.PutUint32(ev[procEvHdr+4*i:], v)
	}
	b := make([]byte, nlHdrLen+cnMsgLen+len(ev))
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nlmsgDone)
	c := b[nlHdrLen:]
	ne.PutUint32(c[0:], cnIdxProc)
	ne.PutUint32(c[4:], cnValProc)
	ne.PutUint16(c[16:], uint16(len(ev)))
	copy(c[cnMsgLen:], ev)
	return b
}

func TestParseCnMessages(t *testing.T) {
	var all []byte
	all = append(all, cnDatagram(procCnFork, 10, 10, 11, 11)...)
	all = append(all, cnDatagram(procCnExec, 11, 11)...)
	all = append(all, cnDatagram(procCnExit, 11, 11, 256, 17, 10, 10)...)
	all = append(all, cnDatagram(0x00000004, 11, 11, 0, 0)...) // uid change: skipped
	evs, err := parseCnMessages(all, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []cnEvent{
		{What: procCnFork, TimeNs: 123, ParentPID: 10, ParentTGID: 10, PID: 11, TGID: 11},
		{What: procCnExec, TimeNs: 123, PID: 11, TGID: 11},
		{What: procCnExit, TimeNs: 123, PID: 11, TGID: 11, ExitCode: 256, ExitSignal: 17, ParentPID: 10, ParentTGID: 10},
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events\n got %+v\nwant %+v", evs, want)
	}
	b := func(ev cnEvent, now time.Time) (rawEvent, bool) { return cnRaw(ev, now, nil) }
	if r, ok := b(evs[2], time.Time{}); !ok || r.kind != rawExit || r.waitStatus != 256 {
		t.Errorf("exit raw = %+v", r)
	}
	if _, ok := b(cnEvent{What: procCnFork, PID: 12, TGID: 11}, time.Time{}); ok {
		t.Error("a new thread was taken for a process")
	}

	short := cnDatagram(procCnExit, 11, 11)
	for name, b := range map[string][]byte{
		"short netlink":  make([]byte, 10),
		"length too big": func() []byte { b := cnDatagram(procCnExec, 1, 1); b[0] = 0xff; return b }(),
		"length too small": func() []byte {
			b := cnDatagram(procCnExec, 1, 1)
			binary.NativeEndian.PutUint32(b, 4)
			return b
		}(),
		"short cn_msg":   cnDatagram(procCnExec, 1, 1)[:nlHdrLen+10],
		"short data":     short,
		"cn len too big": func() []byte { b := cnDatagram(procCnExec, 1, 1); b[nlHdrLen+16] = 0xff; return b }(),
		"netlink error":  func() []byte { b := cnDatagram(procCnExec, 1, 1); b[4] = nlmsgError; return b }(),
	} {
		if _, err := parseCnMessages(fixLen(name, b), nil); !errors.Is(err, errCnMessage) {
			t.Errorf("%s: err = %v, want errCnMessage", name, err)
		}
	}
}

// fixLen keeps the netlink length right for cases that are about an
// inner length, so the error comes from where the case says.
func fixLen(name string, b []byte) []byte {
	if name == "short cn_msg" {
		binary.NativeEndian.PutUint32(b, uint32(len(b)))
	}
	return b
}

func FuzzParseCnMessages(f *testing.F) {
	f.Add(cnDatagram(procCnFork, 10, 10, 11, 11))
	f.Add(cnDatagram(procCnExit, 11, 11, 256, 17, 10, 10))
	f.Add(append(cnDatagram(procCnExec, 11, 11), cnDatagram(procCnExec, 12, 12)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseCnMessages(b, nil)
	})
}

func TestListenRequest(t *testing.T) {
	b := cnListenRequest(cnOpListen, 0)
	if len(b) != 40 || binary.NativeEndian.Uint32(b[36:]) != cnOpListen || binary.NativeEndian.Uint16(b[4:]) != nlmsgDone {
		t.Errorf("listen request = %x", b)
	}
}

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		ws          uint32
		status, sig int
	}{{0, 0, 0}, {3 << 8, 3, 0}, {9, 137, 9}, {15 | 0x80, 143, 15}} {
		st, sig := exitStatus(tc.ws)
		if st != int64(tc.status) || sig != tc.sig {
			t.Errorf("exitStatus(%#x) = %d, %d; want %d, %d", tc.ws, st, sig, tc.status, tc.sig)
		}
	}
}

func TestTableBounded(t *testing.T) {
	tb := newTable(100, time.Minute)
	now := time.Now()
	for i := int32(1); i <= 10000; i++ {
		tb.put(&entry{pid: i, lastSeen: now})
	}
	if tb.len() != 100 || len(tb.byPID) != 100 {
		t.Fatalf("table holds %d/%d entries, want 100", tb.len(), len(tb.byPID))
	}
	if _, ok := tb.get(9901); !ok {
		t.Error("a recent entry was evicted")
	}
	if _, ok := tb.get(1); ok {
		t.Error("the oldest entry was kept")
	}
	tb.put(&entry{pid: 9999, lastSeen: now.Add(2 * time.Minute)})
	tb.expire(now.Add(90 * time.Second))
	if tb.len() != 1 {
		t.Errorf("after expiry %d entries, want 1", tb.len())
	}
	if e, ok := tb.remove(9999); !ok || e.pid != 9999 || tb.len() != 0 {
		t.Errorf("remove = %v, %v", e, ok)
	}
}
