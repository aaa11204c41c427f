package connection

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// fakeBackend stands in for a kernel backend that refuses or fails at run
// time: no real backend can be made to fail mid-run safely on a shared
// host, so this is the one mock of the package.
type fakeBackend struct {
	name    string
	refuse  error
	fail    chan struct{} // closed: fail now
	started chan struct{}
}

func (f *fakeBackend) Name() string { return f.name }

func (f *fakeBackend) Run(ctx context.Context, out chan<- rawConn) error {
	if f.refuse != nil {
		return refuse("%w", f.refuse)
	}
	ready(ctx, out)
	close(f.started)
	select {
	case <-f.fail:
		return errors.New("socket went away")
	case <-ctx.Done():
		return nil
	}
}

// TestFallback: a backend refusing at start and one failing at run time
// both hand over to the next; status, Describe, log and metrics say so.
func TestFallback(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	reg := prometheus.NewRegistry()
	c, err := New(testDepsWith(log, reg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := c.eng
	backs := map[string]*fakeBackend{
		BackendEBPF:  {name: BackendEBPF, refuse: errors.New("no BTF")},
		BackendAudit: {name: BackendAudit, fail: make(chan struct{}), started: make(chan struct{})},
		BackendPoll:  {name: BackendPoll, fail: make(chan struct{}), started: make(chan struct{})},
	}
	e.makeBack = func(name string) backend { return backs[name] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, func(event.Event) {}) }()

	<-backs[BackendAudit].started
	waitBackend(t, c, BackendAudit)
	close(backs[BackendAudit].fail)
	<-backs[BackendPoll].started
	waitBackend(t, c, BackendPoll)
	if got := testutil.ToFloat64(e.m.lossy); got != 1 {
		t.Errorf("lossy gauge = %v with the poller; want 1", got)
	}
	if d := c.Describe(); !strings.Contains(d, "backend poll (lossy") ||
		!strings.Contains(d, "ebpf: no BTF") || !strings.Contains(d, "audit: failed: socket went away") {
		t.Errorf("Describe = %q", d)
	}
	warned := false
	for _, en := range hook.AllEntries() {
		if en.Level == logrus.WarnLevel && strings.Contains(en.Message, "lossy") {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning that the poller is lossy")
	}
	close(backs[BackendPoll].fail)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "no connection backend left") {
		t.Errorf("Run = %v; want no backend left", err)
	}
	cancel()
	if got := testutil.ToFloat64(e.m.backend.WithLabelValues(BackendPoll)); got != 0 {
		t.Errorf("backend_info{poll} = %v after Run; want 0", got)
	}
}

// TestConfiguredBackend: connectionBackend starts the chain there; the
// better ones are reported as disabled by configuration.
func TestConfiguredBackend(t *testing.T) {
	log, _ := logtest.NewNullLogger()
	c, err := New(testDepsWith(log, prometheus.NewRegistry()), Options{Backend: BackendPoll})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.eng.chain(); len(got) != 1 || got[0] != BackendPoll {
		t.Errorf("chain = %v; want [poll]", got)
	}
	s := c.Status().String()
	for _, want := range []string{"ebpf: disabled by configuration (connectionBackend=poll)", "audit: disabled by configuration"} {
		if !strings.Contains(s, want) {
			t.Errorf("status %q lacks %q", s, want)
		}
	}
}

// TestAuditNeedsPermission: in auto mode the audit backend refuses
// without connectionAuditRules, and says which setting allows it.
func TestAuditNeedsPermission(t *testing.T) {
	b := &auditBackend{m: newMetrics(nil), allowRules: false}
	err := b.Run(context.Background(), make(chan rawConn, 1))
	if !isRefusal(err) || !strings.Contains(err.Error(), "connectionAuditRules") {
		t.Errorf("Run = %v; want a refusal naming connectionAuditRules", err)
	}
}

func waitBackend(t *testing.T, c *Collector, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.Status().Backend != name {
		if time.Now().After(deadline) {
			t.Fatalf("backend %s not active: %s", name, c.Status())
		}
		time.Sleep(time.Millisecond)
	}
}
