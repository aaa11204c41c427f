package connection

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// TestPayload builds events from raw connections against the real /proc
// (the test process is the owner) and checks them against the schema.
func TestPayload(t *testing.T) {
	log, _ := logtest.NewNullLogger()
	c, err := New(testDepsWith(log, nil), Options{IncludeLoopback: false})
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	e := c.eng
	e.active = BackendAudit
	self := int32(os.Getpid())
	exe, _ := os.Executable()
	now := time.Now()
	var evs []event.Event
	emit := func(ev event.Event) { evs = append(evs, ev) }
	tests := []struct {
		name  string
		c     rawConn
		check func(t *testing.T, p *event.ConnectionCreate)
	}{
		{"v4-mapped, owner from /proc", rawConn{time: now, dir: dirIn, proto: protoTCP, pid: self,
			local: netip.MustParseAddrPort("[::ffff:10.1.2.3]:22"), remote: netip.MustParseAddrPort("[::ffff:10.9.9.9]:50000")},
			func(t *testing.T, p *event.ConnectionCreate) {
				if p.LocalAddress != "10.1.2.3" || p.RemoteAddress != "10.9.9.9" || p.Executable != exe ||
					p.UserID == "" || p.ExtraDetails[xEntityID] == "" || p.ExtraDetails[xIncomplete] != "" {
					t.Errorf("got %+v", p)
				}
			}},
		{"truncated argv completed from /proc", rawConn{time: now, dir: dirOut, proto: protoUDP, pid: self,
			remote: netip.MustParseAddrPort("[2001:db8::1%eth0]:53"), argv: os.Args[:1], argvTruncated: true, uid: 0, uidKnown: true},
			func(t *testing.T, p *event.ConnectionCreate) {
				if p.CommandLine != strings.Join(os.Args, " ") || p.RemoteAddress != "2001:db8::1" || p.LocalAddress != "" || p.UserID != "0" {
					t.Errorf("got %+v", p)
				}
			}},
		{"owner unknown", rawConn{time: now, dir: dirOut, proto: protoTCP, comm: "gone",
			remote: netip.MustParseAddrPort("192.0.2.1:443"), incomplete: []string{"local address: socket gone"}},
			func(t *testing.T, p *event.ConnectionCreate) {
				if p.ProcessID != 0 || p.ExtraDetails[xComm] != "gone" ||
					!strings.Contains(p.ExtraDetails[xIncomplete], "owning process unknown") {
					t.Errorf("got %+v", p)
				}
			}},
		{"in progress", rawConn{time: now, dir: dirOut, proto: protoTCP, pid: self, exe: "/usr/bin/curl", inProgress: true,
			remote: netip.MustParseAddrPort("192.0.2.1:80"), argv: []string{"curl", "x"}},
			func(t *testing.T, p *event.ConnectionCreate) {
				if p.ExtraDetails[xInProgress] != "true" || p.Executable != "/usr/bin/curl" || p.CommandLine != "curl x" {
					t.Errorf("got %+v", p)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs = evs[:0]
			e.handle(tt.c, emit)
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			tt.check(t, evs[0].Payload[0].(*event.ConnectionCreate))
			collecttest.CheckMessage(t, evs)
		})
	}
	// Filtered and unaddressable connections are counted, not emitted.
	evs = evs[:0]
	e.handle(rawConn{time: now, dir: dirOut, proto: protoTCP, remote: netip.MustParseAddrPort("[::1]:80"), local: netip.MustParseAddrPort("[::1]:4000")}, emit)
	e.handle(rawConn{time: now, dir: dirIn, proto: protoTCP, local: netip.MustParseAddrPort("10.0.0.1:22")}, emit)
	if len(evs) != 0 {
		t.Errorf("emitted %v", evs)
	}
	if n := testutil.ToFloat64(e.m.filtered.WithLabelValues(filterLoopback)); n != 1 {
		t.Errorf("filtered{loopback} = %v", n)
	}
	if n := testutil.ToFloat64(e.m.dropped.WithLabelValues(dropNoAddress)); n != 1 {
		t.Errorf("dropped{address_unknown} = %v", n)
	}
}
