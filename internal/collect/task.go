package collect

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

type runnerMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	events   *prometheus.CounterVec
	changes  *prometheus.CounterVec
}

func newRunnerMetrics(reg prometheus.Registerer) runnerMetrics {
	m := runnerMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "azureiotsecurity_collector_duration_seconds",
			Help:    "Time one snapshot of a periodic collector took.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"collector"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_collector_errors_total",
			Help: "Failed snapshots, failed streams and collectors that could not start.",
		}, []string{"collector"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_collector_events_total",
			Help: "Events emitted by each collector.",
		}, []string{"collector"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_collector_change_snapshots_total",
			Help: "Out-of-schedule snapshots taken because a collector's watch saw a change.",
		}, []string{"collector"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.errors, m.events, m.changes)
	}
	return m
}

// collectOnce runs one snapshot. ErrNoData is not a failure.
func (r *Runner) collectOnce(ctx context.Context, name string, c Collector) error {
	start := time.Now()
	counter := r.metrics.events.WithLabelValues(name)
	err := c.Collect(ctx, func(ev event.Event) { counter.Inc(); r.emit(ev) })
	r.metrics.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	log := r.log.WithField("collector", name)
	switch {
	case err == nil:
		r.setStatus(name, "running")
	case errors.Is(err, ErrNoData):
		log.WithError(err).Debug("nothing to report")
		err = nil
	case ctx.Err() != nil:
		err = nil // stopped mid-snapshot
	default:
		r.metrics.errors.WithLabelValues(name).Inc()
		r.setStatus(name, "error: "+err.Error())
		log.WithError(err).Warn("snapshot failed")
	}
	return err
}

func (r *Runner) runPeriodic(ctx context.Context, name string, c Collector, every time.Duration, immediate bool, initial func(), done chan struct{}) {
	defer close(done)
	changed := make(chan struct{}, 1)
	if w, ok := c.(Watcher); ok {
		watchDone := make(chan struct{})
		defer func() { <-watchDone }()
		go r.runWatch(ctx, name, w, changed, watchDone)
	}
	if immediate {
		_ = r.collectOnce(ctx, name, c) // counted and logged inside
	}
	if initial != nil {
		initial()
	}
	if every <= 0 {
		every = defaultSnapshotEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = r.collectOnce(ctx, name, c)
		case <-changed:
			r.metrics.changes.WithLabelValues(name).Inc()
			_ = r.collectOnce(ctx, name, c)
		}
	}
}

// runWatch keeps a Watcher running, restarting it with backoff when it
// fails; a change it reports wakes the periodic loop (coalesced).
func (r *Runner) runWatch(ctx context.Context, name string, w Watcher, changed chan<- struct{}, done chan struct{}) {
	defer close(done)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	backoff := time.Second
	for {
		err := w.Watch(ctx, notify)
		if ctx.Err() != nil {
			return
		}
		r.metrics.errors.WithLabelValues(name).Inc()
		r.log.WithField("collector", name).WithError(err).WithField("retry_in", backoff).Warn("change watch failed; snapshots continue on schedule")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxStreamBackoff)
	}
}

// defaultSnapshotEvery is the twin's default snapshotFrequency, used if a
// plan carries none.
const defaultSnapshotEvery = 13 * time.Hour

// maxStreamBackoff caps the wait before a failed stream is restarted.
const maxStreamBackoff = time.Minute

func (r *Runner) runStream(ctx context.Context, name string, s Streamer, done chan struct{}) {
	defer close(done)
	backoff := time.Second
	counter := r.metrics.events.WithLabelValues(name)
	for {
		err := s.Stream(ctx, func(ev event.Event) { counter.Inc(); r.emit(ev) })
		if ctx.Err() != nil {
			return
		}
		r.metrics.errors.WithLabelValues(name).Inc()
		if err == nil {
			err = errors.New("stream ended")
		}
		r.setStatus(name, "error: "+err.Error())
		r.log.WithField("collector", name).WithError(err).WithField("retry_in", backoff).Warn("stream failed; restarting")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		r.setStatus(name, "running")
		backoff = min(backoff*2, maxStreamBackoff)
	}
}
