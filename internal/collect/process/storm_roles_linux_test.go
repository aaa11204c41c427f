package process

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// The exec-storm benchmark runs three processes so that the figure is the
// collector's own cost: this test binary re-executed as the collector
// (engine + backend + a counting sink, nothing else), the test binary
// re-executed as the generator, and the benchmark reading the collector's
// /proc/<pid>/stat from outside. These two Test functions are the roles;
// they do nothing unless the benchmark set stormRoleEnv.
const (
	stormRoleEnv    = "AZIS_STORM_ROLE"
	stormBackendEnv = "AZIS_STORM_BACKEND"
	stormMarkerEnv  = "AZIS_STORM_MARKER"
	stormRateEnv    = "AZIS_STORM_RATE"
	stormSecsEnv    = "AZIS_STORM_SECONDS"
	stormProfileEnv = "AZIS_STORM_CPUPROFILE"
)

// stormReport is what the collector role prints when told to stop.
type stormReport struct {
	Creates, Marked, Terminates int64
	KernelEvents                float64
	Dropped                     float64
	HashMisses, HashBytes       float64 // executables read and hashed
	UserMs, SysMs               int64   // getrusage(RUSAGE_SELF)
	GCCycles                    uint64
	HeapAllocs                  uint64 // objects allocated since start
	HeapBytes                   uint64 // live heap objects
	Goroutines                  uint64
	TableEntries                int // the gauge, set at start and each minute
}

// stormCountSink counts without keeping events, so the sink costs nothing
// that the module's pipeline would not.
type stormCountSink struct {
	marker                     string
	creates, marked, terminate atomic.Int64
}

func (s *stormCountSink) wants(rawKind) bool { return true }
func (s *stormCountSink) emit(k rawKind, ev eventEvent) {
	if k != rawExec {
		s.terminate.Add(1)
		return
	}
	s.creates.Add(1)
	if strings.Contains(commandLineOf(ev), s.marker) {
		s.marked.Add(1)
	}
}

// TestStormCollector is the collector role: it prints "ready" once the
// backend delivers, then runs until stdin closes and prints a
// stormReport as JSON.
func TestStormCollector(t *testing.T) {
	if os.Getenv(stormRoleEnv) != "collector" {
		t.Skip("a role of BenchmarkStorm")
	}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	reg := prometheus.NewRegistry()
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), reg)
	if err != nil {
		fmt.Println("unavailable:", err)
		return
	}
	s := &stormCountSink{marker: os.Getenv(stormMarkerEnv)}
	backend := os.Getenv(stormBackendEnv)
	e := newEngine(logrus.NewEntry(log), "/", os.Getpid(), Options{Backend: backend}, newMetrics(reg), enr, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); e.Status().Backend != backend; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			fmt.Println("unavailable:", e.Status())
			cancel()
			<-done
			return
		}
	}
	if p := os.Getenv(stormProfileEnv); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
	}
	allocs0 := readRuntimeMetrics()["/gc/heap/allocs:objects"]
	report := func() {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		rm := readRuntimeMetrics()
		_ = json.NewEncoder(os.Stdout).Encode(stormReport{
			Creates: s.creates.Load(), Marked: s.marked.Load(), Terminates: s.terminate.Load(),
			KernelEvents: sumCounter(reg, "azureiotsecurity_process_kernel_events_total"),
			Dropped:      sumCounter(reg, "azureiotsecurity_process_events_dropped_total"),
			HashMisses:   sumCounter(reg, "azureiotsecurity_exehash_cache_misses_total"),
			HashBytes:    sumCounter(reg, "azureiotsecurity_exehash_read_bytes_total"),
			UserMs:       int64(ru.Utime.Sec)*1000 + int64(ru.Utime.Usec)/1000,
			SysMs:        int64(ru.Stime.Sec)*1000 + int64(ru.Stime.Usec)/1000,
			GCCycles:     rm["/gc/cycles/total:gc-cycles"],
			HeapAllocs:   rm["/gc/heap/allocs:objects"] - allocs0,
			HeapBytes:    rm["/memory/classes/heap/objects:bytes"],
			Goroutines:   rm["/sched/goroutines:goroutines"],
			TableEntries: int(sumGauge(reg, "azureiotsecurity_process_table_entries")),
		})
	}
	fmt.Println("ready")
	// Each line asks for a report so far; end of input stops the role.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		report()
	}
	pprof.StopCPUProfile()
	cancel()
	<-done
	report()
}

func readRuntimeMetrics() map[string]uint64 {
	s := []rtmetrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/allocs:objects"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/sched/goroutines:goroutines"},
	}
	rtmetrics.Read(s)
	m := map[string]uint64{}
	for _, v := range s {
		if v.Value.Kind() == rtmetrics.KindUint64 {
			m[v.Name] = v.Value.Uint64()
		}
	}
	return m
}

func sumGauge(g prometheus.Gatherer, name string) float64 {
	mfs, _ := g.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

func sumCounter(g prometheus.Gatherer, name string) float64 {
	mfs, _ := g.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestStormGenerator is the generator role: /bin/true <marker>-<n> at
// the given rate for the given seconds, paced in 10 ms slices, children
// reaped by one waiter; it prints how many it started and in what time.
func TestStormGenerator(t *testing.T) {
	if os.Getenv(stormRoleEnv) != "generator" {
		t.Skip("a role of BenchmarkStorm")
	}
	rate, _ := strconv.Atoi(os.Getenv(stormRateEnv))
	secs, _ := strconv.Atoi(os.Getenv(stormSecsEnv))
	marker := os.Getenv(stormMarkerEnv)
	var live atomic.Int64
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(-1, &ws, 0, nil); err == syscall.ECHILD && live.Load() < 0 {
				return
			} else if err == syscall.ECHILD {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	// Spawning is mostly kernel time in fork and exec; a few workers and a
	// raised priority let a loaded 2-CPU machine reach the rate.
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, -10)
	total := rate * secs
	tokens := make(chan int, total)
	var failed atomic.Int64
	var wg sync.WaitGroup
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range tokens {
				if _, err := syscall.ForkExec("/bin/true", []string{"/bin/true", fmt.Sprintf("%s-%d", marker, n)}, attr); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for n < total {
		<-tick.C
		due := min(total, int(time.Since(start).Seconds()*float64(rate)))
		for ; n < due; n++ {
			tokens <- n
		}
	}
	close(tokens)
	wg.Wait()
	elapsed := time.Since(start)
	live.Store(-1)
	<-reaped
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "started %d failed %d seconds %.3f\n", int64(n)-failed.Load(), failed.Load(), elapsed.Seconds())
	w.Flush()
}
