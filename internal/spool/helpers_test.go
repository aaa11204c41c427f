package spool

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// clock is an injected time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustOpen(t testing.TB, opt Options) (*Spool, Report) {
	t.Helper()
	s, rep, err := Open(opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, rep
}

func ev(name string, i int) queue.Item {
	return queue.Item{Name: name, Data: fmt.Appendf(nil, `{"Name":%q,"n":%d}`, name, i)}
}

func all(queue.Item) bool { return true }

func upTo(n int) func(queue.Item) bool {
	return func(queue.Item) bool { n--; return n >= 0 }
}

func mustAdd(t testing.TB, s *Spool, c queue.Class, it queue.Item) []queue.Dropped {
	t.Helper()
	d, err := s.Add(c, it)
	if err != nil {
		t.Fatal(err)
	}
	more, err := s.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return append(d, more...)
}

func mustTake(t testing.TB, s *Spool, c queue.Class, fit func(queue.Item) bool) []queue.Item {
	t.Helper()
	items, err := s.Take(c, fit)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func datas(items []queue.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.Data)
	}
	return out
}

func quietLogger() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// logTo captures log lines, to check the warnings operators see.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func capturingLogger() (*logrus.Entry, *logLines) {
	l := logrus.New()
	out := &logLines{}
	l.SetOutput(out)
	return logrus.NewEntry(l), out
}

// drops collects what a Store reports out of band.
type drops struct {
	mu sync.Mutex
	d  []queue.Dropped
}

func (d *drops) add(ds ...queue.Dropped) {
	d.mu.Lock()
	d.d = append(d.d, ds...)
	d.mu.Unlock()
}

func (d *drops) count(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.d {
		if x.Reason == reason {
			n++
		}
	}
	return n
}

func newStore(t testing.TB, opt StoreOptions) (*Store, *drops, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	d := &drops{}
	opt.Registerer = reg
	opt.OnDrop = d.add
	if opt.Logger == nil {
		opt.Logger = quietLogger()
	}
	st := NewStore(opt)
	t.Cleanup(func() { _ = st.Close() })
	return st, d, reg
}
