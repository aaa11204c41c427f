package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/spool"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// recorder is a sink that is down until told otherwise and records the
// message ids it was offered; once up it writes bodies like the local
// sink. The real transport is tested in internal/edgehub.
type recorder struct {
	mu    sync.Mutex
	up    bool
	tries []string
	sent  []sink.Message
}

func (r *recorder) Send(_ context.Context, m sink.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries = append(r.tries, m.ID)
	if !r.up {
		return errors.New("edgeHub unreachable")
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) snapshot() (tries []string, sent []sink.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tries...), append([]sink.Message(nil), r.sent...)
}

func openStore(t *testing.T, dir string) *spool.Store {
	t.Helper()
	log := logrus.New()
	log.SetOutput(ioDiscard{})
	st := spool.NewStore(spool.StoreOptions{
		Options:    spool.Options{Dir: dir, Budget: 1 << 20},
		Logger:     logrus.NewEntry(log),
		Registerer: prometheus.NewRegistry(),
	})
	if err := st.Degraded(); err != nil {
		t.Fatalf("no spool: %v", err)
	}
	return st
}

func runWith(t *testing.T, set Settings, snk sink.Sink, st Store) (*Pipeline, func()) {
	t.Helper()
	log := logrus.New()
	log.SetOutput(ioDiscard{})
	reg := prometheus.NewRegistry()
	p := New(Options{Envelope: testEnvelope, Sink: snk, Stats: stats.New(reg), Logger: logrus.NewEntry(log),
		RetryBackoff: time.Millisecond, ShutdownTimeout: 50 * time.Millisecond, Store: st}, set, reg)
	ctx, cancel := context.WithCancel(context.Background())
	upstream := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, upstream) }()
	return p, func() {
		cancel()
		close(upstream)
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

func markers(ms []sink.Message) []string {
	var out []string
	for _, m := range ms {
		dm, err := event.DecodeMessage(m.Body)
		if err != nil {
			panic(err)
		}
		for _, e := range dm.Events {
			switch p := e.Payload[0].(type) {
			case *event.ProcessCreate:
				out = append(out, p.CommandLine)
			case *event.LocalUser:
				out = append(out, "users")
			}
		}
	}
	return out
}

// TestSpoolSurvivesRestartWithSameMessageID stops the module while
// edgeHub is down, with a message in flight: the next run sends that
// message first, under its original $.mid, then the rest in order.
func TestSpoolSurvivesRestartWithSameMessageID(t *testing.T) {
	dir := t.TempDir()
	set := settings()
	set.MaxMessageBytes = 8192 // several messages
	set.HighFrequency = 10 * time.Millisecond
	st := openStore(t, dir)
	down := &recorder{}
	p, stop := runWith(t, set, down, st)
	const n = 60
	p.Emit(users(1))
	for i := range n {
		p.Emit(proc(i))
	}
	waitFor(t, func() bool { tries, _ := down.snapshot(); return len(tries) >= 3 })
	stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Each message is retried under its id; shutdown may have started
	// another one. All are still unacknowledged.
	tries, _ := down.snapshot()
	var inFlight []string
	for _, id := range tries {
		if len(inFlight) == 0 || inFlight[len(inFlight)-1] != id {
			inFlight = append(inFlight, id)
		}
	}

	st = openStore(t, dir)
	defer st.Close()
	up := &recorder{up: true}
	p, stop = runWith(t, settings(), up, st)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, sent := up.snapshot()
	if len(sent) < len(inFlight) {
		t.Fatalf("sent %d messages after restart, %d were in flight", len(sent), len(inFlight))
	}
	for i, id := range inFlight {
		if sent[i].ID != id {
			t.Fatalf("message %d after restart has id %s, want the in-flight %s", i, sent[i].ID, id)
		}
	}
	got := markers(sent)
	want := []string{"users"}
	for i := range n {
		want = append(want, fmt.Sprintf("/bin/true marker-%d", i))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart sent\n%v\nwant\n%v", got, want)
	}
}
