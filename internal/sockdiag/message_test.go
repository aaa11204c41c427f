package sockdiag

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// diagMsg encodes s as struct inet_diag_msg, as the kernel would.
func diagMsg(s Socket) []byte {
	ne := binary.NativeEndian
	b := make([]byte, inetDiagMsgLen)
	b[offFamily], b[offState] = byte(s.Family), byte(s.State)
	binary.BigEndian.PutUint16(b[offSport:], s.Local.Port())
	binary.BigEndian.PutUint16(b[offDport:], s.Remote.Port())
	if s.Family == IPv4 {
		a, r := s.Local.Addr().As4(), s.Remote.Addr().As4()
		copy(b[offSrc:], a[:])
		copy(b[offDst:], r[:])
	} else {
		a, r := s.Local.Addr().As16(), s.Remote.Addr().As16()
		copy(b[offSrc:], a[:])
		copy(b[offDst:], r[:])
	}
	ne.PutUint32(b[offIf:], s.Interface)
	ne.PutUint32(b[offCookie:], uint32(s.Cookie))
	ne.PutUint32(b[offCookie+4:], uint32(s.Cookie>>32))
	ne.PutUint32(b[offUID:], s.UID)
	ne.PutUint32(b[offInode:], uint32(s.Inode))
	return b
}

// nlmsg frames payload as one netlink message, padded to 4 bytes.
func nlmsg(typ uint16, seq uint32, payload []byte) []byte {
	ne := binary.NativeEndian
	n := nlmsgHdrLen + len(payload)
	b := make([]byte, (n+3)&^3)
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

func errPayload(errno int32) []byte {
	b := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(b, uint32(errno))
	return b
}

var (
	sock4 = Socket{Family: IPv4, Protocol: TCP, State: Listen, Local: netip.MustParseAddrPort("127.0.0.1:8080"),
		Remote: netip.MustParseAddrPort("0.0.0.0:0"), Cookie: 0x1234_0000_5678, UID: 1000, Inode: 4242}
	sock6 = Socket{Family: IPv6, Protocol: TCP, State: Listen, Local: netip.MustParseAddrPort("[fe80::1]:22"),
		Remote: netip.MustParseAddrPort("[::]:0"), Interface: 3, Inode: 1<<32 - 1}
)

func TestParseInetDiagMsg(t *testing.T) {
	withAttr := append(diagMsg(sock6), 5, 0, 8, 0, 1, 0, 0, 0) // INET_DIAG_SHUTDOWN
	badFamily := diagMsg(sock4)
	badFamily[offFamily] = 1 // AF_UNIX
	tests := []struct {
		name    string
		in      []byte
		want    Socket
		wantErr string
	}{
		{"ipv4", diagMsg(sock4), sock4, ""},
		{"ipv6 with attribute", withAttr, sock6, ""},
		{"empty", nil, Socket{}, "0 bytes"},
		{"short", diagMsg(sock4)[:71], Socket{}, "71 bytes"},
		{"family", badFamily, Socket{}, "family 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInetDiagMsg(tt.in, TCP)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrMalformed containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDump(t *testing.T) {
	const seq = 7
	cat := slices.Concat[[]byte]
	msg4 := nlmsg(sockDiagByFamily, seq, diagMsg(sock4))
	done := nlmsg(nlmsgDone, seq, []byte{0, 0, 0, 0})
	truncated := msg4[:len(msg4)-1]
	tooLong := append([]byte(nil), msg4...)
	binary.NativeEndian.PutUint32(tooLong, uint32(len(msg4)+4))
	shortLen := append([]byte(nil), msg4...)
	binary.NativeEndian.PutUint32(shortLen, 8)
	tests := []struct {
		name     string
		in       []byte
		wantN    int
		wantDone bool
		wantErr  error
	}{
		{"multi-part continues", cat(msg4, nlmsg(sockDiagByFamily, seq, diagMsg(sock6))), 2, false, nil},
		{"done", cat(msg4, done), 1, true, nil},
		{"done without errno", nlmsg(nlmsgDone, seq, nil), 0, true, nil},
		{"done with errno", nlmsg(nlmsgDone, seq, errPayload(-int32(syscall.ENOMEM))), 0, true, syscall.ENOMEM},
		{"error", nlmsg(nlmsgError, seq, errPayload(-int32(syscall.ENOENT))), 0, true, syscall.ENOENT},
		{"ack", nlmsg(nlmsgError, seq, errPayload(0)), 0, true, nil},
		{"short error", nlmsg(nlmsgError, seq, []byte{1}), 0, false, ErrMalformed},
		{"noop skipped", cat(nlmsg(nlmsgNoop, seq, nil), msg4), 1, false, nil},
		{"overrun", nlmsg(nlmsgOverrun, seq, nil), 0, false, ErrMalformed},
		{"unknown type", nlmsg(99, seq, nil), 0, false, ErrMalformed},
		{"other sequence", nlmsg(sockDiagByFamily, seq+1, diagMsg(sock4)), 0, false, ErrMalformed},
		{"short header", msg4[:10], 0, false, ErrMalformed},
		{"truncated", truncated, 0, false, ErrMalformed},
		{"length past end", tooLong, 0, false, ErrMalformed},
		{"length below header", shortLen, 0, false, ErrMalformed},
		{"short payload", nlmsg(sockDiagByFamily, seq, diagMsg(sock4)[:40]), 0, false, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, done, err := parseDump(tt.in, seq, TCP, nil)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if len(got) != tt.wantN || done != tt.wantDone {
				t.Fatalf("got %d sockets, done %v; want %d, %v", len(got), done, tt.wantN, tt.wantDone)
			}
		})
	}
}

func TestParseDumpBounded(t *testing.T) {
	full := make([]Socket, MaxSockets)
	_, _, err := parseDump(nlmsg(sockDiagByFamily, 1, diagMsg(sock4)), 1, TCP, full)
	if !errors.Is(err, ErrTooMany) {
		t.Fatalf("error %v, want ErrTooMany", err)
	}
}

func TestMarshalRequest(t *testing.T) {
	b := marshalRequest(Request{IPv6, UDP, States(Close)}, 9)
	ne := binary.NativeEndian
	if len(b) != 72 || ne.Uint32(b) != 72 || ne.Uint16(b[4:]) != sockDiagByFamily || ne.Uint16(b[6:]) != 0x301 || ne.Uint32(b[8:]) != 9 {
		t.Fatalf("header % x", b[:16])
	}
	if b[16] != 10 || b[17] != 17 || ne.Uint32(b[20:]) != 1<<7 {
		t.Fatalf("request % x", b[16:24])
	}
}

func TestStates(t *testing.T) {
	m := States(Listen, Close)
	if !m.Has(Listen) || !m.Has(Close) || m.Has(Established) || m.Has(40) || m != 1<<10|1<<7 {
		t.Fatalf("mask %b", m)
	}
}

func FuzzParseInetDiagMsg(f *testing.F) {
	f.Add(diagMsg(sock4))
	f.Add(diagMsg(sock6))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseInetDiagMsg(b, UDP)
		if err != nil {
			return
		}
		// The fields parsed must encode back to the same bytes.
		got := diagMsg(s)
		for _, r := range [][2]int{{offFamily, offState + 1}, {offSport, offSrc + 4}, {offDst, offDst + 4}, {offIf, offCookie + 8}, {offUID, inetDiagMsgLen}} {
			if string(got[r[0]:r[1]]) != string(b[r[0]:r[1]]) {
				t.Fatalf("bytes %d-%d: % x != % x", r[0], r[1], got[r[0]:r[1]], b[r[0]:r[1]])
			}
		}
	})
}

func FuzzParseDump(f *testing.F) {
	f.Add(append(nlmsg(sockDiagByFamily, 1, diagMsg(sock4)), nlmsg(nlmsgDone, 1, []byte{0, 0, 0, 0})...))
	f.Add(nlmsg(nlmsgError, 1, errPayload(-2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, _ := parseDump(b, 1, TCP, nil)
		if len(got)*(nlmsgHdrLen+inetDiagMsgLen) > len(b) {
			t.Fatalf("%d sockets from %d bytes", len(got), len(b))
		}
	})
}
