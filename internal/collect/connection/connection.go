// Package connection produces the triggered ConnectionCreate events: new
// inbound (accepted) and outbound (connected) TCP connections, and UDP
// where the backend sees it, IPv4 and IPv6, each with its owning process.
//
// Backends, best first, chosen at start and overridable by the twin's
// connectionBackend: eBPF on the sock:inet_sock_set_state tracepoint,
// audit connect/accept/accept4 rules read from the multicast group, and
// sock_diag polling with diffing, which misses short connections and says
// so. A backend failing at run time hands over to the next.
package connection

import (
	"context"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Options shape the collector. The zero value is the default.
type Options struct {
	// Backend is auto (default) or the backend to start the chain at:
	// ebpf, audit or poll (the twin's connectionBackend).
	Backend string
	// AuditRules allows installing keyed connect/accept audit rules.
	// Choosing the audit backend explicitly allows it too.
	AuditRules bool
	// IncludeLoopback reports connections between loopback addresses.
	IncludeLoopback bool
	// IncludeSelf reports the module's own connections (to edgeHub).
	IncludeSelf bool
	// PollInterval is the sock_diag poller's period (default 500 ms).
	PollInterval time.Duration
	// QueueSize bounds the backend → engine queue (default 4096).
	QueueSize int
	// OwnerCacheSize bounds the pid → process cache (default 1024);
	// OwnerTTL is how long an entry is trusted (default 5 s), which
	// bounds how stale an owner can be across pid reuse.
	OwnerCacheSize int
	OwnerTTL       time.Duration
}

func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = BackendAuto
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.OwnerCacheSize <= 0 {
		o.OwnerCacheSize = 1024
	}
	if o.OwnerTTL <= 0 {
		o.OwnerTTL = 5 * time.Second
	}
	return o
}

// optionsFor takes the twin's connection* settings.
func optionsFor(d collect.Deps) Options {
	m := d.Settings().Module
	return Options{
		Backend:         m.ConnectionBackend,
		AuditRules:      m.ConnectionAuditRules,
		IncludeLoopback: m.ConnectionIncludeLoopback,
		IncludeSelf:     m.ConnectionIncludeSelf,
	}
}

func init() {
	collect.Register(event.NameConnectionCreate, func(d collect.Deps) (collect.Collector, error) {
		return New(d, optionsFor(d))
	})
}

// Collector is the ConnectionCreate stream.
type Collector struct {
	eng *engine
}

var (
	_ collect.Collector = (*Collector)(nil)
	_ collect.Streamer  = (*Collector)(nil)
	_ collect.Describer = (*Collector)(nil)
)

// New returns the ConnectionCreate collector.
func New(d collect.Deps, opts Options) (*Collector, error) {
	log := d.Logger.WithField("component", "connection-events")
	own, err := newHostOwners(d.Root, log, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	return &Collector{eng: newEngine(log, d.Root, d.SelfPID, opts, newMetrics(d.Registerer), own)}, nil
}

// Collect has no snapshot to take: the collector is a stream.
func (c *Collector) Collect(context.Context, func(event.Event)) error { return collect.ErrNoData }

// Stream emits ConnectionCreate events until ctx is done, or fails when
// every backend failed.
func (c *Collector) Stream(ctx context.Context, emit func(event.Event)) error {
	return c.eng.Run(ctx, emit)
}

// Status is the backend in use and why better ones were refused.
func (c *Collector) Status() Status { return c.eng.Status() }

// Describe implements collect.Describer, for reported properties and
// GetStatus.
func (c *Collector) Describe() string {
	s := c.Status()
	if s.Backend == BackendPoll {
		s.Backend += " (lossy: connections shorter than the poll interval are missed)"
	}
	return "backend " + s.String()
}
