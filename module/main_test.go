package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

func decodeLines(t *testing.T, out []byte) []*event.Message {
	t.Helper()
	var ms []*event.Message
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		schematest.Validate(t, sc.Bytes())
		m, err := event.DecodeMessage(sc.Bytes())
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		ms = append(ms, m)
	}
	return ms
}

func eventsByName(ms []*event.Message) map[string][]event.Event {
	out := map[string][]event.Event{}
	for _, m := range ms {
		for _, e := range m.Events {
			out[e.Name] = append(out[e.Name], e)
		}
	}
	return out
}

// TestOnceOnThisHost is the newcomer's first command: --once on the real
// machine prints schema-valid SystemInformation and LocalUsers, exits 0,
// and keeps its AgentId across runs.
func TestOnceOnThisHost(t *testing.T) {
	state := t.TempDir()
	var ids []string
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"--once", "--state-dir", state, "--metrics-addr", ""}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
		ms := decodeLines(t, stdout.Bytes())
		if len(ms) == 0 {
			t.Fatalf("no messages printed\n%s", stderr.String())
		}
		by := eventsByName(ms)
		users := by[event.NameLocalUsers]
		if len(users) == 0 || len(by[event.NameSystemInformation]) != 1 {
			t.Fatalf("events: %v", by)
		}
		var root bool
		for _, e := range users {
			for _, it := range e.Payload {
				if u := it.(*event.LocalUser); u.UserName == "root" && u.UserID == "0" {
					root = true
				}
			}
		}
		if !root {
			t.Error("LocalUsers lacks root")
		}
		ids = append(ids, ms[0].AgentID)
	}
	if ids[0] != ids[1] {
		t.Fatalf("AgentId changed across restarts: %v", ids)
	}
}

func TestBadFlagsExit2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{{"--log-level", "loud"}, {"--nope"}, {"extra"}} {
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// TestLongRunningServesMetricsAndFlushesOnShutdown runs the module as a
// daemon: metrics and health answer, a bad twin document becomes a
// ConfigurationError event, and shutdown flushes what is queued.
func TestLongRunningServesMetricsAndFlushesOnShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "desired.json")
	doc := `{"ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration":{"maxMessageSizeInBytes":{"value":100000},"eventPriorityLocalUsers":{"value":"Off"}}}`
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	o, err := parseFlags([]string{"--state-dir", dir, "--metrics-addr", addr, "--config", cfg, "--log-level", "warning"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runModule(ctx, o, log, out) }()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get("/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get("/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz %d %q", code, body)
	}
	// Wait until the start-up snapshot has been printed.
	for len(out.Bytes()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no start-up message")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, metrics := get("/metrics")
	for _, name := range []string{
		"azureiotsecurity_events_collected_total", "azureiotsecurity_queue_bytes", "azureiotsecurity_messages_total",
		"azureiotsecurity_collector_duration_seconds", "azureiotsecurity_config_applies_total", "azureiotsecurity_message_sent_bytes_total",
	} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	by := eventsByName(decodeLines(t, out.Bytes()))
	if len(by[event.NameLocalUsers]) != 0 {
		t.Error("LocalUsers was sent although its priority is Off")
	}
	if len(by[event.NameSystemInformation]) != 1 {
		t.Errorf("SystemInformation events: %d", len(by[event.NameSystemInformation]))
	}
	ce := by[event.NameConfigurationError]
	if len(ce) != 1 {
		t.Fatalf("want one ConfigurationError event (flushed at shutdown), got %d", len(ce))
	}
	p := ce[0].Payload[0].(*event.ConfigurationError)
	if p.ConfigurationName != "maxMessageSizeInBytes" || p.ErrorType != "NotOptimal" || p.Message != "Message size should be multiple of 4096" {
		t.Fatalf("ConfigurationError payload = %+v", p)
	}
	if len(by[event.NameDroppedEventsStatistics]) == 0 || len(by[event.NameMessageStatistics]) == 0 {
		t.Errorf("operational statistics missing: %v", by)
	}
}
