package hubcost

import (
	"context"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/aggregate"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/pipeline"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// Default twin values the day runs with (see internal/config).
const (
	highFrequency   = 7 * time.Minute
	lowFrequency    = 5 * time.Hour
	cacheBytes      = 2560000
	maxMessageBytes = 204800
	aggregateWindow = time.Hour
	day             = 24 * time.Hour
)

// highByDefault are the event names the default twin sends High.
var highByDefault = map[string]bool{event.NameListeningPorts: true, event.NameLocalUsers: true, event.NameLogin: true}

func priority(name string) event.Priority {
	if highByDefault[name] {
		return event.High
	}
	return event.Low
}

var aggregated = []string{event.NameProcessCreate, event.NameProcessTerminate, event.NameConnectionCreate}

// Envelope is the one both runs use, so only the rules differ.
var Envelope = event.Envelope{AgentVersion: "0.1.0", AgentID: "7aaeef0e-614f-4ff2-97d2-1442186f73fa"}

// RunModule plays the day through the real pipeline, compressed by scale
// (1440 plays a day in a minute): the pipeline's clock (aggregation
// windows, timestamps) is simulated time, its send timers get the default
// frequencies divided by scale. The pipeline checks aggregation windows
// once per real second, so windows close up to scale seconds of simulated
// time late. The final shutdown flush is counted, like the end of a day.
func RunModule(ctx context.Context, events []Timed, simStart time.Time, scale float64) (Cost, error) {
	realStart := time.Now()
	now := func() time.Time {
		return simStart.Add(time.Duration(float64(time.Since(realStart)) * scale))
	}
	agg := map[string]aggregate.Setting{}
	for _, n := range aggregated {
		agg[n] = aggregate.Setting{Enabled: true, Interval: aggregateWindow}
	}
	set := pipeline.Settings{
		HighFrequency:   time.Duration(float64(highFrequency) / scale),
		LowFrequency:    time.Duration(float64(lowFrequency) / scale),
		CacheBytes:      cacheBytes,
		MaxMessageBytes: maxMessageBytes,
		Priority:        priority,
		Aggregation:     agg,
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	reg := prometheus.NewRegistry()
	m := &meter{}
	p := pipeline.New(pipeline.Options{Envelope: Envelope, Sink: m, Stats: stats.New(reg), Logger: logrus.NewEntry(log),
		Now: now, ShutdownTimeout: 30 * time.Second}, set, reg)
	runCtx, cancel := context.WithCancel(context.Background())
	upstream := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx, upstream) }()
	var err error
	wait := func(at time.Duration) bool {
		d := time.Until(realStart.Add(time.Duration(float64(at) / scale)))
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			err = ctx.Err()
			return false
		}
	}
	for _, e := range events {
		if !wait(e.At) {
			break
		}
		p.Emit(e.Ev)
	}
	if err == nil {
		wait(day)
	}
	cancel()
	close(upstream)
	if rerr := <-done; rerr != nil && err == nil {
		err = rerr
	}
	return m.total(), err
}
