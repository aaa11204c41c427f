package listening

import (
	"context"
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// procNetOnly lists from a fixture root's /proc/net, as the fallback does.
type procNetOnly struct{ root hostfs.Root }

func (p procNetOnly) list() ([]sockdiag.Socket, string, error) {
	var out []sockdiag.Socket
	for _, req := range requests {
		var err error
		if out, err = sockdiag.ReadProcNet(p.root, req, out); err != nil {
			return nil, sourceProcNet, err
		}
	}
	return filterListening(out), sourceProcNet, nil
}

// fixedOwners attributes from a table: the processes of a fixture host.
type fixedOwners map[uint64]Owner

func (f fixedOwners) owners(inodes map[uint64]uint32) (map[uint64]Owner, error) {
	out := map[uint64]Owner{}
	for ino := range inodes {
		if o, ok := f[ino]; ok {
			out[ino] = o
		}
	}
	return out, nil
}

func collectOnce(t testing.TB, c *Collector) []event.Event {
	t.Helper()
	var evs []event.Event
	if err := c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) }); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || evs[0].Name != event.NameListeningPorts {
		t.Fatalf("got %d events %v, want one ListeningPorts event", len(evs), evs)
	}
	collecttest.CheckMessage(t, evs)
	return evs
}

// The fixture (see sockdiag's testdata) holds listeners on 0.0.0.0:2024,
// 127.0.0.1:42809, [::1]:45321 and [::]:53777, bound UDP sockets on
// 0.0.0.0:37998 and [::1]:59261, and established/connected sockets that
// must not appear.
func TestCollectFixture(t *testing.T) {
	c := newCollector(collect.Deps{Root: "testdata/host", StateDir: t.TempDir()})
	c.sockets = procNetOnly{"testdata/host"}
	c.owners = fixedOwners{
		1525: {PID: 812, Exe: "/usr/sbin/sshd", CommandLine: "sshd: /usr/sbin/sshd -D", UserName: "root"},
		300747: {PID: 4242, Exe: "/usr/bin/python3", CommandLine: "python3 -m http.server", UserName: "root",
			ContainerID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ContainerName: "SimulatedTemperatureSensor",
			Module: "SimulatedTemperatureSensor"},
		300751: {UserName: "root"}, // socket uid known, process not
	}
	evs := collectOnce(t, c)
	collecttest.CheckGolden(t, "listeningports.golden.json", evs[0].Payload, *update)
}

func TestFilterListening(t *testing.T) {
	ap := func(s string) sockdiag.Socket {
		return sockdiag.Socket{Family: sockdiag.IPv4, Local: mustAddrPort(s), Remote: mustAddrPort("0.0.0.0:0")}
	}
	with := func(s sockdiag.Socket, p sockdiag.Protocol, st sockdiag.State) sockdiag.Socket {
		s.Protocol, s.State = p, st
		return s
	}
	connected := with(ap("127.0.0.1:5000"), sockdiag.UDP, sockdiag.Close)
	connected.Remote = mustAddrPort("127.0.0.1:53")
	in := []sockdiag.Socket{
		with(ap("0.0.0.0:22"), sockdiag.TCP, sockdiag.Listen),        // kept
		with(ap("127.0.0.1:22"), sockdiag.TCP, sockdiag.Established), // connection
		with(ap("0.0.0.0:68"), sockdiag.UDP, sockdiag.Close),         // kept
		with(ap("0.0.0.0:0"), sockdiag.UDP, sockdiag.Close),          // unbound
		with(ap("127.0.0.1:5001"), sockdiag.UDP, sockdiag.Established),
		connected, // remote set yet CLOSE (disconnect race): not a listener
		with(ap("0.0.0.0:1"), sockdiag.Protocol(1), sockdiag.Close),
	}
	got := filterListening(in)
	var ports []uint16
	for _, s := range got {
		ports = append(ports, s.Local.Port())
	}
	if diff := cmp.Diff([]uint16{22, 68}, ports); diff != "" {
		t.Errorf("kept ports (-want +got):\n%s", diff)
	}
}

func TestProtocolName(t *testing.T) {
	for _, tt := range []struct {
		f    sockdiag.Family
		p    sockdiag.Protocol
		want string
	}{{sockdiag.IPv4, sockdiag.TCP, "tcp"}, {sockdiag.IPv6, sockdiag.TCP, "tcp6"}, {sockdiag.IPv4, sockdiag.UDP, "udp"}, {sockdiag.IPv6, sockdiag.UDP, "udp6"}} {
		if got := protocolName(sockdiag.Socket{Family: tt.f, Protocol: tt.p}); got != tt.want {
			t.Errorf("%v/%v: %q, want %q", tt.f, tt.p, got, tt.want)
		}
	}
}

// failingLister fails until ok is set.
type failingLister struct{ calls chan struct{} }

func (f failingLister) list() ([]sockdiag.Socket, string, error) {
	select {
	case f.calls <- struct{}{}:
	default:
	}
	return nil, sourceSockDiag, errors.New("netlink refused")
}

// A failing check is logged once, not at every interval, and never
// triggers a snapshot.
func TestWatchFailingLogsOnce(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	c := newCollector(collect.Deps{Logger: logrus.NewEntry(log)})
	calls := make(chan struct{})
	c.sockets = failingLister{calls}
	c.SetCheckInterval(time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Watch(ctx, func() { t.Error("changed called for a failed check") }) }()
	for range 5 {
		<-calls
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(hook.AllEntries()); n != 1 {
		t.Fatalf("%d log entries, want 1", n)
	}
}
