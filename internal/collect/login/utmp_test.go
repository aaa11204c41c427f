package login

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseUtmpCapture decodes records sshd wrote on this machine kind
// (utmpdump of testdata/host/var/log/wtmp):
//
//	[7] [20108] [ts/1] [probeu] [pts/1] [127.0.0.1] [127.0.0.1] [2026-11-29T02:26:32,406794+00:00]
//	[8] [20108] [    ] [      ] [pts/1] [         ] [0.0.0.0  ] [2026-11-29T02:26:33,421832+00:00]
func TestParseUtmpCapture(t *testing.T) {
	b, err := os.ReadFile("testdata/host/var/log/wtmp")
	if err != nil {
		t.Fatal(err)
	}
	recs, used, errs := parseUtmpRecords(b, 0)
	if len(errs) != 0 || used != len(b) {
		t.Fatalf("errs %v, used %d of %d", errs, used, len(b))
	}
	want := []utmpRecord{
		{Type: 7, PID: 20108, Line: "pts/1", ID: "ts/1", User: "probeu", Host: "127.0.0.1", Time: t0, Addr: mustAddr("127.0.0.1")},
		{Type: 8, PID: 20108, Line: "pts/1", Time: time.Date(2026, 11, 29, 2, 26, 33, 421832000, time.UTC)},
	}
	if diff := cmp.Diff(want, recs, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestParseUtmp(t *testing.T) {
	good := utmpRecord{Type: 7, PID: 42, Line: "pts/0", ID: "ts/0", User: "alice", Host: "2001:db8::1",
		Exit: [2]int16{1, 2}, Session: 7, Time: t0, Addr: mustAddr("2001:db8::1")}
	full := good
	full.User = strings.Repeat("u", 32) // no NUL terminator when full
	full.Line = strings.Repeat("l", 32)
	set := func(off int, v ...byte) []byte {
		b := utmpBytes(good)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    utmpRecord
		wantErr string
	}{
		{"ipv6", utmpBytes(good), good, ""},
		{"full fields", utmpBytes(full), full, ""},
		{"invalid utf-8", set(44, 'a', 0xff, 0), func() utmpRecord { r := good; r.User = "a\uFFFD"; return r }(), ""},
		{"empty", nil, utmpRecord{}, "offset 768: malformed utmp record: 0 bytes"},
		{"short", make([]byte, 383), utmpRecord{}, "383 bytes"},
		{"long", make([]byte, 385), utmpRecord{}, "385 bytes"},
		{"unknown type", set(0, 10, 0), utmpRecord{}, "ut_type 10"},
		{"negative type", set(0, 0xff, 0xff), utmpRecord{}, "ut_type -1"},
		{"negative pid", set(4, 0, 0, 0, 0x80), utmpRecord{}, "ut_pid"},
		{"usec overflow", set(344, 0x40, 0x42, 0x0f, 0), utmpRecord{}, "tv_usec 1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUtmp(tt.in, 768)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errMalformed) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A time after 2038 must not turn negative: glibc reads it as unsigned.
func TestParseUtmpAfter2038(t *testing.T) {
	r := utmpRecord{Type: 7, User: "u", Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	got, err := parseUtmp(utmpBytes(r), 0)
	if err != nil || !got.Time.Equal(r.Time) {
		t.Errorf("time = %v, %v; want %v", got.Time, err, r.Time)
	}
}

func TestParseUtmpRecordsPartial(t *testing.T) {
	rec := utmpBytes(utmpRecord{Type: 7, PID: 1, User: "u"})
	bad := append([]byte{}, rec...)
	bad[0] = 99
	b := append(append(append([]byte{}, rec...), bad...), rec[:100]...)
	recs, used, errs := parseUtmpRecords(b, 384)
	if len(recs) != 1 || used != 2*utmpSize || len(errs) != 1 || !strings.Contains(errs[0].Error(), "offset 768") {
		t.Errorf("got %d records, used %d, errs %v", len(recs), used, errs)
	}
}

func TestFromUtmp(t *testing.T) {
	tests := []struct {
		name   string
		rec    utmpRecord
		src    source
		ok     bool
		op     string
		result string
		exe    string
		addr   string
		host   string
	}{
		{"ssh login", utmpRecord{Type: 7, PID: 5, Line: "pts/1", User: "u", Host: "10.0.0.1"}, srcWtmp, true, opLogin, resultSuccess, exeSSHD, "10.0.0.1", ""},
		{"console login", utmpRecord{Type: 7, PID: 5, Line: "tty1", User: "u"}, srcWtmp, true, opLogin, resultSuccess, exeLogin, "", ""},
		{"serial login", utmpRecord{Type: 7, PID: 5, Line: "ttyAMA0", User: "u"}, srcWtmp, true, opLogin, resultSuccess, exeLogin, "", ""},
		{"X display", utmpRecord{Type: 7, PID: 5, Line: ":0", User: "u", Host: ":0"}, srcWtmp, true, opLogin, resultSuccess, exeUnknown, "", ":0"},
		{"dns name", utmpRecord{Type: 7, PID: 5, Line: "pts/2", User: "u", Host: "gw.example", Addr: mustAddr("192.0.2.9")}, srcWtmp, true, opLogin, resultSuccess, exeSSHD, "192.0.2.9", "gw.example"},
		{"zone", utmpRecord{Type: 7, PID: 5, Line: "pts/2", User: "u", Host: "fe80::1%eth0"}, srcWtmp, true, opLogin, resultSuccess, exeSSHD, "fe80::1", ""},
		{"logout", utmpRecord{Type: 8, PID: 5, Line: "pts/1"}, srcWtmp, true, opLogout, resultSuccess, exeUnknown, "", ""},
		{"btmp ssh", utmpRecord{Type: 6, PID: 5, Line: "ssh:notty", User: "u", Host: "127.0.0.1"}, srcBtmp, true, opLogin, resultFail, exeSSHD, "127.0.0.1", ""},
		{"btmp login", utmpRecord{Type: 7, PID: 5, Line: "tty1", User: "u"}, srcBtmp, true, opLogin, resultFail, exeLogin, "", ""},
		{"btmp no user", utmpRecord{Type: 6, PID: 5, Line: "ssh:notty"}, srcBtmp, false, "", "", "", "", ""},
		{"boot", utmpRecord{Type: 2, Line: "~", User: "reboot"}, srcWtmp, false, "", "", "", "", ""},
		{"runlevel", utmpRecord{Type: 1, Line: "~", User: "runlevel"}, srcWtmp, false, "", "", "", "", ""},
		{"dead without pid", utmpRecord{Type: 8, Line: "pts/1"}, srcWtmp, false, "", "", "", "", ""},
		{"user process without user", utmpRecord{Type: 7, PID: 1, Line: "pts/1"}, srcWtmp, false, "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := fromUtmp(tt.rec, tt.src)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			addr := ""
			if a.Addr.IsValid() {
				addr = a.Addr.String()
			}
			got := []string{a.Op, a.Result, a.Executable, addr, a.RemoteHost}
			want := []string{tt.op, tt.result, tt.exe, tt.addr, tt.host}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("op, result, exe, addr, host (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseUtmp(f *testing.F) {
	if b, err := os.ReadFile("testdata/host/var/log/btmp"); err == nil {
		f.Add(b)
	}
	f.Add(utmpBytes(utmpRecord{Type: 7, PID: 1, Line: "pts/0", User: "u", Host: "::1", Addr: mustAddr("::1")}))
	f.Add(make([]byte, 100))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, used, errs := parseUtmpRecords(b, 0)
		if used%utmpSize != 0 || used > len(b) || len(recs)+len(errs) != len(b)/utmpSize {
			t.Fatalf("used %d of %d: %d records %d errors", used, len(b), len(recs), len(errs))
		}
		for _, r := range recs {
			if r.PID < 0 || r.Type < 0 || r.Type > utMaxType || len(r.User) > 32*3 {
				t.Errorf("accepted %+v", r)
			}
			for _, src := range []source{srcWtmp, srcBtmp} {
				if a, ok := fromUtmp(r, src); ok {
					_ = a.payload([]source{src}) // must not panic
				}
			}
		}
	})
}

func BenchmarkParseUtmpRecords(b *testing.B) {
	rec := utmpBytes(utmpRecord{Type: 7, PID: 20108, Line: "pts/1", ID: "ts/1", User: "probeu", Host: "127.0.0.1", Time: t0, Addr: mustAddr("127.0.0.1")})
	buf := bytes.Repeat(rec, chunkBytes/utmpSize)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if recs, _, _ := parseUtmpRecords(buf, 0); len(recs) != chunkBytes/utmpSize {
			b.Fatal(len(recs))
		}
	}
}
