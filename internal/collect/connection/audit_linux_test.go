package connection

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
)

// TestAuditRulesRemoved: the audit backend's keyed rules are gone once
// the collector stops, and rules of others are left alone.
func TestAuditRulesRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for audit")
	}
	audittest.Lock(t)
	ctl, err := audit.OpenControl()
	if err != nil {
		t.Skipf("audit: %v", err)
	}
	defer ctl.Close()
	before, err := ctl.Rules()
	if err != nil {
		t.Skipf("audit rules: %v", err)
	}
	t.Run("run", func(t *testing.T) {
		startCollector(t, testDeps(t), Options{Backend: BackendAudit}, newEventLog())
		if n := countKeyed(t, ctl); n == 0 {
			t.Error("no rule keyed " + auditRuleKey + " while running")
		}
	})
	if n := countKeyed(t, ctl); n != 0 {
		t.Errorf("%d rules keyed %s left after stop", n, auditRuleKey)
	}
	after, err := ctl.Rules()
	if err != nil || len(after) != len(before) {
		t.Errorf("rules before %d, after %d (%v)", len(before), len(after), err)
	}
}

func countKeyed(t *testing.T, ctl *audit.Control) int {
	t.Helper()
	rules, err := ctl.Rules()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rules {
		if k, _ := audit.RuleKey(r); k == auditRuleKey {
			n++
		}
	}
	return n
}

// TestAuditComplete fills an audit event from the live sockets of this
// process through pidfd_getfd: the accepted socket, or, once it is
// closed, the listener.
func TestAuditComplete(t *testing.T) {
	l := server(t, "tcp4", "127.0.0.1:0")
	lf, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cf, err := c.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	b := &auditBackend{m: newMetrics(nil), peek: peekSocket}
	self := int32(os.Getpid())

	// The client side as connect would show it: remote from SOCKADDR.
	ac := auditConn{rawConn: rawConn{dir: dirOut, pid: self, remote: netip.MustParseAddrPort(l.Addr().String())}, fd: int(cf.Fd()), listenFD: -1}
	if _, _, _, err := peekSocket(self, int(cf.Fd())); err != nil && errors.Is(err, unix.EPERM) {
		t.Skipf("pidfd_getfd: %v", err)
	}
	if !b.complete(&ac) || ac.proto != protoTCP || ac.local.String() != c.LocalAddr().String() || len(ac.incomplete) != 0 {
		t.Errorf("connect completed as %+v", ac)
	}
	// An accept whose socket is closed: the listener gives the port.
	cf.Close()
	c.Close()
	in := auditConn{rawConn: rawConn{dir: dirIn, pid: self}, fd: 1 << 20, listenFD: int(lf.Fd())}
	if !b.complete(&in) || in.local.String() != l.Addr().String() {
		t.Errorf("accept completed as %+v", in)
	}
}
