package connection

import (
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// TestLoopback forces each backend and checks that a loopback server (the
// test process) and client (a child) produce an inbound event owned by
// the server's pid and an outbound one owned by the client's, for IPv4
// and IPv6, with the loopback filter turned off.
func TestLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the kernel backends")
	}
	for _, backend := range chainOrder {
		t.Run(backend, func(t *testing.T) {
			if backend == BackendAudit {
				audittest.Lock(t)
			}
			// A listener opened before the collector starts is found
			// through sock_diag and /proc (eBPF has not seen listen()).
			before := server(t, "tcp4", "127.0.0.1:0")
			log := newEventLog()
			startCollector(t, testDeps(t), Options{Backend: backend, IncludeLoopback: true}, log)
			for _, tc := range []struct {
				name string
				l    *net.TCPListener
			}{
				{"ipv4-listening-before", before},
				{"ipv4", server(t, "tcp4", "127.0.0.1:0")},
				{"ipv6", server(t, "tcp6", "[::1]:0")},
			} {
				t.Run(tc.name, func(t *testing.T) {
					checkPair(t, log, backend, tc.l)
				})
			}
		})
	}
}

func checkPair(t *testing.T, log *eventLog, backend string, l *net.TCPListener) {
	srv := l.Addr().(*net.TCPAddr)
	cl := startClient(t, srv.String())
	srvPort := strconv.Itoa(srv.Port)
	clPort := strconv.Itoa(cl.local.Port)
	out := log.waitFor(t, "outbound", func(p *event.ConnectionCreate) bool {
		return p.Direction == dirOut && p.RemotePort == srvPort && p.LocalPort == clPort
	})
	in := log.waitFor(t, "inbound", func(p *event.ConnectionCreate) bool {
		return p.Direction == dirIn && p.LocalPort == srvPort && p.RemotePort == clPort
	})
	po, pi := out.Payload[0].(*event.ConnectionCreate), in.Payload[0].(*event.ConnectionCreate)
	if po.ProcessID != int64(cl.cmd.Process.Pid) {
		t.Errorf("outbound pid %d; want the client's %d", po.ProcessID, cl.cmd.Process.Pid)
	}
	if pi.ProcessID != int64(os.Getpid()) {
		t.Errorf("inbound pid %d; want the server's %d", pi.ProcessID, os.Getpid())
	}
	wantAddr := srv.IP.String()
	for _, p := range []*event.ConnectionCreate{po, pi} {
		if p.Protocol != protoTCP || p.RemoteAddress != wantAddr || p.LocalAddress != wantAddr {
			t.Errorf("payload %+v: want TCP between %s", p, wantAddr)
		}
		if p.ExtraDetails[xBackend] != backend {
			t.Errorf("Backend = %q; want %q", p.ExtraDetails[xBackend], backend)
		}
		self, _ := os.Executable()
		if p.Executable != self {
			t.Errorf("Executable = %q; want %q (%v)", p.Executable, self, p.ExtraDetails)
		}
		if p.UserID != "0" || p.CommandLine == "" {
			t.Errorf("user %q, command line %q", p.UserID, p.CommandLine)
		}
	}
	// Go dials non-blocking: audit sees connect() return EINPROGRESS.
	if backend == BackendAudit && po.ExtraDetails[xInProgress] != "true" {
		t.Errorf("audit outbound without InProgress: %v", po.ExtraDetails)
	}
	collecttest.CheckMessage(t, []event.Event{out, in})
}
