package process

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

// checkMessage wraps evs in a message as the sender will and checks it
// against Microsoft's schema and our strict decoder.
func checkMessage(t *testing.T, evs []event.Event) {
	t.Helper()
	var encoded [][]byte
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, b)
	}
	env := event.Envelope{AgentVersion: "test", AgentID: "00000000-0000-0000-0000-000000000000"}
	msg := env.AppendMessage(nil, encoded)
	if _, err := event.DecodeMessage(msg); err != nil {
		t.Errorf("DecodeMessage: %v\n%s", err, msg)
	}
	schematest.Validate(t, msg)
}

type eventLog struct {
	mu  sync.Mutex
	evs []event.Event
}

func (l *eventLog) emit(ev event.Event) { l.mu.Lock(); l.evs = append(l.evs, ev); l.mu.Unlock() }

func (l *eventLog) find(name string, match func(any) bool) []event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event.Event
	for _, ev := range l.evs {
		if ev.Name == name && match(ev.Payload[0]) {
			out = append(out, ev)
		}
	}
	return out
}

// TestCollectors runs the two registered collectors over one hub, as the
// runner does, and checks payloads against the schema; ProcessTerminate
// keeps working with ProcessCreate Off.
func TestCollectors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the kernel backends")
	}
	reg := prometheus.NewRegistry()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	d := collect.Deps{Root: "/", Logger: logrus.NewEntry(log), Registerer: reg}
	cc, err := New(d, rawExec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := New(d, rawExit, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cc.hub != tc.hub {
		t.Fatal("the two collectors do not share a hub")
	}
	var creates, terms eventLog
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	stream := func(ctx context.Context, c *Collector, l *eventLog) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Stream(ctx, l.emit); err != nil {
				t.Errorf("Stream: %v", err)
			}
		}()
	}
	stream(ctx, cc, &creates)
	stream(ctx, tc, &terms)
	waitFor(t, 20*time.Second, func() bool { return cc.Status().Backend != "" }, func() string { return cc.Status().String() })
	t.Logf("backend status: %s", cc.Status())
	if v := testutil.ToFloat64(cc.hub.eng.m.backend.WithLabelValues(cc.Status().Backend)); v != 1 {
		t.Errorf("backend_info{%s} = %v, want 1", cc.Status().Backend, v)
	}

	marker := markerFor(t)
	cmd := exec.Command("/bin/sh", "-c", "exit 3", marker)
	_ = cmd.Run()
	pid := int64(cmd.Process.Pid)
	byPID := func(p any) bool {
		switch p := p.(type) {
		case *event.ProcessCreate:
			return p.ProcessID == pid
		case *event.ProcessTerminate:
			return p.ProcessID == pid
		}
		return false
	}
	waitFor(t, 10*time.Second, func() bool {
		return len(creates.find(event.NameProcessCreate, byPID)) > 0 && len(terms.find(event.NameProcessTerminate, byPID)) > 0
	}, func() string { return "no create/terminate event for the test's process" })
	c := creates.find(event.NameProcessCreate, byPID)[0]
	term := terms.find(event.NameProcessTerminate, byPID)[0]
	pc := c.Payload[0].(*event.ProcessCreate)
	if want := "/bin/sh -c exit 3 " + marker; pc.CommandLine != want || pc.Executable != "/bin/sh" ||
		pc.ParentProcessID != int64(os.Getpid()) || pc.UserID != "0" || pc.UserName != "root" {
		t.Errorf("ProcessCreate = %+v, want %q by /bin/sh, parent %d, root", pc, want, os.Getpid())
	}
	for _, k := range []string{xHash, xEntityID, xParentEntityID, xParentExecutable, xParentCommandLine, xBackend, xStartTime} {
		if pc.ExtraDetails[k] == "" {
			t.Errorf("ProcessCreate ExtraDetails lacks %s: %v", k, pc.ExtraDetails)
		}
	}
	pt := term.Payload[0].(*event.ProcessTerminate)
	if pt.ExitStatus != 3 || pt.ExtraDetails[xEntityID] != pc.ExtraDetails[xEntityID] || pt.ExtraDetails[xLifetimeMs] == "" {
		t.Errorf("ProcessTerminate = %+v, want exit 3, the same entity id and a lifetime", pt)
	}
	checkMessage(t, []event.Event{c, term})

	// Both Off, then only ProcessTerminate on: the hub stops and starts
	// again for it alone.
	cancel()
	wg.Wait()
	tctx, tcancel := context.WithCancel(t.Context())
	defer tcancel()
	var terms2 eventLog
	done := make(chan struct{})
	go func() { defer close(done); _ = tc.Stream(tctx, terms2.emit) }()
	waitFor(t, 20*time.Second, func() bool { return tc.Status().Backend != "" }, func() string { return tc.Status().String() })
	cmd = exec.Command("/bin/true", markerFor(t))
	_ = cmd.Run()
	pid = int64(cmd.Process.Pid)
	waitFor(t, 10*time.Second, func() bool { return len(terms2.find(event.NameProcessTerminate, byPID)) > 0 },
		func() string { return "ProcessTerminate alone saw no termination" })
	tcancel()
	<-done
}

// TestSelfFilter: the module's own process tree is left out by default.
func TestSelfFilter(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the kernel backends")
	}
	e, s := startEngine(t, Options{}, os.Getpid())
	t.Logf("backend status: %s", e.Status())
	want := burst(t, 50, markerFor(t))
	time.Sleep(500 * time.Millisecond) // the backend delivers within milliseconds
	if seen, _, _ := capture(s, want); seen != 0 {
		t.Errorf("%d of the module's own children reported, want none", seen)
	}
}
