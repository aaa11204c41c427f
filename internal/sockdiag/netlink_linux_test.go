package sockdiag

import (
	"net"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inodeOf returns the socket inode of c, as /proc/<pid>/fd shows it.
func inodeOf(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return st.Ino
}

// fixture opens, on loopback, the sockets both sources must tell apart:
// listeners, a bound UDP socket, and a connected UDP socket and an
// established TCP pair that are not listening.
type fixture struct {
	listen4, listen6, bound, connUDP, client, server uint64
	port4                                            uint16
}

func openFixture(t *testing.T) fixture {
	t.Helper()
	var f fixture
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l4.Close() })
	f.listen4 = inodeOf(t, l4.(*net.TCPListener))
	f.port4 = uint16(l4.Addr().(*net.TCPAddr).Port)
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { l6.Close() })
	f.listen6 = inodeOf(t, l6.(*net.TCPListener))
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	f.bound = inodeOf(t, u)
	cu, err := net.DialUDP("udp4", nil, u.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cu.Close() })
	f.connUDP = inodeOf(t, cu)
	c, err := net.Dial("tcp4", l4.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := l4.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.client, f.server = inodeOf(t, c.(*net.TCPConn)), inodeOf(t, s.(*net.TCPConn))
	return f
}

func byInode(socks []Socket) map[uint64]Socket {
	m := make(map[uint64]Socket, len(socks))
	for _, s := range socks {
		m[s.Inode] = s
	}
	return m
}

// listening dumps what ListeningPorts needs with the given source.
func listening(t *testing.T, dump func(Request, []Socket) ([]Socket, error)) map[uint64]Socket {
	t.Helper()
	var all []Socket
	for _, req := range []Request{
		{IPv4, TCP, States(Listen)}, {IPv6, TCP, States(Listen)},
		{IPv4, UDP, States(Close)}, {IPv6, UDP, States(Close)},
	} {
		var err error
		if all, err = dump(req, all); err != nil {
			t.Fatalf("%v: %v", req, err)
		}
	}
	return byInode(all)
}

func checkListening(t *testing.T, got map[uint64]Socket, f fixture) {
	t.Helper()
	want := map[uint64]struct {
		fam   Family
		proto Protocol
		addr  string
	}{
		f.listen4: {IPv4, TCP, "127.0.0.1"}, f.listen6: {IPv6, TCP, "::1"}, f.bound: {IPv4, UDP, "127.0.0.1"},
	}
	for ino, w := range want {
		s, ok := got[ino]
		if !ok {
			t.Errorf("inode %d (%v %v) not found", ino, w.proto, w.addr)
			continue
		}
		if s.Family != w.fam || s.Protocol != w.proto || s.Local.Addr() != netip.MustParseAddr(w.addr) || s.Local.Port() == 0 {
			t.Errorf("inode %d: %+v, want %v %v %v", ino, s, w.fam, w.proto, w.addr)
		}
		if s.Remote.Port() != 0 || !s.Remote.Addr().IsUnspecified() {
			t.Errorf("inode %d: remote %v, want unspecified", ino, s.Remote)
		}
	}
	if s := got[f.listen4]; s.Local.Port() != f.port4 || s.State != Listen {
		t.Errorf("listener %+v, want port %d in LISTEN", s, f.port4)
	}
	for _, ino := range []uint64{f.connUDP, f.client, f.server} {
		if s, ok := got[ino]; ok {
			t.Errorf("inode %d is not listening but was listed: %+v", ino, s)
		}
	}
}

func TestDumpListening(t *testing.T) {
	f := openFixture(t)
	got := listening(t, Dump)
	checkListening(t, got, f)
	if got[f.listen4].Cookie == 0 {
		t.Errorf("sock_diag gave no cookie: %+v", got[f.listen4])
	}
}

func TestReadProcNetListening(t *testing.T) {
	f := openFixture(t)
	checkListening(t, listening(t, func(req Request, dst []Socket) ([]Socket, error) {
		return ReadProcNet("/", req, dst)
	}), f)
}

// The established pair shows up when asked for: the kernel filter, not a
// blind spot, hides it above.
func TestDumpEstablished(t *testing.T) {
	f := openFixture(t)
	got, err := Dump(Request{IPv4, TCP, States(Established)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := byInode(got)
	c, s := m[f.client], m[f.server]
	if c.Remote != s.Local || s.Remote != c.Local || c.Remote.Port() != f.port4 {
		t.Fatalf("pair not found or mismatched: client %+v server %+v", c, s)
	}
	if _, ok := m[f.listen4]; ok {
		t.Fatal("listener in an ESTABLISHED dump")
	}
}
