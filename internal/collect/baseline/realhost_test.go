package baseline

import (
	"context"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// TestRealHost runs the built-in set on the machine running the test:
// every check must yield Pass, Fail or Err, a Fail or Err must say why in
// readable text, and the event must be a valid message.
func TestRealHost(t *testing.T) {
	c, err := New(collect.Deps{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	if err := c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) }); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || evs[0].Name != event.NameOSBaseline {
		t.Fatalf("got %d events, want one OSBaseline event", len(evs))
	}
	if got, want := len(evs[0].Payload), len(c.builtin); got != want {
		t.Fatalf("%d results for %d checks", got, want)
	}
	counts := map[string]int{}
	for _, p := range evs[0].Payload {
		r := p.(*event.BaselineResult)
		id := r.ExtraDetails[detailCheckID]
		counts[resultLabel(r)]++
		switch r.Result {
		case "Pass":
			if r.Error != "" {
				t.Errorf("%s: Pass with error text %q", id, r.Error)
			}
		case "Fail", "Err":
			if !sensible(r.Error) {
				t.Errorf("%s: %s with error text %q", id, r.Result, r.Error)
			}
		default:
			t.Errorf("%s: result %q", id, r.Result)
		}
		t.Logf("%-32s %-4s %s%s", id, r.Result, r.Error, r.ExtraDetails[detailNotApplicable])
	}
	t.Logf("results: %v", counts)
	collecttest.CheckMessage(t, evs)
}

// sensible: non-empty, one bounded line, no fmt artefacts or nil dumps.
func sensible(s string) bool {
	return s != "" && len(s) < 2048 && !strings.ContainsAny(s, "\n\x00") &&
		!strings.Contains(s, "%!") && !strings.Contains(s, "<nil>")
}
