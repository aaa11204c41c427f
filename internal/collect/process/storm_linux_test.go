package process

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
)

// BenchmarkStorm measures the collector's own CPU while a separate
// generator process execs /bin/true at 100/s and 1600/s (60 s each unless
// AZIS_STORM_SECONDS says otherwise). The CPU is utime+stime from
// /proc/<pid>/stat of the collector process, which runs only the engine,
// its backend and a counting sink. Before the storm the collector idles
// for a few seconds, which gives the fixed cost apart from the per-event
// cost. AZIS_STORM_CPUPROFILE=<prefix> writes a CPU profile per run.
//
//	go test -run '^$' -bench 'Storm/ebpf' -benchtime 1x ./internal/collect/process/
func BenchmarkStorm(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	secs := 60
	if s, err := strconv.Atoi(os.Getenv(stormSecsEnv)); err == nil && s > 0 {
		secs = s
	}
	for _, backend := range []string{BackendEBPF, BackendProcCn, BackendAudit} {
		for _, rate := range []int{100, 1600} {
			b.Run(fmt.Sprintf("%s/%d-per-s", backend, rate), func(b *testing.B) {
				for b.Loop() {
					stormOnce(b, backend, rate, secs)
				}
			})
		}
	}
}

const (
	stormWarm = 5 * time.Second
	stormIdle = 10 * time.Second
)

func stormOnce(b *testing.B, backend string, rate, secs int) {
	if backend == BackendAudit {
		audittest.Lock(b)
	}
	marker := fmt.Sprintf("azis-storm-%d", time.Now().UnixNano())
	col := exec.Command(os.Args[0], "-test.run=^TestStormCollector$")
	col.Env = append(os.Environ(), stormRoleEnv+"=collector", stormBackendEnv+"="+backend, stormMarkerEnv+"="+marker)
	if p := os.Getenv(stormProfileEnv); p != "" {
		col.Env = append(col.Env, fmt.Sprintf("%s=%s-%s-%d.pprof", stormProfileEnv, p, backend, rate))
	}
	stdin, err := col.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := col.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	col.Stderr = os.Stderr
	if err := col.Start(); err != nil {
		b.Fatal(err)
	}
	defer col.Wait() //nolint:errcheck // reported through its output
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	line, _ := out.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		b.Skipf("%s unavailable: %s", backend, strings.TrimSpace(line))
	}
	pid := col.Process.Pid
	askReport := func() stormReport {
		if _, err := io.WriteString(stdin, "report\n"); err != nil {
			b.Fatal(err)
		}
		return readReport(b, out)
	}

	// The first seconds hash every executable the host runs for the
	// first time; idle is measured after that.
	time.Sleep(stormWarm)
	r0 := askReport()
	cpuIdle0, idle0 := procCPU(b, pid), time.Now()
	time.Sleep(stormIdle)
	idleCPU, idleWall := procCPU(b, pid)-cpuIdle0, time.Since(idle0)
	r1 := askReport()

	rss0 := procRSS(b, pid)
	cpu0, wall0 := procCPU(b, pid), time.Now()
	gen := exec.Command(os.Args[0], "-test.run=^TestStormGenerator$")
	gen.Env = append(os.Environ(), stormRoleEnv+"=generator", stormMarkerEnv+"="+marker,
		stormRateEnv+"="+strconv.Itoa(rate), stormSecsEnv+"="+strconv.Itoa(secs))
	genOut, err := gen.Output()
	if err != nil {
		b.Fatalf("generator: %v\n%s", err, genOut)
	}
	time.Sleep(time.Second) // let the tail drain
	cpu, wall := procCPU(b, pid)-cpu0, time.Since(wall0)
	rss1 := procRSS(b, pid)
	r := askReport()
	stdin.Close()

	var started, failed int
	var genSecs float64
	for _, l := range strings.Split(string(genOut), "\n") {
		if _, err := fmt.Sscanf(l, "started %d failed %d seconds %f", &started, &failed, &genSecs); err == nil {
			break
		}
	}
	if started == 0 || r.KernelEvents == r1.KernelEvents {
		b.Fatalf("no storm: generator %q", genOut)
	}
	stormEvents := r.KernelEvents - r1.KernelEvents
	b.ReportMetric(stormEvents/wall.Seconds(), "kernel-events/s")
	b.ReportMetric(float64(cpu.Microseconds())/stormEvents, "µs-cpu/kernel-event")
	b.ReportMetric((r1.KernelEvents-r0.KernelEvents)/idleWall.Seconds(), "idle-kernel-events/s")
	idleMsPerS := float64(idleCPU.Milliseconds()) / idleWall.Seconds()
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(cpus()), "%cpu-of-all")
	b.ReportMetric(idleMsPerS, "idle-ms-cpu/s")
	b.ReportMetric(100*float64(r.Marked)/float64(started), "%captured")
	b.ReportMetric(float64(started)/genSecs, "execs/s")
	b.ReportMetric(float64(rss0)/(1<<20), "MiB-RSS-start")
	b.ReportMetric(float64(rss1)/(1<<20), "MiB-RSS-end")
	b.ReportMetric(float64(cpu.Microseconds())/float64(started), "µs-cpu/exec")
	b.ReportMetric(float64(r.HeapAllocs-r1.HeapAllocs)/stormEvents, "allocs/kernel-event")
	b.ReportMetric((r1.HashBytes-r0.HashBytes)/(1<<20)/idleWall.Seconds(), "idle-MiB-hashed/s")
	b.ReportMetric((r.HashBytes-r1.HashBytes)/(1<<20), "storm-MiB-hashed")
	b.Logf("%s at %d/s: generator started %d (%d failed) in %.1f s; captured %d, %d ProcessCreate and %d ProcessTerminate in all, %.0f kernel events, %.0f dropped; "+
		"collector CPU %.2f s over %.1f s on %d CPUs (idle %.1f ms/s, %.0f executables hashed in idle, %.0f in storm), storm rusage user %d ms sys %d ms; RSS %.1f → %.1f MiB; GC %d, table %d, goroutines %d",
		backend, rate, started, failed, genSecs, r.Marked, r.Creates, r.Terminates, r.KernelEvents, r.Dropped,
		cpu.Seconds(), wall.Seconds(), cpus(), idleMsPerS, r1.HashMisses-r0.HashMisses, r.HashMisses-r1.HashMisses, r.UserMs-r1.UserMs, r.SysMs-r1.SysMs, float64(rss0)/(1<<20), float64(rss1)/(1<<20),
		r.GCCycles, r.TableEntries, r.Goroutines)
}

func readReport(b *testing.B, out *bufio.Reader) stormReport {
	line, err := out.ReadString('\n')
	if err != nil {
		b.Fatalf("collector report: %v", err)
	}
	var r stormReport
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		b.Fatalf("collector report %q: %v", line, err)
	}
	return r
}

// procCPU is utime+stime of pid from /proc/<pid>/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+sy) * 10 * time.Millisecond
}

// procRSS is the resident set of pid from /proc/<pid>/statm.
func procRSS(b *testing.B, pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
