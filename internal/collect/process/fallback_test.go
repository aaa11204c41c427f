package process

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

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// fakeBackend stands in for a kernel backend that fails at run time: no
// real backend can be made to fail mid-run safely on a shared host, so
// this is the one mock of the package.
type fakeBackend struct {
	name    string
	refuse  error
	failAt  time.Duration // after ready; 0 = run until cancelled
	started chan struct{}
}

func (f *fakeBackend) Name() string { return f.name }

func (f *fakeBackend) Run(ctx context.Context, out chan<- rawEvent) error {
	if f.refuse != nil {
		return refuse("%w", f.refuse)
	}
	ready(ctx, out)
	close(f.started)
	if f.failAt > 0 {
		select {
		case <-time.After(f.failAt):
			return errors.New("socket went away")
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// TestRuntimeFallback: a backend refusing at start and one failing at run
// time both hand over to the next, without the engine stopping, and the
// status, log and metrics say so.
func TestRuntimeFallback(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{}, m, enr, &testSink{})
	backs := map[string]*fakeBackend{
		BackendEBPF:   {name: BackendEBPF, refuse: errors.New("no BTF")},
		BackendProcCn: {name: BackendProcCn, failAt: 100 * time.Millisecond},
		BackendAudit:  {name: BackendAudit},
	}
	for _, b := range backs {
		b.started = make(chan struct{})
	}
	e.makeBack = func(name string) backend {
		if b, ok := backs[name]; ok {
			return b
		}
		return unknownBackend(name)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	<-backs[BackendAudit].started
	waitFor(t, 10*time.Second, func() bool { return e.Status().Backend == BackendAudit }, func() string { return e.Status().String() })
	st := e.Status()
	if len(st.Refused) != 2 || st.Refused[0].Reason != "no BTF" || !strings.Contains(st.Refused[1].Reason, "failed: socket went away") {
		t.Errorf("status = %s", st)
	}
	if v := testutil.ToFloat64(m.backend.WithLabelValues(BackendAudit)); v != 1 {
		t.Errorf("backend_info{audit} = %v", v)
	}
	if v := testutil.ToFloat64(m.backend.WithLabelValues(BackendProcCn)); v != 0 {
		t.Errorf("backend_info{proc-connector} = %v", v)
	}
	warned := false
	for _, en := range hook.AllEntries() {
		if en.Level == logrus.WarnLevel && en.Data["backend"] == BackendProcCn {
			warned = true
		}
	}
	if !warned {
		t.Error("the run-time failure was not logged")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestAllBackendsFail: the engine reports an error naming every refusal.
func TestAllBackendsFail(t *testing.T) {
	log, _ := logtest.NewNullLogger()
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{Backend: BackendAudit}, newMetrics(nil), enr, &testSink{})
	e.makeBack = func(name string) backend { return &fakeBackend{name: name, refuse: errors.New("nope")} }
	err = e.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "procfs: nope") || !strings.Contains(err.Error(), "ebpf: disabled by configuration") {
		t.Errorf("Run = %v", err)
	}
}
