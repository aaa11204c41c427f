package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func pc(pid int64, cmd string) event.Event {
	return event.New(event.NameProcessCreate, t0.Add(time.Duration(pid)*time.Second), event.ProcessCreate{
		Executable: "/bin/cat", ProcessID: pid, ParentProcessID: 1, UserID: "1000", CommandLine: cmd,
		ExtraDetails: map[string]string{"Hash": "abc"}})
}

func on() map[string]Setting {
	return map[string]Setting{
		event.NameProcessCreate:    {Enabled: true, Interval: time.Hour},
		event.NameConnectionCreate: {Enabled: true, Interval: time.Hour},
	}
}

func TestIdenticalEventsCollapse(t *testing.T) {
	w := New(0)
	w.Update(on(), t0)
	for i := range 4 {
		if out := w.Add(pc(int64(10+i), "cat /etc/passwd"), t0); len(out) != 0 {
			t.Fatalf("aggregated event forwarded at once: %v", out)
		}
	}
	w.Add(pc(20, "cat /etc/shadow"), t0)
	if got := w.Due(t0.Add(59 * time.Minute)); len(got) != 0 {
		t.Fatalf("window flushed early: %d events", len(got))
	}
	out := w.Due(t0.Add(time.Hour))
	if len(out) != 2 {
		t.Fatalf("got %d aggregated events, want 2", len(out))
	}
	first := out[0].Payload[0].(event.ProcessCreate)
	if first.CommandLine != "cat /etc/passwd" || first.ExtraDetails[KeyHitCount] != "4" || first.ProcessID != 0 || first.ParentProcessID != 0 {
		t.Fatalf("first aggregated item = %+v", first)
	}
	if first.ExtraDetails[KeyStartTimeUTC] != "2026-11-29T10:00:10.000Z" || first.ExtraDetails[KeyEndTimeUTC] != "2026-11-29T10:00:13.000Z" {
		t.Fatalf("window times = %v", first.ExtraDetails)
	}
	if out[0].Category != event.Triggered {
		t.Fatalf("category %q: aggregated events stay Triggered (the schema has no Aggregated)", out[0].Category)
	}
	validate(t, out)
	if w.Pending() != 0 {
		t.Fatalf("%d entries left after flush", w.Pending())
	}
}

func TestDisabledPassesThroughAndDisablingFlushes(t *testing.T) {
	w := New(0)
	w.Update(on(), t0)
	w.Add(pc(1, "a"), t0)
	out := w.Update(map[string]Setting{event.NameProcessCreate: {Enabled: false, Interval: time.Hour}}, t0)
	if len(out) != 1 || out[0].Payload[0].(event.ProcessCreate).ExtraDetails[KeyHitCount] != "1" {
		t.Fatalf("disabling must flush the window, got %v", out)
	}
	raw := pc(2, "b")
	if out := w.Add(raw, t0); len(out) != 1 || out[0].ID != raw.ID {
		t.Fatalf("with aggregation off the event must pass unchanged, got %v", out)
	}
}

func TestConnectionKeyIgnoresEphemeralPort(t *testing.T) {
	w := New(0)
	w.Update(on(), t0)
	for port := range 3 {
		w.Add(event.New(event.NameConnectionCreate, t0, event.ConnectionCreate{
			RemoteAddress: "10.0.0.1", RemotePort: fmt.Sprint(40000 + port), LocalAddress: "10.0.0.2", LocalPort: "22",
			Direction: "In", Protocol: "tcp", ProcessID: int64(port), Executable: "/usr/sbin/sshd"}), t0)
	}
	out := w.Flush(t0)
	if len(out) != 1 || out[0].Payload[0].(event.ConnectionCreate).ExtraDetails[KeyHitCount] != "3" {
		t.Fatalf("inbound connections to one service must aggregate: %v", out)
	}
	validate(t, out)
}

func TestEntryCapFlushesEarly(t *testing.T) {
	w := New(10)
	w.Update(on(), t0)
	var out []event.Event
	for i := range 25 {
		out = append(out, w.Add(pc(int64(i), fmt.Sprint("cmd", i)), t0)...)
	}
	if len(out) != 20 || w.Pending() != 5 || w.Overflows != 2 {
		t.Fatalf("early flushes: %d events out, %d pending, %d overflows", len(out), w.Pending(), w.Overflows)
	}
}

func validate(t *testing.T, evs []event.Event) {
	t.Helper()
	var datas [][]byte
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		datas = append(datas, b)
	}
	msg := event.Envelope{AgentVersion: "t", AgentID: "7aaeef0e-614f-4ff2-97d2-1442186f73fa"}.AppendMessage(nil, datas)
	if _, err := event.DecodeMessage(msg); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, msg)
}

// TestContainerSeparatesAggregates: the same command run by two IoT Edge
// modules is two findings, and each keeps its attribution.
func TestContainerSeparatesAggregates(t *testing.T) {
	w := New(0)
	w.Update(on(), t0)
	for i, module := range []string{"modA", "modB", "modA"} {
		e := pc(int64(i+1), "sh -c id")
		p := e.Payload[0].(event.ProcessCreate)
		p.ExtraDetails = map[string]string{"Hash": "abc", "ContainerId": "id-" + module, "IoTEdgeModule": module, "ParentExecutable": "/bin/sh"}
		e.Payload[0] = p
		w.Add(e, t0)
	}
	out := w.Flush(t0)
	if len(out) != 2 {
		t.Fatalf("got %d aggregated events, want one per module", len(out))
	}
	counts := map[string]string{}
	for _, e := range out {
		d := e.Payload[0].(event.ProcessCreate).ExtraDetails
		if d["ContainerId"] != "id-"+d["IoTEdgeModule"] || d["Hash"] != "abc" {
			t.Errorf("attribution lost in aggregation: %v", d)
		}
		if _, ok := d["ParentExecutable"]; ok {
			t.Errorf("per-process detail kept in an aggregate: %v", d)
		}
		counts[d["IoTEdgeModule"]] = d[KeyHitCount]
	}
	if counts["modA"] != "2" || counts["modB"] != "1" {
		t.Fatalf("hit counts per module = %v, want modA 2, modB 1", counts)
	}
	validate(t, out)
}
