package baseline

import (
	"context"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// BenchmarkBaselineRun is one full OSBaseline snapshot (every built-in
// check, the event built) on the hardened fixture host.
func BenchmarkBaselineRun(b *testing.B) {
	c, err := New(collect.Deps{Root: hostfs.Root(hardenedHost(b))})
	if err != nil {
		b.Fatal(err)
	}
	var items int
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Collect(context.Background(), func(ev event.Event) { items = len(ev.Payload) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(items), "checks/op")
}

// BenchmarkParseChecks is the cost of loading the built-in set (New).
func BenchmarkParseChecks(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChecks(defaultChecks); err != nil {
			b.Fatal(err)
		}
	}
}
