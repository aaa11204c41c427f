// Package process produces the triggered ProcessCreate and
// ProcessTerminate events from the kernel, through the best backend the
// host allows: eBPF tracepoints, the netlink proc connector, audit
// multicast, or /proc polling as a lossy last resort.
//
// Both event names are registered as thin collectors over one shared hub
// per registerer: the hub runs a single backend while at least one of the
// two is enabled (reference counted), because each twin priority can be
// Off independently and the runner starts only what is enabled. One
// stream emitting both would stop ProcessTerminate whenever ProcessCreate
// is Off.
package process

import (
	"context"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Options shape the backends. The zero value is the default.
type Options struct {
	// Backend is auto (default) or the backend to start the chain at:
	// ebpf, proc-connector, audit or procfs (the twin's processBackend).
	Backend string
	// AuditRules allows installing keyed exec audit rules (and enabling
	// audit while they are installed). Choosing the audit backend
	// explicitly allows it too. Without rules, audit sees no exec.
	AuditRules bool
	// PollInterval is the /proc poller's period (default 100 ms).
	PollInterval time.Duration
	// TableSize bounds the process table (default 16384 processes);
	// TableTTL ages untouched entries out (default 1 h).
	TableSize int
	TableTTL  time.Duration
	// QueueSize bounds the backend → engine queue (default 16384).
	QueueSize int
	// IncludeSelf reports the module's own process tree too.
	IncludeSelf bool
}

// Environment variables read until the twin passes these settings.
const (
	EnvBackend    = "AZUREIOTSECURITY_PROCESS_BACKEND"
	EnvAuditRules = "AZUREIOTSECURITY_PROCESS_AUDIT_RULES"
)

// OptionsFromEnv reads the environment variables.
func OptionsFromEnv() Options {
	o := Options{Backend: os.Getenv(EnvBackend)}
	o.AuditRules, _ = strconv.ParseBool(os.Getenv(EnvAuditRules))
	return o
}

// optionsFor takes the twin's processBackend and processAuditRules; the
// environment variables still override an "auto" backend and can allow
// audit rules, for hosts managed without a twin.
func optionsFor(d collect.Deps) Options {
	o := OptionsFromEnv()
	m := d.Settings().Module
	if b := m.ProcessBackend; b != "" && b != "auto" {
		o.Backend = b
	}
	o.AuditRules = o.AuditRules || m.ProcessAuditRules
	return o
}

func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = BackendAuto
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.TableSize <= 0 {
		o.TableSize = 16384
	}
	if o.TableTTL <= 0 {
		o.TableTTL = time.Hour
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 16384
	}
	return o
}

func init() {
	collect.Register(event.NameProcessCreate, func(d collect.Deps) (collect.Collector, error) {
		return New(d, rawExec, optionsFor(d))
	})
	collect.Register(event.NameProcessTerminate, func(d collect.Deps) (collect.Collector, error) {
		return New(d, rawExit, optionsFor(d))
	})
}

// Collector is one of the two event streams over the shared hub.
type Collector struct {
	hub  *hub
	kind rawKind
}

var (
	_ collect.Collector = (*Collector)(nil)
	_ collect.Streamer  = (*Collector)(nil)
)

// New returns the ProcessCreate (kind rawExec) or ProcessTerminate
// (rawExit) collector. Collectors built on the same registerer share one
// hub, and the options of the first one built.
func New(d collect.Deps, kind rawKind, opts Options) (*Collector, error) {
	h, err := hubFor(d, opts)
	if err != nil {
		return nil, err
	}
	return &Collector{hub: h, kind: kind}, nil
}

// Collect has no snapshot to take: the collector is a stream.
func (c *Collector) Collect(context.Context, func(event.Event)) error { return collect.ErrNoData }

// Stream emits this collector's events until ctx is done, or returns the
// hub's error when every backend failed.
func (c *Collector) Stream(ctx context.Context, emit func(event.Event)) error {
	sub := c.hub.subscribe(c.kind, emit)
	defer c.hub.unsubscribe(sub)
	select {
	case <-ctx.Done():
		return nil
	case err := <-sub.failed:
		return err
	}
}

// Status is the shared backend status.
func (c *Collector) Status() Status { return c.hub.eng.Status() }

// Describe implements collect.Describer: the backend in use and why the
// better ones were refused, for reported properties and GetStatus.
func (c *Collector) Describe() string { return "backend " + c.Status().String() }

// hubs holds one hub per registerer, so each set of metrics is
// registered once however often the factories run.
var hubs = struct {
	sync.Mutex
	m map[prometheus.Registerer]*hub
}{m: map[prometheus.Registerer]*hub{}}

func hubFor(d collect.Deps, opts Options) (*hub, error) {
	hubs.Lock()
	defer hubs.Unlock()
	if h, ok := hubs.m[d.Registerer]; ok {
		return h, nil
	}
	log := d.Logger.WithField("component", "process-events")
	enr, err := newHostEnricher(d.Root, log, d.Registerer)
	if err != nil {
		return nil, err
	}
	h := &hub{subs: map[*subscription]struct{}{}}
	h.eng = newEngine(log, d.Root, d.SelfPID, opts, newMetrics(d.Registerer), enr, h)
	hubs.m[d.Registerer] = h
	return h, nil
}

// hub runs the engine while it has subscribers and fans events out.
type hub struct {
	eng *engine

	mu     sync.RWMutex
	subs   map[*subscription]struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type subscription struct {
	kind   rawKind
	emit   func(event.Event)
	failed chan error
}

func (h *hub) subscribe(kind rawKind, emit func(event.Event)) *subscription {
	s := &subscription{kind: kind, emit: emit, failed: make(chan error, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[s] = struct{}{}
	if h.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel, h.done = cancel, make(chan struct{})
		go h.run(ctx, h.done)
	}
	return s
}

func (h *hub) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	err := h.eng.Run(ctx)
	if err == nil {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		select {
		case s.failed <- err:
		default:
		}
	}
}

func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	if len(h.subs) > 0 || h.cancel == nil {
		h.mu.Unlock()
		return
	}
	cancel, done := h.cancel, h.done
	h.cancel, h.done = nil, nil
	h.mu.Unlock()
	cancel()
	<-done
}

func (h *hub) wants(kind rawKind) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.kind == kind {
			return true
		}
	}
	return false
}

func (h *hub) emit(kind rawKind, ev event.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.kind == kind {
			s.emit(ev)
		}
	}
}
