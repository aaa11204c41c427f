package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/aggregate"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

var testEnvelope = event.Envelope{AgentVersion: "test", AgentID: "7aaeef0e-614f-4ff2-97d2-1442186f73fa"}

func priorities(m map[string]event.Priority) func(string) event.Priority {
	return func(name string) event.Priority {
		if p, ok := m[name]; ok {
			return p
		}
		return event.Low
	}
}

func settings() Settings {
	return Settings{
		HighFrequency:   time.Hour,
		LowFrequency:    time.Hour,
		CacheBytes:      2560000,
		MaxMessageBytes: 204800,
		Priority:        priorities(map[string]event.Priority{event.NameLocalUsers: event.High}),
	}
}

// harness runs a pipeline into the real local sink writing to a buffer.
type harness struct {
	t        *testing.T
	p        *Pipeline
	out      *syncBuffer
	reg      *prometheus.Registry
	stats    *stats.Stats
	cancel   context.CancelFunc
	done     chan error
	upstream chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func start(t *testing.T, set Settings, snk sink.Sink) *harness {
	t.Helper()
	h := &harness{t: t, out: &syncBuffer{}, reg: prometheus.NewRegistry(), done: make(chan error, 1), upstream: make(chan struct{})}
	if snk == nil {
		snk = sink.NewLocal(h.out)
	}
	h.stats = stats.New(h.reg)
	log := logrus.New()
	log.SetOutput(ioDiscard{})
	h.p = New(Options{Envelope: testEnvelope, Sink: snk, Stats: h.stats, Logger: logrus.NewEntry(log), RetryBackoff: time.Millisecond}, set, h.reg)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.p.Run(ctx, h.upstream) }()
	t.Cleanup(func() { h.stop() })
	return h
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

func (h *harness) flush() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.p.Flush(ctx); err != nil {
		h.t.Fatalf("flush: %v", err)
	}
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	close(h.upstream)
	h.cancel = nil
	if err := <-h.done; err != nil {
		h.t.Errorf("run: %v", err)
	}
}

// messages decodes and schema-checks every message written so far.
func (h *harness) messages() []*event.Message {
	h.t.Helper()
	var out []*event.Message
	for _, line := range h.out.lines() {
		schematest.Validate(h.t, line)
		m, err := event.DecodeMessage(line)
		if err != nil {
			h.t.Fatalf("decode: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func proc(i int) event.Event {
	return event.New(event.NameProcessCreate, time.Now(), event.ProcessCreate{
		Executable: "/bin/true", ProcessID: int64(1000 + i), ParentProcessID: 1, UserID: "0",
		CommandLine: fmt.Sprintf("/bin/true marker-%d", i),
	})
}

func users(n int) event.Event {
	items := make([]any, n)
	for i := range items {
		items[i] = event.LocalUser{UserName: fmt.Sprintf("user%05d", i), UserID: fmt.Sprint(1000 + i), GroupNames: "users", GroupIDs: "100"}
	}
	return event.New(event.NameLocalUsers, time.Now(), items...)
}

func names(ms []*event.Message) []string {
	var out []string
	for _, m := range ms {
		for _, e := range m.Events {
			out = append(out, e.Name)
		}
	}
	return out
}

func TestPackingExactSizeLimit(t *testing.T) {
	evs := []event.Event{proc(1), proc(2), proc(3)}
	var datas [][]byte
	for _, ev := range evs {
		b, _ := event.Encode(ev)
		datas = append(datas, b)
	}
	exact := len(testEnvelope.AppendMessage(nil, datas))
	for _, tc := range []struct {
		limit    int
		messages int
	}{{exact, 1}, {exact - 1, 2}} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			set := settings()
			set.MaxMessageBytes = tc.limit
			h := start(t, set, nil)
			for _, ev := range evs {
				h.p.Emit(ev)
			}
			h.flush()
			ms := h.messages()
			if len(ms) != tc.messages {
				t.Fatalf("got %d messages, want %d", len(ms), tc.messages)
			}
			for _, line := range h.out.lines() {
				if len(line) > tc.limit {
					t.Errorf("message of %d bytes exceeds limit %d", len(line), tc.limit)
				}
			}
			if got := len(names(ms)); got != 3 {
				t.Errorf("got %d events, want 3", got)
			}
		})
	}
}

func TestOversizedEventIsDroppedAndDoesNotBlock(t *testing.T) {
	set := settings()
	set.MaxMessageBytes = 8192
	h := start(t, set, nil)
	big := event.New(event.NameProcessCreate, time.Now(), event.ProcessCreate{
		Executable: "/bin/sh", UserID: "0", CommandLine: strings.Repeat("x", 9000)})
	h.p.Emit(big)
	h.p.Emit(proc(1))
	h.flush()
	ms := h.messages()
	if got := names(ms); len(got) != 1 {
		t.Fatalf("sent %v, want the one small event", got)
	}
	if got := testutil.ToFloat64(h.stats.DroppedCounter(event.NameProcessCreate, "Low", stats.ReasonOversized)); got != 1 {
		t.Errorf("oversized drops = %v, want 1", got)
	}
}

func TestLargeSnapshotIsSplitIntoValidEvents(t *testing.T) {
	set := settings()
	set.MaxMessageBytes = 8192
	h := start(t, set, nil)
	h.p.Emit(users(2000))
	h.flush()
	ms := h.messages()
	seen := map[string]bool{}
	for _, m := range ms {
		for _, e := range m.Events {
			for _, it := range e.Payload {
				seen[it.(*event.LocalUser).UserName] = true
			}
		}
	}
	if len(seen) != 2000 {
		t.Fatalf("got %d distinct users in %d messages, want 2000", len(seen), len(ms))
	}
	for _, line := range h.out.lines() {
		if len(line) > 8192 {
			t.Fatalf("message of %d bytes exceeds 8192", len(line))
		}
	}
}

func TestManyTinyEventsKeepOrderAndLimit(t *testing.T) {
	set := settings()
	set.MaxMessageBytes = 16384
	set.Aggregation = map[string]aggregate.Setting{}
	h := start(t, set, nil)
	const n = 3000
	for i := range n {
		h.p.Emit(proc(i))
	}
	h.flush()
	ms := h.messages()
	i := 0
	for _, m := range ms {
		for _, e := range m.Events {
			want := fmt.Sprintf("/bin/true marker-%d", i)
			if got := e.Payload[0].(*event.ProcessCreate).CommandLine; got != want {
				t.Fatalf("event %d: %q, want %q", i, got, want)
			}
			i++
		}
	}
	if i != n {
		t.Fatalf("got %d events, want %d", i, n)
	}
	if len(ms) < 2 {
		t.Fatalf("expected several messages, got %d", len(ms))
	}
}

func TestPriorityOffIsNotQueued(t *testing.T) {
	set := settings()
	set.Priority = priorities(map[string]event.Priority{event.NameProcessCreate: event.Off})
	h := start(t, set, nil)
	h.p.Emit(proc(1))
	h.p.Emit(users(1))
	h.flush()
	got := names(h.messages())
	if len(got) != 1 || got[0] != event.NameLocalUsers {
		t.Fatalf("sent %v, want only LocalUsers", got)
	}
}

func TestBudgetEvictsLowBeforeHigh(t *testing.T) {
	set := settings()
	one, _ := event.Encode(proc(1))
	set.CacheBytes = int64(8 * (len(one) + 64)) // room for about 8 small events
	blocked := newGate()
	h := start(t, set, blocked)
	h.p.Emit(users(1)) // High
	for i := range 20 {
		h.p.Emit(proc(i)) // Low
	}
	waitFor(t, func() bool { return len(h.p.in) == 0 })
	blocked.open()
	h.flush()
	got := names(blocked.messages(t))
	if got[0] != event.NameLocalUsers {
		t.Fatalf("High event was evicted: sent %v", got)
	}
	dropped := testutil.ToFloat64(h.stats.DroppedCounter(event.NameProcessCreate, "Low", "evicted"))
	if dropped == 0 || int(dropped)+len(got)-1 != 20 {
		t.Fatalf("evicted %v Low events and sent %d events; every Low event must be sent or counted", dropped, len(got))
	}
	st := h.stats.Events(time.Now())
	low := st[0].Payload[1].(event.DroppedEvents)
	if low.DroppedEvents != int64(dropped) || low.CollectedEvents != 20 {
		t.Fatalf("DroppedEventsStatistics Low = %+v, want 20 collected and %v dropped", low, dropped)
	}
}

func TestShutdownFlushesQueuedEvents(t *testing.T) {
	h := start(t, settings(), nil)
	for i := range 50 {
		h.p.Emit(proc(i))
	}
	h.stop()
	if got := len(names(h.messages())); got != 50 {
		t.Fatalf("after shutdown %d events were written, want 50", got)
	}
}

func TestFailedSendIsRetriedWithSameID(t *testing.T) {
	fs := &flakySink{failures: 3}
	h := start(t, settings(), fs)
	h.p.Emit(proc(1))
	h.flush()
	if len(fs.ids) != 4 {
		t.Fatalf("got %d attempts, want 4", len(fs.ids))
	}
	for _, id := range fs.ids {
		if id != fs.ids[0] {
			t.Fatalf("message id changed between retries: %v", fs.ids)
		}
	}
	if got := testutil.ToFloat64(h.stats.MessagesCounter("failed")); got != 3 {
		t.Errorf("failed attempts = %v, want 3", got)
	}
}

// flakySink fails its first attempts: a stand-in for a transport that is
// down, since the real one (edgeHub) is tested in its own package.
type flakySink struct {
	mu       sync.Mutex
	failures int
	ids      []string
}

func (f *flakySink) Send(_ context.Context, m sink.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, m.ID)
	if f.failures > 0 {
		f.failures--
		return errors.New("transport down")
	}
	return nil
}

// gate holds sends until opened, so queue pressure can build up.
type gate struct {
	ch  chan struct{}
	out *syncBuffer
	*sink.Local
}

func newGate() *gate {
	g := &gate{ch: make(chan struct{}), out: &syncBuffer{}}
	g.Local = sink.NewLocal(g.out)
	return g
}

func (g *gate) open() { close(g.ch) }

func (g *gate) Send(ctx context.Context, m sink.Message) error {
	select {
	case <-g.ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Local.Send(ctx, m)
}

func (g *gate) messages(t *testing.T) []*event.Message {
	h := &harness{t: t, out: g.out}
	return h.messages()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rejectingSink refuses everything for good, as edgeHub's client does for
// a message it can never publish.
type rejectingSink struct{ calls int }

func (r *rejectingSink) Send(context.Context, sink.Message) error {
	r.calls++
	return fmt.Errorf("too large: %w", sink.ErrRejected)
}

func TestRejectedMessageIsDroppedNotRetried(t *testing.T) {
	rs := &rejectingSink{}
	h := start(t, settings(), rs)
	h.p.Emit(proc(1))
	h.flush()
	if rs.calls != 1 {
		t.Fatalf("a rejected message was tried %d times", rs.calls)
	}
	if got := testutil.ToFloat64(h.stats.DroppedCounter(event.NameProcessCreate, "Low", stats.ReasonRejected)); got != 1 {
		t.Fatalf("rejected drops = %v", got)
	}
}

func TestChangeSnapshotGoesHigh(t *testing.T) {
	h := start(t, settings(), nil)
	plain := event.New(event.NameListeningPorts, time.Now(), event.ListeningPort{Protocol: "tcp", LocalPort: "22"})
	changed := event.New(event.NameListeningPorts, time.Now(), event.ListeningPort{Protocol: "tcp", LocalPort: "4444",
		ExtraDetails: map[string]string{event.ChangeKey: "added"}})
	if c, _ := h.p.classify(plain); c != queue.Low {
		t.Fatalf("plain Low-priority snapshot classified %v", c)
	}
	if c, _ := h.p.classify(changed); c != queue.High {
		t.Fatalf("change snapshot classified %v, want High", c)
	}
}
