package hubcost

import (
	"flag"
	"testing"
	"time"
)

// -scale compresses the day: 1440 plays it in a minute (bench/run passes
// a larger one in --quick).
var scale = flag.Float64("scale", 1440, "time compression of the synthetic day")

func TestBlocks(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want int64
	}{{0, 1}, {-5, 1}, {1, 1}, {4096, 1}, {4097, 2}, {204800, 50}, {204801, 51}} {
		if got := Blocks(tc.n); got != tc.want {
			t.Errorf("Blocks(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	var c Cost
	c.Add(1000, 2)
	c.Add(8192, 5)
	if c.Messages != 2 || c.Blocks != 3 || c.Under4KB != 1 || c.Events != 7 || c.Bytes != 9192 {
		t.Fatalf("cost %+v", c)
	}
	if got, want := c.FillRatio(), 9192.0/(3*4096); got != want {
		t.Fatalf("fill %v, want %v", got, want)
	}
}

// TestBaselineDay checks the baseline's accounting on the real workload:
// every collected event leaves in some message, no message exceeds the
// limit's block count, and aggregation makes fewer events than collected.
func TestBaselineDay(t *testing.T) {
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	day := Day(start)
	c, err := Baseline(day, start)
	if err != nil {
		t.Fatal(err)
	}
	if c.Messages == 0 || c.Events == 0 || c.Events >= int64(len(day)) {
		t.Fatalf("baseline %+v for %d collected events", c, len(day))
	}
	if c.Blocks > c.Messages*Blocks(maxMessageBytes) {
		t.Fatalf("a message over the limit: %+v", c)
	}
}

// BenchmarkSyntheticDay reports, per synthetic day, messages, billed 4 KB
// blocks, block fill and bytes per collected event for the module's real
// pipeline and for the C# agent's rules over the same events.
//
//	go test -run '^$' -bench SyntheticDay -benchtime 1x ./bench/hubcost/
func BenchmarkSyntheticDay(b *testing.B) {
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	day := Day(start)
	report := func(b *testing.B, c Cost) {
		b.ReportMetric(float64(c.Messages), "messages/day")
		b.ReportMetric(float64(c.Blocks), "blocks/day")
		b.ReportMetric(100*c.FillRatio(), "%block-fill")
		b.ReportMetric(c.BytesPerEvent(len(day)), "bytes/collected-event")
		b.ReportMetric(float64(c.Under4KB), "under-4KB/day")
		if c.Events > 0 {
			b.ReportMetric(float64(c.Bytes)/float64(c.Events), "bytes/sent-event")
		}
		b.ReportMetric(float64(c.Events), "events-sent/day")
		b.Logf("%d events collected; %+v", len(day), c)
	}
	b.Run("module", func(b *testing.B) {
		var c Cost
		for b.Loop() {
			var err error
			if c, err = RunModule(b.Context(), day, start, *scale); err != nil {
				b.Fatal(err)
			}
		}
		report(b, c)
	})
	b.Run("csharp-agent-rules", func(b *testing.B) {
		var c Cost
		for b.Loop() {
			var err error
			if c, err = Baseline(day, start); err != nil {
				b.Fatal(err)
			}
		}
		report(b, c)
	})
}
