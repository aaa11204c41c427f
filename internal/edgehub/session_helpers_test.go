package edgehub

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

// waitTimeout is generous: tests wait for events, never for speed.
const waitTimeout = 20 * time.Second

type sessionFixture struct {
	*workloadFixture
	br  *edgetest.Broker
	s   *Session
	reg *prometheus.Registry

	mu      sync.Mutex
	twins   [][]byte
	patches [][]byte
	changed chan struct{}

	cancel context.CancelFunc
	done   chan error
}

type fixtureConfig struct {
	broker   func(*edgetest.BrokerConfig)
	options  func(*Options)
	lifetime time.Duration
	noRun    bool
}

func newSessionFixture(t *testing.T, fc fixtureConfig) *sessionFixture {
	t.Helper()
	wf := newWorkloadFixture(t, WorkloadOptions{})
	bc := edgetest.BrokerConfig{HubHostname: wf.id.IoTHubHostName, DeviceID: wf.id.DeviceID, ModuleID: wf.id.ModuleID,
		ModuleKey: wf.key, CA: wf.ca, ReauthInterval: 20 * time.Millisecond}
	if fc.broker != nil {
		fc.broker(&bc)
	}
	br, err := edgetest.NewBroker(bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	f := &sessionFixture{workloadFixture: wf, br: br, reg: prometheus.NewRegistry(), changed: make(chan struct{})}
	o := Options{Port: br.Port(), MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		TwinTimeout: 2 * time.Second, MethodTimeout: 2 * time.Second, Registerer: f.reg,
		OnTwin:         func(b []byte) { f.record(&f.twins, b) },
		OnDesiredPatch: func(b []byte) { f.record(&f.patches, b) }}
	if fc.options != nil {
		fc.options(&o)
	}
	tokens := NewWorkloadTokenSource(wf.id, wf.c, fc.lifetime, nil)
	s, err := NewSession(wf.id, tokens, NewWorkloadTrust(wf.c, wf.id.GatewayHostName), o)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	if !fc.noRun {
		f.run(t)
	}
	return f
}

func (f *sessionFixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan error, 1)
	go func() { f.done <- f.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-f.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Run did not return after cancel")
		}
	})
}

func (f *sessionFixture) record(dst *[][]byte, b []byte) {
	f.mu.Lock()
	*dst = append(*dst, b)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// waitFor polls cond (also woken by twin callbacks) until waitTimeout.
func (f *sessionFixture) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for !cond() {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (f *sessionFixture) twinCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.twins)
}

func (f *sessionFixture) lastTwin(t *testing.T) map[string]map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var doc map[string]map[string]any
	if err := json.Unmarshal(f.twins[len(f.twins)-1], &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func (f *sessionFixture) patchList() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.patches...)
}

func (f *sessionFixture) connected() bool { return testutil.ToFloat64(f.s.m.connected) == 1 }

func (f *sessionFixture) acceptedConnects() int {
	n := 0
	for _, c := range f.br.Connects() {
		if c.Accepted {
			n++
		}
	}
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}
