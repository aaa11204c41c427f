package pipeline

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/aggregate"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/spool"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// benchPipeline measures intake → (aggregation) → encode → queue → pack
// → serialise → local sink, per event.
func benchPipeline(b *testing.B, aggregated bool) { benchPipelineStore(b, aggregated, nil) }

func benchPipelineStore(b *testing.B, aggregated bool, st Store) {
	set := settings()
	set.CacheBytes = 64 << 20
	if aggregated {
		set.Aggregation = map[string]aggregate.Setting{event.NameProcessCreate: {Enabled: true, Interval: time.Hour}}
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	reg := prometheus.NewRegistry()
	p := New(Options{Envelope: testEnvelope, Sink: sink.NewLocal(io.Discard), Stats: stats.New(reg), Logger: logrus.NewEntry(log), IntakeSize: 4096, Store: st}, set, reg)
	ctx, cancel := context.WithCancel(context.Background())
	upstream := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, upstream) }()
	evs := make([]event.Event, 1024)
	for i := range evs {
		evs[i] = proc(i % 64)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		n := min(b.N-i, 4096)
		for j := range n {
			p.Emit(evs[(i+j)%len(evs)])
		}
		i += n
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cancel()
	close(upstream)
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkPipelineRaw(b *testing.B)        { benchPipeline(b, false) }
func BenchmarkPipelineAggregated(b *testing.B) { benchPipeline(b, true) }

// BenchmarkPipelineSpooled is BenchmarkPipelineRaw with the durable
// spool: every event is committed to disk before it is sent, and every
// message is held and released on disk.
func BenchmarkPipelineSpooled(b *testing.B) {
	log := logrus.New()
	log.SetOutput(io.Discard)
	st := spool.NewStore(spool.StoreOptions{Options: spool.Options{Dir: b.TempDir(), Budget: 64 << 20},
		Logger: logrus.NewEntry(log), Registerer: prometheus.NewRegistry()})
	defer st.Close()
	benchPipelineStore(b, false, st)
}
