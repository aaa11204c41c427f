package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/aggregate"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/pipeline"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/spool"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

func pipelineSettings(c config.Config) pipeline.Settings {
	agg := make(map[string]aggregate.Setting, len(c.Aggregation))
	for name, a := range c.Aggregation {
		agg[name] = aggregate.Setting{Enabled: a.Enabled, Interval: a.Interval}
	}
	return pipeline.Settings{
		HighFrequency:   c.HighPriorityMessageFrequency,
		LowFrequency:    c.LowPriorityMessageFrequency,
		CacheBytes:      c.MaxLocalCacheSizeInBytes,
		MaxMessageBytes: int(c.MaxMessageSizeInBytes),
		Priority:        c.Priority,
		Aggregation:     agg,
		HubResourceID:   c.HubResourceID,
	}
}

func plan(c config.Config, once bool) collect.Plan {
	enabled := map[string]bool{}
	for _, name := range event.Names() {
		if c.Priority(name) != event.Off {
			enabled[name] = true
		}
	}
	return collect.Plan{Enabled: enabled, SnapshotEvery: c.SnapshotFrequency, SnapshotsOnly: once,
		CheckInterval: c.Module.ListeningPortsCheckInterval}
}

// localOverrides turns the frequency flags into a function applied on top
// of every configuration, so a local run can be made to report quickly.
func localOverrides(o options) (func(*config.Config), error) {
	parse := func(flag, v string) (time.Duration, error) {
		if v == "" {
			return 0, nil
		}
		d, err := config.ParseDuration(v)
		if err != nil {
			if d, gerr := time.ParseDuration(v); gerr == nil && d > 0 {
				return d, nil
			}
			return 0, fmt.Errorf("--%s %q: %w", flag, v, err)
		}
		if d <= 0 {
			return 0, fmt.Errorf("--%s %q: must be positive", flag, v)
		}
		return d, nil
	}
	snap, err := parse("snapshot-frequency", o.snapshotEvery)
	if err != nil {
		return nil, err
	}
	high, err := parse("high-frequency", o.highEvery)
	if err != nil {
		return nil, err
	}
	low, err := parse("low-frequency", o.lowEvery)
	if err != nil {
		return nil, err
	}
	return func(c *config.Config) {
		if snap > 0 {
			c.SnapshotFrequency = snap
		}
		if high > 0 {
			c.HighPriorityMessageFrequency = high
		}
		if low > 0 {
			c.LowPriorityMessageFrequency = low
		}
	}, nil
}

func localSink(o options, stdout io.Writer) (sink.Sink, func(), error) {
	if o.output == "-" || o.output == "" {
		return sink.NewLocal(stdout), func() {}, nil
	}
	f, err := os.OpenFile(o.output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("output: %w", err)
	}
	return sink.NewLocal(f), func() { _ = f.Close() }, nil
}

// statsCollector emits the operational summaries every snapshot period.
type statsCollector struct{ s *stats.Stats }

func (c statsCollector) Collect(_ context.Context, emit func(event.Event)) error {
	for _, ev := range c.s.Events(time.Now()) {
		emit(ev)
	}
	return nil
}

// openSpool keeps queued events on disk in the state directory, so they
// survive restarts and outages; without a writable directory it falls
// back to memory by itself (and says so).
func openSpool(o options, c config.Config, log *logrus.Entry, reg prometheus.Registerer, st *stats.Stats) *spool.Store {
	return spool.NewStore(spool.StoreOptions{
		Options:    spool.Options{Dir: o.stateDir, Budget: c.MaxLocalCacheSizeInBytes, TTL: c.Module.SpoolEventTTL},
		Logger:     log,
		Registerer: reg,
		OnDrop:     st.Dropped,
	})
}
