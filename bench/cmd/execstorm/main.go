// Command execstorm launches a program (default /bin/true) with a unique
// marker argument at a fixed rate, or as fast as it can, for a bounded
// time and count, and prints one JSON line with what it achieved. The
// bench suite uses it to compare process-event tools on the same storm.
//
//	execstorm -rate 1600 -duration 10s -marker azis-bench-1600
//
// Each child gets argv {prog, "<marker>-<n>"}, so an observer's capture is
// the number of distinct "<prog> <marker>-<n>" command lines it reports.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// result is the line printed at the end; field names are what bench/run
// reads with jq-free shell parsing, so keep them flat.
type result struct {
	Marker      string  `json:"marker"`
	Rate        int     `json:"rate"`
	Launched    int64   `json:"launched"`
	Failed      int64   `json:"failed"`
	Seconds     float64 `json:"seconds"`
	Achieved    float64 `json:"achieved_per_s"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	ChildrenCPU float64 `json:"children_cpu_seconds"`
	FirstError  string  `json:"first_error,omitempty"`
}

func main() {
	rate := flag.Int("rate", 100, "launches per second; 0 launches as fast as possible")
	dur := flag.Duration("duration", 10*time.Second, "how long to launch (bounded to 1h)")
	marker := flag.String("marker", "", "argument prefix that identifies this storm (required)")
	maxN := flag.Int64("max", 2_000_000, "upper bound on launches")
	inflight := flag.Int("inflight", 64, "upper bound on children not yet reaped")
	prog := flag.String("prog", "/bin/true", "program to launch")
	flag.Parse()
	if *marker == "" || *rate < 0 || *dur <= 0 || *dur > time.Hour || *inflight < 1 || *maxN < 1 {
		fmt.Fprintln(os.Stderr, "execstorm: need -marker, -rate ≥ 0, 0 < -duration ≤ 1h, -inflight ≥ 1, -max ≥ 1")
		os.Exit(2)
	}
	r, err := storm(config{prog: *prog, marker: *marker, rate: *rate, dur: *dur, max: *maxN, inflight: *inflight})
	if err != nil {
		fmt.Fprintln(os.Stderr, "execstorm:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		os.Exit(1)
	}
}

type config struct {
	prog, marker string
	rate         int
	dur          time.Duration
	max          int64
	inflight     int
}

// due is how many launches a paced storm should have made after elapsed,
// bounded by max; rate 0 means unpaced (everything up to max is due).
func due(rate int, elapsed time.Duration, max int64) int64 {
	if rate == 0 {
		return max
	}
	n := int64(elapsed / time.Millisecond * time.Duration(rate) / 1000)
	return min(n, max)
}
