// Package stats counts what the pipeline collected, dropped and sent, for
// Prometheus and for the schema's two operational summaries,
// DroppedEventsStatistics and MessageStatistics.
package stats

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// BillingBlock is IoT Hub's metering unit; the backend flags agents whose
// messages are mostly smaller than this.
const BillingBlock = 4096

// Drop reasons beyond the queue's own.
const (
	ReasonInputFull = "input_full" // the intake channel was full
	ReasonOversized = "oversized"  // can never fit in one message
	ReasonShutdown  = "shutdown"   // still unsent when shutdown gave up
	ReasonRejected  = "rejected"   // the sink refused the message for good
)

type window struct {
	collected, dropped [2]int64 // High, Low
	sent, under4K      int64
	failed             int64
}

// Stats is safe for concurrent use.
type Stats struct {
	mu    sync.Mutex
	cur   window
	total Totals

	collected  *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	sentEvents *prometheus.CounterVec
	messages   *prometheus.CounterVec
	sentBytes  prometheus.Counter
	under4K    prometheus.Counter
	fill       prometheus.Histogram
}

// New registers the pipeline counters on reg.
func New(reg prometheus.Registerer) *Stats {
	s := &Stats{
		collected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_events_collected_total",
			Help: "Events accepted into the pipeline, by event name and queue.",
		}, []string{"event", "queue"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_events_dropped_total",
			Help: "Events dropped before sending, by event name, queue and reason.",
		}, []string{"event", "queue", "reason"}),
		sentEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_events_sent_total",
			Help: "Events delivered to the sink, by event name.",
		}, []string{"event"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_messages_total",
			Help: "Security messages by outcome: sent (acknowledged) or failed (attempts that failed).",
		}, []string{"outcome"}),
		sentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_message_sent_bytes_total",
			Help: "Body bytes of acknowledged security messages.",
		}),
		under4K: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_messages_under_4kb_total",
			Help: "Acknowledged messages smaller than IoT Hub's 4 KB billing block.",
		}),
		fill: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "azureiotsecurity_message_billing_block_fill_ratio",
			Help:    "How full the last 4 KB billing block of each sent message is (1 = no waste).",
			Buckets: []float64{0.25, 0.5, 0.75, 0.9, 1},
		}),
	}
	for _, o := range []string{"sent", "failed"} {
		s.messages.WithLabelValues(o)
	}
	reg.MustRegister(s.collected, s.dropped, s.sentEvents, s.messages, s.sentBytes, s.under4K, s.fill)
	return s
}

func slot(c queue.Class) int {
	if c == queue.High {
		return 0
	}
	return 1
}

// Collected counts an event accepted into class c.
func (s *Stats) Collected(c queue.Class, name string) {
	s.collected.WithLabelValues(name, c.String()).Inc()
	if c == queue.Operational {
		return // the schema's summary knows only High and Low
	}
	s.mu.Lock()
	s.cur.collected[slot(c)]++
	s.mu.Unlock()
}

// Dropped counts events given up on.
func (s *Stats) Dropped(ds ...queue.Dropped) {
	for _, d := range ds {
		s.dropped.WithLabelValues(d.Name, d.Class.String(), d.Reason).Inc()
		if d.Class == queue.Operational {
			continue
		}
		s.mu.Lock()
		s.cur.dropped[slot(d.Class)]++
		s.mu.Unlock()
	}
}

// Sent counts one acknowledged message and the events it carried.
func (s *Stats) Sent(bodyBytes int, names []string) {
	s.messages.WithLabelValues("sent").Inc()
	s.sentBytes.Add(float64(bodyBytes))
	for _, n := range names {
		s.sentEvents.WithLabelValues(n).Inc()
	}
	if rem := bodyBytes % BillingBlock; rem == 0 {
		s.fill.Observe(1)
	} else {
		s.fill.Observe(float64(rem) / BillingBlock)
	}
	small := bodyBytes < BillingBlock
	if small {
		s.under4K.Inc()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.sent++
	s.total.Sent++
	if small {
		s.cur.under4K++
	}
}

// Failed counts one failed send attempt.
func (s *Stats) Failed() {
	s.messages.WithLabelValues("failed").Inc()
	s.mu.Lock()
	s.cur.failed++
	s.total.Failed++
	s.mu.Unlock()
}

// Events returns the two operational summaries for the period since the
// last call, and starts a new period. MessagesSent counts acknowledged
// messages only (the C# agent counted attempts).
func (s *Stats) Events(now time.Time) []event.Event {
	s.mu.Lock()
	w := s.cur
	s.cur = window{}
	s.mu.Unlock()
	return []event.Event{
		event.New(event.NameDroppedEventsStatistics, now,
			event.DroppedEvents{Queue: "High", CollectedEvents: w.collected[0], DroppedEvents: w.dropped[0]},
			event.DroppedEvents{Queue: "Low", CollectedEvents: w.collected[1], DroppedEvents: w.dropped[1]},
		),
		event.New(event.NameMessageStatistics, now,
			event.MessageStatistics{MessagesSent: w.sent, MessagesUnder4KB: w.under4K, TotalFailed: w.failed},
		),
	}
}

// DroppedCounter exposes one drop counter, for tests and status.
func (s *Stats) DroppedCounter(name, queue, reason string) prometheus.Counter {
	return s.dropped.WithLabelValues(name, queue, reason)
}

// MessagesCounter exposes the sent or failed message counter.
func (s *Stats) MessagesCounter(outcome string) prometheus.Counter {
	return s.messages.WithLabelValues(outcome)
}

// Totals are counts since start.
type Totals struct{ Sent, Failed int64 }

// Totals returns the messages acknowledged and the failed attempts since
// start.
func (s *Stats) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
