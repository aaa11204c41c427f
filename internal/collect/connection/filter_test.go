package connection

import (
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// waitFiltered waits until the filtered counter of reason reaches n; the
// bound is a hang guard only.
func waitFiltered(t *testing.T, c *Collector, reason string, n float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(c.eng.m.filtered.WithLabelValues(reason)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("filtered{%s} stayed below %v", reason, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func portOf(a net.Addr) string { return strconv.Itoa(a.(*net.TCPAddr).Port) }

// TestDefaultFilters: with the defaults, loopback connections are not
// reported; with loopback on and SelfPID set to the test process, the
// server side (the test's own) is left out while the client's is kept.
// Other processes on the host may add to the counters; the checks look
// at this test's ports only.
func TestDefaultFilters(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the eBPF backend")
	}
	t.Run("loopback", func(t *testing.T) {
		log := newEventLog()
		c := startCollector(t, testDeps(t), Options{Backend: BackendEBPF}, log)
		l := server(t, "tcp4", "127.0.0.1:0")
		base := testutil.ToFloat64(c.eng.m.filtered.WithLabelValues(filterLoopback))
		startClient(t, l.Addr().String())
		waitFiltered(t, c, filterLoopback, base+2)
		port := portOf(l.Addr())
		if evs := log.find(func(p *event.ConnectionCreate) bool {
			return p.LocalPort == port || p.RemotePort == port
		}); len(evs) != 0 {
			t.Errorf("loopback connections reported by default: %v", evs)
		}
	})
	t.Run("self", func(t *testing.T) {
		d := testDeps(t)
		d.SelfPID = os.Getpid()
		log := newEventLog()
		c := startCollector(t, d, Options{Backend: BackendEBPF, IncludeLoopback: true}, log)
		l := server(t, "tcp6", "[::1]:0")
		port := portOf(l.Addr())
		cl := startClient(t, l.Addr().String())
		out := log.waitFor(t, "client's outbound", func(p *event.ConnectionCreate) bool {
			return p.Direction == dirOut && p.RemotePort == port
		})
		if pid := out.Payload[0].(*event.ConnectionCreate).ProcessID; pid != int64(cl.cmd.Process.Pid) {
			t.Errorf("outbound pid %d; want %d", pid, cl.cmd.Process.Pid)
		}
		waitFiltered(t, c, filterSelf, 1)
		if evs := log.find(func(p *event.ConnectionCreate) bool {
			return p.Direction == dirIn && p.LocalPort == port
		}); len(evs) != 0 {
			t.Errorf("the module's own inbound connection reported: %v", evs)
		}
	})
}
