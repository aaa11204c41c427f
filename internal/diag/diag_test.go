package diag

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

func TestHookRateLimitsAndFilters(t *testing.T) {
	var got []event.Event
	h := NewHook(func(ev event.Event) { got = append(got, ev) }, logrus.WarnLevel, 5, prometheus.NewRegistry())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	log := logrus.New()
	log.SetOutput(io.Discard)
	log.AddHook(h)
	log.Info("not a diagnostic")
	for range 100 {
		log.WithError(errors.New("boom")).WithField("collector", "users").Warn("storm")
	}
	if len(got) != 5 {
		t.Fatalf("got %d diagnostic events from a storm of 100, want the bucket of 5", len(got))
	}
	p := got[0].Payload[0].(event.DiagnosticRecord)
	if p.Severity != "Warning" || p.Message != "storm: boom" || p.ExtraDetails["collector"] != "users" || p.ProcessID == 0 {
		t.Fatalf("payload = %+v", p)
	}
	now = now.Add(time.Minute)
	log.Error("after a minute")
	if len(got) != 6 {
		t.Fatalf("bucket did not refill: %d events", len(got))
	}
	if _, err := event.DecodeMessage(event.Envelope{AgentVersion: "t", AgentID: "7aaeef0e-614f-4ff2-97d2-1442186f73fa"}.AppendMessage(nil, [][]byte{mustEncode(t, got[5])})); err != nil {
		t.Fatal(err)
	}
}

func mustEncode(t *testing.T, ev event.Event) []byte {
	b, err := event.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
