package connection

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// envDial makes the test binary a client: it dials the address, prints
// its local address, and holds the connection until the server closes.
const envDial = "CONNECTION_TEST_DIAL"

func TestMain(m *testing.M) {
	if addr := os.Getenv(envDial); addr != "" {
		os.Exit(dialAndHold(addr))
	}
	os.Exit(m.Run())
}

func dialAndHold(addr string) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(c.LocalAddr())
	_, _ = io.Copy(io.Discard, c)
	return 0
}

// client is a child process connected to a test server.
type client struct {
	cmd   *exec.Cmd
	local *net.TCPAddr
}

// startClient runs the test binary as a client of addr.
func startClient(t *testing.T, addr string) client {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envDial+"="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	local, err := net.ResolveTCPAddr("tcp", strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return client{cmd: cmd, local: local}
}

// server accepts and holds connections until the test ends.
func server(t *testing.T, network, addr string) *net.TCPListener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.(*net.TCPListener)
}

// eventLog collects emitted events.
type eventLog struct {
	mu   sync.Mutex
	evs  []event.Event
	more chan struct{}
}

func newEventLog() *eventLog { return &eventLog{more: make(chan struct{}, 1)} }

func (l *eventLog) emit(ev event.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
}

func (l *eventLog) find(match func(*event.ConnectionCreate) bool) []event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event.Event
	for _, ev := range l.evs {
		if p, ok := ev.Payload[0].(*event.ConnectionCreate); ok && match(p) {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor waits for an event matching match. The bound is generous: it
// is a hang guard, not a timing assertion.
func (l *eventLog) waitFor(t testing.TB, what string, match func(*event.ConnectionCreate) bool) event.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if evs := l.find(match); len(evs) > 0 {
			return evs[0]
		}
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("no %s event; got %d events", what, len(l.all()))
		}
	}
}

func (l *eventLog) all() []event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event.Event(nil), l.evs...)
}

func testDeps(t testing.TB) collect.Deps {
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	return testDepsWith(log, prometheus.NewRegistry())
}

func testDepsWith(log *logrus.Logger, reg prometheus.Registerer) collect.Deps {
	return collect.Deps{Root: "/", Logger: logrus.NewEntry(log), Registerer: reg}
}

// startCollector runs a collector forced to backend and waits until that
// backend delivers; it skips the test, saying why, when the backend is
// refused on this host.
func startCollector(t testing.TB, d collect.Deps, opts Options, log *eventLog) *Collector {
	t.Helper()
	c, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Stream(ctx, log.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Stream: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s := c.Status()
		if s.Backend == opts.Backend {
			return c
		}
		for _, r := range s.Refused {
			if r.Backend == opts.Backend {
				t.Skipf("backend %s refused on this host: %s", r.Backend, r.Reason)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("backend %s did not start: %s", opts.Backend, c.Status())
	return nil
}

// bootZero stands for the boot time in parser tests.
var bootZero = time.Unix(1700000000, 0)
