package process

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// testSink collects the engine's events.
type testSink struct {
	mu     sync.Mutex
	create []event.Event
	term   []event.Event
}

func (s *testSink) wants(rawKind) bool { return true }

func (s *testSink) emit(kind rawKind, ev event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == rawExec {
		s.create = append(s.create, ev)
	} else {
		s.term = append(s.term, ev)
	}
}

func (s *testSink) snapshot() (create, term []event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.create...), append([]event.Event(nil), s.term...)
}

// startEngine runs an engine over the real host until the test ends and
// waits until a backend is delivering.
func startEngine(t *testing.T, opts Options, selfPID int) (*engine, *testSink) {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		t.Skipf("no /proc to read: %v", err)
	}
	s := &testSink{}
	e := newEngine(logrus.NewEntry(log), "/", selfPID, opts, newMetrics(prometheus.NewRegistry()), enr, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	waitFor(t, 20*time.Second, func() bool { return e.Status().Backend != "" }, func() string {
		return "no backend started: " + e.Status().String()
	})
	return e, s
}

// waitFor polls cond with a generous deadline.
func waitFor(t *testing.T, limit time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// burst runs n short-lived `/bin/true <marker>-<i>` processes from a few
// workers and returns pid → expected command line.
func burst(t *testing.T, n int, marker string) map[int32]string {
	t.Helper()
	const workers = 4
	var mu sync.Mutex
	want := make(map[int32]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				arg := fmt.Sprintf("%s-%d", marker, i)
				cmd := exec.Command("/bin/true", arg)
				if err := cmd.Run(); err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				want[int32(cmd.Process.Pid)] = "/bin/true " + arg
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d processes failed to run", f, n)
	}
	return want
}

// capture counts, among want, the processes seen as ProcessCreate (by
// pid) and those with the right command line, plus their terminations.
func capture(s *testSink, want map[int32]string) (seen, exact, exited int) {
	create, term := s.snapshot()
	got := map[int32]string{}
	for _, ev := range create {
		p := ev.Payload[0].(*event.ProcessCreate)
		if _, ok := want[int32(p.ProcessID)]; ok {
			got[int32(p.ProcessID)] = p.CommandLine
		}
	}
	for pid, cl := range got {
		seen++
		if cl == want[pid] {
			exact++
		}
	}
	ended := map[int32]bool{}
	for _, ev := range term {
		p := ev.Payload[0].(*event.ProcessTerminate)
		if _, ok := want[int32(p.ProcessID)]; ok {
			ended[int32(p.ProcessID)] = true
		}
	}
	return seen, exact, len(ended)
}

func markerFor(t *testing.T) string {
	return fmt.Sprintf("azis-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}
