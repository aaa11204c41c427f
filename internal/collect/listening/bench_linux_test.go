package listening

import (
	"context"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// openSockets holds 10,000 loopback sockets like kernel-sources.md §4:
// 50 TCP listeners, 4475 established pairs (8950 sockets) and 1000
// bound UDP sockets, so 1050 listeners to report and attribute.
func openSockets(b *testing.B) {
	b.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < lim.Max {
		old := lim
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &old) })
	}
	const listeners, pairs, udp = 50, 4475, 1000
	if lim.Cur < listeners+2*pairs+udp+200 {
		b.Skipf("RLIMIT_NOFILE %d is too low for 10,000 sockets", lim.Cur)
	}
	var closers []interface{ Close() error }
	b.Cleanup(func() {
		for _, c := range closers {
			c.Close()
		}
	})
	var ls []net.Listener
	for range listeners {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ls = append(ls, l)
		closers = append(closers, l)
	}
	for i := range pairs {
		l := ls[i%listeners]
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		s, err := l.Accept()
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, c, s)
	}
	for range udp {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, u)
	}
}

// BenchmarkCollect10k is one whole snapshot: four kernel-filtered dumps,
// the /proc/*/fd walk, reading the owning process, building the event.
func BenchmarkCollect10k(b *testing.B) {
	openSockets(b)
	c := newCollector(collect.Deps{Root: "/", StateDir: b.TempDir()})
	n := 0
	for b.Loop() {
		if err := c.Collect(context.Background(), func(ev event.Event) { n = len(ev.Payload) }); err != nil {
			b.Fatal(err)
		}
	}
	if n < 1050 {
		b.Fatalf("%d listeners, want at least 1050", n)
	}
	b.ReportMetric(float64(n), "listeners")
}

// BenchmarkCheck10k is one Watch check: the dumps and a set comparison.
func BenchmarkCheck10k(b *testing.B) {
	openSockets(b)
	c := newCollector(collect.Deps{Root: "/", StateDir: b.TempDir()})
	if err := c.Collect(context.Background(), func(event.Event) {}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.check(); err != nil {
			b.Fatal(err)
		}
	}
}
