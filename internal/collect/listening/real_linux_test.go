package listening

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

func inodeOf(t testing.TB, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return st.Ino
}

func listenTCP(t testing.TB, network, addr string) (*net.TCPListener, uint64) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l.(*net.TCPListener), inodeOf(t, l.(*net.TCPListener))
}

// ownSockets is the real lister (sock_diag, no fake) restricted to this
// process's sockets, so that listeners other tests or services open on
// the machine meanwhile cannot disturb the change assertions.
type ownSockets struct{ hostSockets }

func (o ownSockets) list() ([]sockdiag.Socket, string, error) {
	socks, src, err := o.hostSockets.list()
	if err != nil {
		return nil, src, err
	}
	mine := map[uint64]bool{}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if n, ok := strings.CutPrefix(target, "socket:["); ok && err == nil {
			ino, _ := strconv.ParseUint(strings.TrimSuffix(n, "]"), 10, 64)
			mine[ino] = true
		}
	}
	out := socks[:0]
	for _, s := range socks {
		if mine[s.Inode] {
			out = append(out, s)
		}
	}
	return out, src, nil
}

func byInode(items []any) map[string]*event.ListeningPort {
	m := map[string]*event.ListeningPort{}
	for _, it := range items {
		lp := it.(*event.ListeningPort)
		m[lp.ExtraDetails["Inode"]+" "+lp.ExtraDetails["Change"]] = lp
	}
	return m
}

func ino(n uint64) string { return strconv.FormatUint(n, 10) }

// TestCollectRealSockets opens sockets on loopback and finds exactly the
// listening ones, attributed to this process.
func TestCollectRealSockets(t *testing.T) {
	_, l4 := listenTCP(t, "tcp4", "127.0.0.1:0")
	_, l6 := listenTCP(t, "tcp6", "[::1]:0")
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	cu, err := net.DialUDP("udp4", nil, u.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cu.Close()
	l, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	client, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	log, _ := logtest.NewNullLogger()
	c := newCollector(collect.Deps{Root: "/", Logger: logrus.NewEntry(log), StateDir: t.TempDir()})
	items := byInode(collectOnce(t, c)[0].Payload)

	exe, _ := os.Executable()
	for _, w := range []struct {
		inode        uint64
		proto, addr  string
		remote, port string
	}{
		{l4, "tcp", "127.0.0.1", "0.0.0.0", ""},
		{l6, "tcp6", "::1", "::", ""},
		{inodeOf(t, u), "udp", "127.0.0.1", "0.0.0.0", strconv.Itoa(u.LocalAddr().(*net.UDPAddr).Port)},
	} {
		it := items[ino(w.inode)+" "]
		if it == nil {
			t.Errorf("inode %d (%s %s) not reported", w.inode, w.proto, w.addr)
			continue
		}
		if it.Protocol != w.proto || it.LocalAddress != w.addr || it.RemoteAddress != w.remote || it.RemotePort != "*" || (w.port != "" && it.LocalPort != w.port) {
			t.Errorf("inode %d: %+v", w.inode, it)
		}
		d := it.ExtraDetails
		if d["Pid"] != strconv.Itoa(os.Getpid()) || d["Executable"] != exe || d["UserId"] != strconv.Itoa(os.Getuid()) ||
			!strings.Contains(d["CommandLine"], filepath.Base(exe)) {
			t.Errorf("inode %d attributed to %v, want pid %d exe %s uid %d", w.inode, d, os.Getpid(), exe, os.Getuid())
		}
		if os.Getuid() == 0 && d["UserName"] != "root" {
			t.Errorf("inode %d: user name %q, want root", w.inode, d["UserName"])
		}
	}
	for _, notListening := range []syscall.Conn{cu, client.(*net.TCPConn), server.(*net.TCPConn)} {
		if it := items[ino(inodeOf(t, notListening))+" "]; it != nil {
			t.Errorf("connected socket reported as listening: %+v", it)
		}
	}
}

// TestFallback: with sock_diag refused (as under a seccomp profile that
// blocks netlink), the same listeners come from /proc/net.
func TestFallback(t *testing.T) {
	_, l4 := listenTCP(t, "tcp4", "127.0.0.1:0")
	_, l6 := listenTCP(t, "tcp6", "[::1]:0")
	h := newHostSockets("/")
	h.dump = func(req sockdiag.Request, dst []sockdiag.Socket) ([]sockdiag.Socket, error) {
		if req.Protocol == sockdiag.UDP {
			return sockdiag.Dump(req, dst)
		}
		return append(dst, sockdiag.Socket{}), unix.EPERM // a partial dump must not leak through
	}
	socks, src, err := ownSockets{h}.list()
	if err != nil || src != sourceProcNet {
		t.Fatalf("list: %v, source %q", err, src)
	}
	found := map[uint64]string{}
	for _, s := range socks {
		found[s.Inode] = protocolName(s)
	}
	if found[l4] != "tcp" || found[l6] != "tcp6" || len(found) != 2 {
		t.Fatalf("found %v, want %d tcp and %d tcp6", found, l4, l6)
	}
	h.dump = func(req sockdiag.Request, dst []sockdiag.Socket) ([]sockdiag.Socket, error) { return dst, unix.EPERM }
	h.root = hostfs.Root(t.TempDir())
	if _, _, err := h.list(); err == nil || !strings.Contains(err.Error(), "fallback") {
		t.Fatalf("both sources failing: error %v", err)
	}
}

// TestChangeDetection: a listener opened between two checks is reported
// once as added, once as removed after it closes, and a restart with the
// persisted state reports nothing again.
func TestChangeDetection(t *testing.T) {
	dir := t.TempDir()
	newC := func() *Collector {
		c := newCollector(collect.Deps{Root: "/", StateDir: dir})
		c.sockets = ownSockets{newHostSockets("/")}
		return c
	}
	_, base := listenTCP(t, "tcp4", "127.0.0.1:0")
	c := newC()
	if changed(t, c) {
		t.Fatal("change reported without a baseline")
	}
	if it := byInode(collectOnce(t, c)[0].Payload)[ino(base)+" "]; it == nil {
		t.Fatal("baseline listener missing")
	}
	if changed(t, c) {
		t.Fatal("change reported right after a snapshot")
	}

	l, added := listenTCP(t, "tcp6", "[::1]:0")
	if !changed(t, c) {
		t.Fatal("new listener not noticed")
	}
	items := byInode(collectOnce(t, c)[0].Payload)
	if items[ino(added)+" "+ChangeAdded] == nil || items[ino(base)+" "] == nil || len(items) != 2 {
		t.Fatalf("after open: %v, want %d added and %d unmarked", keys(items), added, base)
	}
	if changed(t, c) {
		t.Fatal("change reported twice")
	}
	if items := byInode(collectOnce(t, c)[0].Payload); items[ino(added)+" "] == nil || len(items) != 2 {
		t.Fatalf("second snapshot: %v, want nothing marked", keys(items))
	}

	l.Close()
	if !changed(t, c) {
		t.Fatal("closed listener not noticed")
	}
	items = byInode(collectOnce(t, c)[0].Payload)
	if items[ino(added)+" "+ChangeRemoved] == nil || len(items) != 2 {
		t.Fatalf("after close: %v, want %d removed", keys(items), added)
	}
	if items := byInode(collectOnce(t, c)[0].Payload); len(items) != 1 {
		t.Fatalf("removal reported twice: %v", keys(items))
	}

	// A restart loads the persisted snapshot: nothing fires again.
	c2 := newC()
	if changed(t, c2) {
		t.Fatal("restart reported a change")
	}
	if items := byInode(collectOnce(t, c2)[0].Payload); len(items) != 1 || items[ino(base)+" "] == nil {
		t.Fatalf("after restart: %v, want the baseline listener unmarked", keys(items))
	}
}

func changed(t *testing.T, c *Collector) bool {
	t.Helper()
	differs, err := c.check()
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return differs
}

func keys(m map[string]*event.ListeningPort) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestWatch runs Watch with a short interval and sees one trigger for a
// new listener.
func TestWatch(t *testing.T) {
	c := newCollector(collect.Deps{Root: "/", StateDir: t.TempDir()})
	c.sockets = ownSockets{newHostSockets("/")}
	c.SetCheckInterval(10 * time.Millisecond)
	collectOnce(t, c) // baseline
	var triggers atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Watch(ctx, func() { triggers.Add(1) }) }()

	listenTCP(t, "tcp4", "127.0.0.1:0")
	deadline := time.Now().Add(30 * time.Second)
	for triggers.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if triggers.Load() == 0 {
		t.Fatal("no trigger for a new listener")
	}
}
