package sockdiag

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fixtures under testdata/proc/net were captured on amd64 (little
// endian) with a 127.0.0.1 listener and an established pair to it, a
// :: and a ::1 listener, a bound and a connected UDP socket, and a ::1
// UDP socket, beside the machine's own sockets (TIME_WAIT rows have inode
// 0).
func TestParseProcNetFixture(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		file string
		req  Request
		want []Socket
	}{
		{"tcp", Request{IPv4, TCP, States(Listen)}, []Socket{
			{Family: IPv4, Protocol: TCP, State: Listen, Local: ap("0.0.0.0:2024"), Remote: ap("0.0.0.0:0"), Inode: 1525},
			{Family: IPv4, Protocol: TCP, State: Listen, Local: ap("127.0.0.1:42809"), Remote: ap("0.0.0.0:0"), Inode: 300746},
		}},
		{"tcp", Request{IPv4, TCP, States(Established)}, []Socket{
			{Family: IPv4, Protocol: TCP, State: Established, Local: ap("127.0.0.1:52708"), Remote: ap("127.0.0.1:42809"), Inode: 300749},
			{Family: IPv4, Protocol: TCP, State: Established, Local: ap("127.0.0.1:42809"), Remote: ap("127.0.0.1:52708"), Inode: 300750},
		}},
		{"tcp6", Request{IPv6, TCP, States(Listen)}, []Socket{
			{Family: IPv6, Protocol: TCP, State: Listen, Local: ap("[::1]:45321"), Remote: ap("[::]:0"), Inode: 300748},
			{Family: IPv6, Protocol: TCP, State: Listen, Local: ap("[::]:53777"), Remote: ap("[::]:0"), Inode: 300747},
		}},
		{"udp", Request{IPv4, UDP, States(Close)}, []Socket{
			{Family: IPv4, Protocol: UDP, State: Close, Local: ap("0.0.0.0:37998"), Remote: ap("0.0.0.0:0"), Inode: 300751},
		}},
		{"udp", Request{IPv4, UDP, AllStates}, []Socket{
			{Family: IPv4, Protocol: UDP, State: Close, Local: ap("0.0.0.0:37998"), Remote: ap("0.0.0.0:0"), Inode: 300751},
			{Family: IPv4, Protocol: UDP, State: Established, Local: ap("127.0.0.1:44056"), Remote: ap("127.0.0.1:37998"), Inode: 300752},
		}},
		{"udp6", Request{IPv6, UDP, States(Close)}, []Socket{
			{Family: IPv6, Protocol: UDP, State: Close, Local: ap("[::1]:59261"), Remote: ap("[::]:0"), Inode: 300753},
		}},
	}
	for _, tt := range tests {
		f, err := os.Open("testdata/proc/net/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseProcNet(f, tt.req, binary.LittleEndian, nil)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
			t.Errorf("%s %v (-want +got):\n%s", tt.file, tt.req, diff)
		}
	}
}

func TestParseProcNetMalformed(t *testing.T) {
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	const good = "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1525 1 0 100 0 0 10 0\n"
	tests := []struct {
		name, in string
		family   Family
		wantErr  string // "" means no error
	}{
		{"empty file", "", IPv4, "empty file"},
		{"header only", header, IPv4, ""},
		{"good", header + good, IPv4, ""},
		{"short line", header + "   0: 0100007F:0277 00000000:0000 0A\n", IPv4, "line 2: malformed 4 columns"},
		{"no slot colon", header + strings.Replace(good, "0:", "0 ", 1), IPv4, "slot"},
		{"odd hex", header + strings.Replace(good, "0100007F", "0100007G", 1), IPv4, "local address"},
		{"v6 width in v4 file", header + good, IPv6, "local address"},
		{"no port", header + strings.Replace(good, "0100007F:0277", "0100007F:", 1), IPv4, "local address"},
		{"bad port", header + strings.Replace(good, "0100007F:0277", "0100007F:02G7", 1), IPv4, "port"},
		{"bad remote", header + strings.Replace(good, "00000000:0000", "0000:0000", 1), IPv4, "remote address"},
		{"bad state", header + strings.Replace(good, " 0A ", " XX ", 1), IPv4, "state"},
		{"state too big", header + strings.Replace(good, " 0A ", " 1FF ", 1), IPv4, "state"},
		{"bad uid", header + strings.Replace(good, "     0        0 1525", "    -1        0 1525", 1), IPv4, "uid"},
		{"bad inode", header + strings.Replace(good, "1525", "15x5", 1), IPv4, "inode"},
		{"line too long", header + strings.Repeat("x", 1000) + "\n", IPv4, "token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseProcNet(strings.NewReader(tt.in), Request{tt.family, TCP, AllStates}, binary.LittleEndian, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case err != nil && !strings.Contains(tt.wantErr, "too long") && !errors.Is(err, ErrMalformed):
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestReadProcNetMissing(t *testing.T) {
	_, err := ReadProcNet("testdata/none", Request{IPv4, TCP, AllStates}, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v, want not-exist", err)
	}
}

func FuzzParseProcNet(f *testing.F) {
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile("testdata/proc/net/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name == "tcp6" || name == "udp6")
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		req := Request{IPv4, TCP, AllStates}
		if v6 {
			req.Family = IPv6
		}
		got, _ := ParseProcNet(strings.NewReader(string(b)), req, nil)
		for _, s := range got {
			if s.Local.Addr().Is4() == v6 || s.Remote.Addr().Is4() == v6 {
				t.Fatalf("%v -> %v: address of the wrong family (v6 %v)", s.Local, s.Remote, v6)
			}
		}
	})
}
