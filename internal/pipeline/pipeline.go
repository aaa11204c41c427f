// Package pipeline turns collected events into security messages:
// intake (bounded) → aggregation window → priority queues sharing one byte
// budget → packing into messages of at most maxMessageSizeInBytes → sink.
package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/aggregate"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// HubMessageLimit is IoT Hub's device-to-cloud limit; the body plus the
// topic must stay under it, so the body gets this less propertyReserve.
const (
	HubMessageLimit = 256 * 1024
	propertyReserve = 2048
)

// Settings are the parts of the twin configuration the pipeline follows.
type Settings struct {
	HighFrequency, LowFrequency time.Duration
	CacheBytes                  int64
	MaxMessageBytes             int
	Priority                    func(eventName string) event.Priority
	Aggregation                 map[string]aggregate.Setting
	HubResourceID               string
}

// messageSize is the exact size of a message of count events whose
// encodings total eventBytes.
func (p *Pipeline) messageSize(count, eventBytes int) int {
	if count == 0 {
		return p.overhead
	}
	return p.overhead + eventBytes + count - 1
}

func (s Settings) bodyLimit() int {
	return min(s.MaxMessageBytes, HubMessageLimit-propertyReserve)
}

// Options are fixed at construction.
type Options struct {
	Envelope event.Envelope
	Sink     sink.Sink
	Stats    *stats.Stats
	Logger   *logrus.Entry
	// IntakeSize bounds the channel between collectors and the pipeline.
	IntakeSize int
	// ShutdownTimeout bounds the final flush.
	ShutdownTimeout time.Duration
	// RetryBackoff is the first wait after a failed send; it doubles up to
	// a minute.
	RetryBackoff time.Duration
	Now          func() time.Time
	// Store keeps queued events; nil means in memory, within CacheBytes.
	Store Store
}

// Pipeline is built once; Run drives it.
type Pipeline struct {
	opt    Options
	in     chan event.Event
	q      Store
	win    *aggregate.Window
	mu     sync.Mutex
	set    Settings
	update chan Settings
	flush  chan chan error
	// overhead is the envelope's size, computed once.
	overhead int
	// intakeDone is closed when no event will be queued any more.
	intakeDone chan struct{}
	lastSend   time.Time
}

// New returns a pipeline with the given starting settings.
func New(opt Options, set Settings, reg prometheus.Registerer) *Pipeline {
	if opt.IntakeSize <= 0 {
		opt.IntakeSize = 8192
	}
	if opt.ShutdownTimeout <= 0 {
		opt.ShutdownTimeout = 10 * time.Second
	}
	if opt.RetryBackoff <= 0 {
		opt.RetryBackoff = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	p := &Pipeline{
		opt:        opt,
		in:         make(chan event.Event, opt.IntakeSize),
		q:          opt.Store,
		win:        aggregate.New(0),
		set:        set,
		update:     make(chan Settings, 1),
		flush:      make(chan chan error),
		intakeDone: make(chan struct{}),
		overhead:   opt.Envelope.Overhead(),
	}
	if p.q == nil {
		p.q = memory{queue.New(set.CacheBytes)}
	}
	p.win.Update(set.Aggregation, opt.Now())
	p.registerGauges(reg)
	return p
}

func (p *Pipeline) registerGauges(reg prometheus.Registerer) {
	for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "azureiotsecurity_queue_bytes",
			Help:        "Encoded bytes waiting in each queue.",
			ConstLabels: prometheus.Labels{"queue": c.String()},
		}, func() float64 { return float64(p.q.Bytes(c)) }))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "azureiotsecurity_queue_events",
			Help:        "Events waiting in each queue.",
			ConstLabels: prometheus.Labels{"queue": c.String()},
		}, func() float64 { return float64(p.q.Len(c)) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "azureiotsecurity_queue_budget_used_bytes",
		Help: "Bytes of the shared maxLocalCacheSizeInBytes budget in use, in-flight messages included.",
	}, func() float64 { return float64(p.q.Used()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "azureiotsecurity_intake_events",
		Help: "Events waiting in the intake channel.",
	}, func() float64 { return float64(len(p.in)) }))
}

// Emit hands an event to the pipeline without blocking. When the intake
// is full the event is dropped and counted: a collector must never stall
// on a slow sink.
func (p *Pipeline) Emit(ev event.Event) {
	select {
	case p.in <- ev:
	default:
		p.opt.Stats.Dropped(queue.Dropped{Class: p.classOf(ev), Name: ev.Name, Reason: stats.ReasonInputFull})
	}
}

// Update applies new settings; they take effect within one loop turn.
func (p *Pipeline) Update(s Settings) {
	for {
		select {
		case p.update <- s:
			return
		default:
		}
		select { // replace a pending update nobody has read yet
		case <-p.update:
		default:
		}
	}
}

func (p *Pipeline) settings() Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set
}

// ErrStopped is returned by Flush once the pipeline has shut down.
var ErrStopped = errors.New("pipeline stopped")

// Flush queues whatever the intake holds and sends every queued event
// now. It returns when the queues are empty or ctx ends.
func (p *Pipeline) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case p.flush <- done:
	case <-p.intakeDone:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LastSend is when a message was last acknowledged (zero if never).
func (p *Pipeline) LastSend() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastSend
}

// QueuedBytes reports bytes waiting per queue, for status reports.
func (p *Pipeline) QueuedBytes() map[string]int64 {
	return map[string]int64{
		"Operational": p.q.Bytes(queue.Operational),
		"High":        p.q.Bytes(queue.High),
		"Low":         p.q.Bytes(queue.Low),
	}
}
