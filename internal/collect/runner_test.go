package collect

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Test sources register under event names no production package of this
// test binary registers.
var (
	snapshots atomic.Int64
	streamRun atomic.Int64
)

type countingSnapshot struct{}

func (countingSnapshot) Collect(_ context.Context, emit func(event.Event)) error {
	snapshots.Add(1)
	emit(event.New(event.NameConnectedHardware, time.Now(), event.ConnectedHardware{HardwareCategory: "usb", HardwareSubCategory: "hub", HardwareName: "x"}))
	return nil
}

type failingStream struct{}

func (failingStream) Collect(context.Context, func(event.Event)) error { return nil }

func (failingStream) Stream(ctx context.Context, emit func(event.Event)) error {
	if streamRun.Add(1) == 1 {
		return errors.New("backend vanished")
	}
	<-ctx.Done()
	return nil
}

func init() {
	Register(event.NameConnectedHardware, func(Deps) (Collector, error) { return countingSnapshot{}, nil })
	Register(event.NameProcessTerminate, func(Deps) (Collector, error) { return failingStream{}, nil })
}

type sinkEvents struct {
	mu  sync.Mutex
	evs []event.Event
}

func (s *sinkEvents) emit(ev event.Event) { s.mu.Lock(); s.evs = append(s.evs, ev); s.mu.Unlock() }
func (s *sinkEvents) len() int            { s.mu.Lock(); defer s.mu.Unlock(); return len(s.evs) }

func newRunner(t *testing.T) (*Runner, *sinkEvents, func()) {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	out := &sinkEvents{}
	r := NewRunner(Deps{Root: "/", Logger: logrus.NewEntry(log), Registerer: prometheus.NewRegistry()}, out.emit)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return r, out, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestRunnerOffThenOnThenSnapshot(t *testing.T) {
	snapshots.Store(0)
	r, out, stop := newRunner(t)
	defer stop()
	r.Apply(Plan{Enabled: map[string]bool{}, SnapshotEvery: time.Hour})
	eventually(t, "ready", r.Ready)
	if got := r.Status()[event.NameConnectedHardware]; got != "off" {
		t.Fatalf("status = %q, want off", got)
	}
	if snapshots.Load() != 0 {
		t.Fatal("an Off collector ran")
	}
	r.Apply(Plan{Enabled: map[string]bool{event.NameConnectedHardware: true}, SnapshotEvery: time.Hour})
	eventually(t, "snapshot at start", func() bool { return out.len() == 1 })
	if err := r.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.len() != 2 {
		t.Fatalf("after Snapshot: %d events, want 2", out.len())
	}
	r.Apply(Plan{Enabled: map[string]bool{}, SnapshotEvery: time.Hour})
	eventually(t, "stop", func() bool { return r.Status()[event.NameConnectedHardware] == "off" })
}

func TestRunnerRestartsFailedStream(t *testing.T) {
	streamRun.Store(0)
	r, _, stop := newRunner(t)
	defer stop()
	r.Apply(Plan{Enabled: map[string]bool{event.NameProcessTerminate: true}, SnapshotEvery: time.Hour})
	eventually(t, "stream restart", func() bool { return streamRun.Load() >= 2 })
	eventually(t, "running status", func() bool { return r.Status()[event.NameProcessTerminate] == "running" })
}

// watchingSnapshot reports a change once; the runner must snapshot again.
type watchingSnapshot struct{ countingSnapshot }

var watchSnapshots atomic.Int64

func (watchingSnapshot) Collect(ctx context.Context, emit func(event.Event)) error {
	watchSnapshots.Add(1)
	return nil
}

func (watchingSnapshot) Watch(ctx context.Context, changed func()) error {
	changed()
	<-ctx.Done()
	return nil
}

func init() {
	Register(event.NameOSBaseline, func(Deps) (Collector, error) { return watchingSnapshot{}, nil })
}

func TestRunnerSnapshotsOnWatchedChange(t *testing.T) {
	watchSnapshots.Store(0)
	r, _, stop := newRunner(t)
	defer stop()
	r.Apply(Plan{Enabled: map[string]bool{event.NameOSBaseline: true}, SnapshotEvery: time.Hour})
	eventually(t, "start snapshot plus change snapshot", func() bool { return watchSnapshots.Load() == 2 })
}
