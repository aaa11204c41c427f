package connection

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
)

// bpfRecord builds a ring-buffer record as bpf/conn.c lays it out.
func bpfRecord(family uint16, dir, flags uint8, pid uint32, local, remote netip.AddrPort, comm string) []byte {
	b := make([]byte, bpfEventLen)
	le := binary.LittleEndian
	le.PutUint64(b[0:], 123456789)
	le.PutUint32(b[8:], pid)
	le.PutUint32(b[12:], pid+1)
	le.PutUint32(b[16:], 1000)
	le.PutUint16(b[20:], family)
	le.PutUint16(b[22:], local.Port())
	le.PutUint16(b[24:], remote.Port())
	b[26], b[27] = dir, flags
	copy(b[28:44], comm)
	l, r := local.Addr().AsSlice(), remote.Addr().AsSlice()
	copy(b[44:60], l)
	copy(b[60:76], r)
	return b
}

func TestParseBPFEvent(t *testing.T) {
	v4l, v4r := netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("93.184.216.34:443")
	v6l, v6r := netip.MustParseAddrPort("[2001:db8::2]:22"), netip.MustParseAddrPort("[2001:db8::9]:51000")
	tests := []struct {
		name    string
		b       []byte
		want    rawConn
		wantErr string
	}{
		{"ipv4 out", bpfRecord(afInet, bpfDirOut, 0, 42, v4l, v4r, "curl"),
			rawConn{dir: dirOut, proto: protoTCP, local: v4l, remote: v4r, pid: 42, uid: 1000, uidKnown: true, comm: "curl"}, ""},
		{"ipv6 in", bpfRecord(afInet6, bpfDirIn, 0, 7, v6l, v6r, "sshd"),
			rawConn{dir: dirIn, proto: protoTCP, local: v6l, remote: v6r, pid: 7, uid: 1000, uidKnown: true, comm: "sshd"}, ""},
		{"owner unknown", bpfRecord(afInet, bpfDirIn, bpfFlagOwnerUnknown, 0, v4l, v4r, ""),
			rawConn{dir: dirIn, proto: protoTCP, local: v4l, remote: v4r}, ""},
		{"comm without NUL", bpfRecord(afInet, bpfDirOut, 0, 1, v4l, v4r, "0123456789abcdef"),
			rawConn{dir: dirOut, proto: protoTCP, local: v4l, remote: v4r, pid: 1, uid: 1000, uidKnown: true, comm: "0123456789abcdef"}, ""},
		{"empty", nil, rawConn{}, "0 bytes"},
		{"short", bpfRecord(afInet, bpfDirOut, 0, 1, v4l, v4r, "x")[:79], rawConn{}, "79 bytes"},
		{"family unix", bpfRecord(1, bpfDirOut, 0, 1, v4l, v4r, "x"), rawConn{}, "family 1"},
		{"direction 0", bpfRecord(afInet, 0, 0, 1, v4l, v4r, "x"), rawConn{}, "direction 0"},
		{"direction 3", bpfRecord(afInet6, 3, 0, 1, v6l, v6r, "x"), rawConn{}, "direction 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := parseBPFEvent(tt.b)
			if tt.wantErr != "" {
				if !errors.Is(err, errBPFRecord) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ev.raw(bootZero)
			got.time = bootZero
			tt.want.time = bootZero
			if got.dir != tt.want.dir || got.proto != tt.want.proto || got.local != tt.want.local ||
				got.remote != tt.want.remote || got.pid != tt.want.pid || got.uid != tt.want.uid ||
				got.uidKnown != tt.want.uidKnown || got.comm != tt.want.comm {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseBPFEvent(f *testing.F) {
	f.Add(bpfRecord(afInet, bpfDirOut, 0, 42, netip.MustParseAddrPort("1.2.3.4:5"), netip.MustParseAddrPort("5.6.7.8:9"), "c"))
	f.Add(bpfRecord(afInet6, bpfDirIn, 1, 0, netip.MustParseAddrPort("[::1]:5"), netip.MustParseAddrPort("[::2]:9"), ""))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := parseBPFEvent(b)
		if err != nil {
			if !errors.Is(err, errBPFRecord) {
				t.Fatalf("error %v does not wrap errBPFRecord", err)
			}
			return
		}
		c := ev.raw(bootZero)
		if !c.remote.IsValid() || !c.local.IsValid() || (c.dir != dirIn && c.dir != dirOut) {
			t.Fatalf("accepted record gives %+v", c)
		}
	})
}

// Audit records as the kernel multicasts them (x86-64).
const (
	recConnect = `audit(1700000000.250:42): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd1c a2=10 a3=0 items=0 ppid=1 pid=1234 auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" key="azureiotsecurity-connection"`
	recSaddr4  = `audit(1700000000.250:42): saddr=020001BB5DB8D8220000000000000000`
	recTitle   = `audit(1700000000.250:42): proctitle=6375726C0068747470733A2F2F6578616D706C652E636F6D`
	recSaddr6  = `audit(1700000000.250:42): saddr=0A00C6B80000000020010DB8000000000000000000000009000000000000`
	recSaddrUn = `audit(1700000000.250:42): saddr=01002F7661722F72756E2F6E7363642F736F636B657400`
)

func auditEvent(t testing.TB, recs ...struct {
	typ  uint16
	text string
}) audit.Event {
	var ev audit.Event
	for _, r := range recs {
		rec, err := audit.ParseRecord(r.typ, []byte(r.text))
		if err != nil {
			t.Fatalf("record %q: %v", r.text, err)
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

type rec = struct {
	typ  uint16
	text string
}

func sc(text string) rec          { return rec{audit.TypeSyscall, text} }
func sa(text string) rec          { return rec{audit.TypeSockaddr, text} }
func pt(text string) rec          { return rec{audit.TypeProctitle, text} }
func edit(old, new string) string { return strings.Replace(recConnect, old, new, 1) }

var testArches = auditArches(audit.SocketArches("x86_64"))

func TestParseAuditConn(t *testing.T) {
	tests := []struct {
		name    string
		recs    []rec
		check   func(t *testing.T, c auditConn)
		wantErr error
	}{
		{"connect ipv4", []rec{sc(recConnect), sa(recSaddr4), pt(recTitle)}, func(t *testing.T, c auditConn) {
			if c.dir != dirOut || c.pid != 1234 || c.uid != 1000 || !c.uidKnown || c.fd != 3 || c.listenFD != -1 || c.exe != "/usr/bin/curl" ||
				c.remote != netip.MustParseAddrPort("93.184.216.34:443") || c.inProgress ||
				strings.Join(c.argv, " ") != "curl https://example.com" || !c.argvTruncated {
				t.Errorf("got %+v", c)
			}
		}, nil},
		{"connect in progress", []rec{sc(edit("success=yes exit=0", "success=no exit=-115")), sa(recSaddr6)}, func(t *testing.T, c auditConn) {
			if !c.inProgress || c.remote != netip.MustParseAddrPort("[2001:db8::9]:50872") {
				t.Errorf("got %+v", c)
			}
		}, nil},
		{"accept4 with peer", []rec{sc(edit("syscall=42 success=yes exit=0", "syscall=288 success=yes exit=7")), sa(recSaddr4)}, func(t *testing.T, c auditConn) {
			if c.dir != dirIn || c.fd != 7 || c.listenFD != 3 {
				t.Errorf("got %+v", c)
			}
		}, nil},
		{"accept without address", []rec{sc(edit("syscall=42 success=yes exit=0", "syscall=43 success=yes exit=5"))}, func(t *testing.T, c auditConn) {
			if c.dir != dirIn || c.fd != 5 || c.remote.IsValid() {
				t.Errorf("got %+v", c)
			}
		}, nil},
		{"compat i386 connect", []rec{sc(edit("arch=c000003e syscall=42", "arch=40000003 syscall=362")), sa(recSaddr4)}, nil, nil},
		{"connect refused", []rec{sc(edit("success=yes exit=0", "success=no exit=-111")), sa(recSaddr4)}, nil, errNotConn},
		{"unix socket", []rec{sc(recConnect), sa(recSaddrUn)}, nil, errNotConn},
		{"execve", []rec{sc(edit("syscall=42", "syscall=59"))}, nil, errNotConn},
		{"unknown arch", []rec{sc(edit("arch=c000003e", "arch=c00000b7")), sa(recSaddr4)}, nil, errNotConn},
		{"no syscall record", []rec{sa(recSaddr4)}, nil, errNotConn},
		{"syscall not a number", []rec{sc(edit("syscall=42", "syscall=connect"))}, nil, errAuditRecord},
		{"no exit", []rec{sc(edit("exit=0 ", ""))}, nil, errAuditRecord},
		{"no pid", []rec{sc(edit(" pid=1234", "")), sa(recSaddr4)}, nil, errAuditRecord},
		{"pid out of range", []rec{sc(edit("pid=1234", "pid=99999999999")), sa(recSaddr4)}, nil, errAuditRecord},
		{"fd not hex", []rec{sc(edit("a0=3", "a0=zz")), sa(recSaddr4)}, nil, errAuditRecord},
		{"connect without sockaddr", []rec{sc(recConnect)}, nil, errAuditRecord},
		{"saddr not hex", []rec{sc(recConnect), sa(`audit(1700000000.250:42): saddr=0200XX`)}, nil, errAuditRecord},
		{"saddr ipv4 short", []rec{sc(recConnect), sa(`audit(1700000000.250:42): saddr=020001BB5DB8`)}, nil, errAuditRecord},
		{"saddr ipv6 short", []rec{sc(recConnect), sa(`audit(1700000000.250:42): saddr=0A00C6B8000000002001`)}, nil, errAuditRecord},
		{"saddr one byte", []rec{sc(recConnect), sa(`audit(1700000000.250:42): saddr=02`)}, nil, errAuditRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseAuditConn(auditEvent(t, tt.recs...), testArches)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func FuzzParseAuditConn(f *testing.F) {
	f.Add(recConnect, recSaddr4, recTitle)
	f.Add(edit("syscall=42", "syscall=288"), recSaddr6, "")
	f.Add(recConnect, recSaddrUn, "audit(1.0:1): proctitle=00")
	f.Fuzz(func(t *testing.T, syscall, saddr, title string) {
		var ev audit.Event
		for _, r := range []rec{sc(syscall), sa(saddr), pt(title)} {
			if rec, err := audit.ParseRecord(r.typ, []byte(r.text)); err == nil {
				ev.Records = append(ev.Records, rec)
			}
		}
		c, err := parseAuditConn(ev, testArches)
		if err != nil {
			if !errors.Is(err, errNotConn) && !errors.Is(err, errAuditRecord) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if c.pid <= 0 || c.fd < 0 || (c.dir == dirOut && !c.remote.IsValid()) {
			t.Fatalf("accepted event gives %+v", c)
		}
	})
}

func FuzzParseSaddr(f *testing.F) {
	f.Add("020001BB5DB8D8220000000000000000")
	f.Add("0A00C6B80000000020010DB8000000000000000000000009000000000000")
	f.Add("0100")
	f.Fuzz(func(t *testing.T, h string) {
		ap, fam, err := parseSaddr(h)
		if err != nil {
			if !errors.Is(err, errAuditRecord) {
				t.Fatalf("error %v does not wrap errAuditRecord", err)
			}
			return
		}
		if (fam == afInet || fam == afInet6) != ap.IsValid() {
			t.Fatalf("family %d gives %v", fam, ap)
		}
	})
}
