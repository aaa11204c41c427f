package process

import (
	"runtime"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// TestTableFlatUnderChurn drives the engine with processes whose exits
// are never seen (the worst case: every fork and exec adds an entry) and
// checks that the table and the live heap stop growing once the table is
// full. Events are synthetic (pids far above pid_max, so /proc has none
// of them) but go through the real engine and host enricher.
func TestTableFlatUnderChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("churns 120k events")
	}
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		t.Skipf("no /proc to read: %v", err)
	}
	const size = 1000
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{TableSize: size}, newMetrics(nil), enr, discardSink{})
	e.active = BackendEBPF
	now := time.Now()
	pid := int32(1 << 24) // above any pid_max (4194304)
	churn := func(n int) {
		for range n {
			pid++
			ppid := pid - 1
			e.handle(rawEvent{kind: rawFork, time: now, pid: pid, ppid: ppid, startTicks: uint64(pid), cgroupID: uint64(pid % 64)})
			e.handle(rawEvent{kind: rawExec, time: now, pid: pid, ppid: ppid, uid: 0, uidKnown: true,
				exe: "/bin/true", argv: []string{"/bin/true", "churn"}, argvKnown: true, startTicks: uint64(pid), cgroupID: uint64(pid % 64)})
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	churn(20_000)
	if e.tbl.len() != size {
		t.Fatalf("table holds %d entries, want %d", e.tbl.len(), size)
	}
	h0 := heap()
	churn(40_000)
	h1 := heap()
	if e.tbl.len() != size || len(e.tbl.byPID) != size {
		t.Fatalf("table holds %d/%d entries, want %d", e.tbl.len(), len(e.tbl.byPID), size)
	}
	if len(e.cgroups.m) > e.cgroups.max {
		t.Errorf("cgroup cache holds %d, bound %d", len(e.cgroups.m), e.cgroups.max)
	}
	// A full table of short strings is a few hundred KiB; growth beyond
	// a MiB over 40k more processes would be a leak.
	if h1 > h0+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes over 40k processes with a full table", h0, h1)
	}
	t.Logf("table %d entries; live heap %d → %d bytes", e.tbl.len(), h0, h1)
}
