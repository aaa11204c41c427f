package login

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// TestRegistered: init registers Login as a stream, and building it twice
// on one registry (the runner does when Login is switched off and on)
// reuses the metrics.
func TestRegistered(t *testing.T) {
	if !slices.Contains(collect.Registered(), event.NameLogin) {
		t.Fatalf("%s not registered: %v", event.NameLogin, collect.Registered())
	}
	reg := prometheus.NewRegistry()
	for range 2 {
		c, err := New(collect.Deps{Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(collect.Streamer); !ok {
			t.Fatal("Login is not a Streamer")
		}
		if err := c.Collect(context.Background(), nil); !errors.Is(err, collect.ErrNoData) {
			t.Errorf("Collect: %v", err)
		}
		if d := c.(collect.Describer).Describe(); !strings.HasPrefix(d, "files") {
			t.Errorf("Describe() = %q", d)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if n := mf.GetName(); !strings.HasSuffix(n, "_total") {
			t.Errorf("metric %s has no unit suffix", n)
		}
	}
}

// An audit source that fails leaves the files running and says why.
type failingAudit struct{}

func (failingAudit) UserRecords(context.Context, func(AuditRecord)) error {
	return errors.New("no audit here")
}

func TestAuditSourceFails(t *testing.T) {
	c := newCollector(collect.Deps{Root: "/nonexistent-root"})
	c.SetAuditSource(failingAudit{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Stream(ctx, func(event.Event) {}) }()
	for !strings.Contains(c.Describe(), "unavailable") {
		select {
		case err := <-done:
			t.Fatalf("Stream returned %v", err)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Stream: %v", err)
	}
	if d := c.Describe(); d != "files and audit unavailable: no audit here" {
		t.Errorf("Describe() = %q", d)
	}
}
