package process

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func BenchmarkParseBPFEvent(b *testing.B) {
	rec := bpfRecord(bpfTypeExec, 42, 7, 0, 0, "/usr/bin/python3", []byte("/usr/bin/python3\x00-m\x00http.server\x008080\x00"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBPFEvent(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCnMessages(b *testing.B) {
	d := cnDatagram(procCnExit, 11, 11, 256, 17, 10, 10)
	var evs []cnEvent
	b.ReportAllocs()
	for b.Loop() {
		evs, _ = parseCnMessages(d, evs[:0])
	}
}

// BenchmarkHandleExec is the engine's cost per eBPF exec and exit of a
// live process (payload, parent lookup, hash cache hit, table).
func BenchmarkHandleExec(b *testing.B) {
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		b.Skip(err)
	}
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{}, newMetrics(nil), enr, discardSink{})
	e.active = BackendEBPF
	self := int32(os.Getpid())
	p, err := enr.readProcess(self)
	if err != nil {
		b.Skip(err)
	}
	ev := rawEvent{kind: rawExec, time: time.Now(), pid: self, ppid: p.PPID, uid: 0, uidKnown: true,
		exe: p.Exe, argv: p.Argv, argvKnown: true, startTicks: p.StartTicks, cgroupID: 1}
	exit := rawEvent{kind: rawExit, time: time.Now(), pid: self, exitKnown: true}
	b.ReportAllocs()
	for b.Loop() {
		e.handle(ev)
		e.handle(exit)
	}
}

type discardSink struct{}

func (discardSink) wants(rawKind) bool       { return true }
func (discardSink) emit(rawKind, eventEvent) {}

// BenchmarkStorm measures the module-side CPU (this process's utime+stime
// from /proc/self/stat, which here runs only the engine and its backend)
// while a helper process spawns /bin/true at a fixed rate for 10 s.
//
//	go test -run XXX -bench Storm -benchtime 1x ./internal/collect/process/
func BenchmarkStorm(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for _, rate := range []int{100, 1600} {
		for _, backend := range []string{BackendEBPF, BackendProcCn, BackendAudit} {
			b.Run(fmt.Sprintf("%s/%d-per-s", backend, rate), func(b *testing.B) {
				for b.Loop() {
					stormOnce(b, backend, rate, 10*time.Second)
				}
			})
		}
	}
}

func stormOnce(b *testing.B, backend string, rate int, d time.Duration) {
	if backend == BackendAudit {
		audittest.Lock(b)
	}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		b.Skip(err)
	}
	s := &countSink{}
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{Backend: backend}, newMetrics(prometheus.NewRegistry()), enr, s)
	ctx, cancel := testContext(b)
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); e.Status().Backend != backend; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Skipf("%s unavailable: %s", backend, e.Status())
		}
	}
	marker := fmt.Sprintf("azis-storm-%d", time.Now().UnixNano())
	cpu0, wall0 := selfCPU(b), time.Now()
	fifo := filepath.Join(b.TempDir(), "pace")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		b.Fatal(err)
	}
	helper := exec.Command("/bin/bash", "-c", stormScript(rate, d, marker, fifo))
	if err := helper.Run(); err != nil {
		b.Fatalf("storm helper: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // let the tail drain
	cpu, wall := selfCPU(b)-cpu0, time.Since(wall0)
	n := rate * int(d/time.Second)
	got, all := s.count(marker), s.total()
	rss := selfRSS(b)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(cpus()), "%cpu-of-all")
	b.ReportMetric(100*float64(got)/float64(n), "%captured")
	b.ReportMetric(float64(n)/wall.Seconds(), "execs/s")
	b.ReportMetric(float64(rss)/(1<<20), "MiB-RSS")
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(all, 1)), "µs-cpu/event")
	b.Logf("%s at %d/s: %d/%d captured, %d ProcessCreate in all (shell forks, sleeps, rest of the host), CPU %.2f s over %.1f s on %d CPUs, RSS %.1f MiB",
		backend, rate, got, n, all, cpu.Seconds(), wall.Seconds(), cpus(), float64(rss)/(1<<20))
}

// stormScript paces /bin/true at rate per second from bash (one shell
// per 400/s), in 10 ms slices timed by a read on a FIFO so the pacing
// execs nothing itself, and so the spawner's CPU is not this process's.
func stormScript(rate int, d time.Duration, marker, fifo string) string {
	shells := (rate + 399) / 400
	per := rate / 100 / shells
	slices := int(d / (10 * time.Millisecond))
	if per < 1 {
		per, slices = 1, rate*int(d/time.Second)
	}
	one := fmt.Sprintf(`exec 9<>%s; i=0; n=0
while [ $i -lt %d ]; do
  j=0; while [ $j -lt %d ]; do /bin/true %s-$1-$n & n=$((n+1)); j=$((j+1)); done
  read -t 0.01 -u 9; i=$((i+1))
done; wait`, fifo, slices, per, marker)
	var b strings.Builder
	for s := 0; s < shells; s++ {
		fmt.Fprintf(&b, "bash -c '%s' sh %d &\n", one, s)
	}
	b.WriteString("wait\n")
	return b.String()
}

type countSink struct {
	mu sync.Mutex
	cl []string
}

func (s *countSink) wants(rawKind) bool { return true }
func (s *countSink) emit(k rawKind, ev eventEvent) {
	if k != rawExec {
		return
	}
	s.mu.Lock()
	s.cl = append(s.cl, commandLineOf(ev))
	s.mu.Unlock()
}

func (s *countSink) count(marker string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.cl {
		if strings.HasPrefix(c, "/bin/true "+marker+"-") {
			n++
		}
	}
	return n
}

func (s *countSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cl)
}

func selfCPU(b *testing.B) time.Duration {
	st, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+sy) * 10 * time.Millisecond
}

func selfRSS(b *testing.B) int64 {
	st, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
