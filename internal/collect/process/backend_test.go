package process

import (
	"os"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
)

// burstSize is the storm: at least 5000 short-lived processes.
const burstSize = 5000

// TestBurst runs the storm under every backend that works here and
// reports per-backend capture. eBPF and audit read the arguments with the
// event and must capture ≥ 99.9 % with exact command lines; the proc
// connector sees ≥ 99.9 % of the execs but reads command lines from /proc
// afterwards, which loses some for processes this short (reported, not
// asserted: kernel-sources.md §1, §9); the /proc poller is lossy by
// design and only reported.
func TestBurst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the kernel backends")
	}
	for _, tc := range []struct {
		backend        string
		minSeen, minCL float64
	}{
		{BackendEBPF, 0.999, 0.999},
		{BackendProcCn, 0.999, 0},
		{BackendAudit, 0.999, 0.999},
		{BackendProcfs, 0, 0},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			if tc.backend == BackendAudit {
				skipIfAuditBusy(t)
			}
			e, s := startEngine(t, Options{Backend: tc.backend}, 0)
			if got := e.Status().Backend; got != tc.backend {
				t.Skipf("backend %s unavailable here: %s", tc.backend, e.Status())
			}
			n := burstSize
			if tc.backend == BackendProcfs {
				n = 500 // lossy anyway; keep the run short
			}
			want := burst(t, n, markerFor(t))
			// Let the backend catch up; stop waiting once nothing moves.
			last, stable := -1, 0
			// Exits count too: eBPF delivers in 100 ms batches, so the
			// last exits may arrive a poll after the last exec.
			waitFor(t, 60*time.Second, func() bool {
				seen, _, exited := capture(s, want)
				if seen+exited == last {
					stable++
				} else {
					last, stable = seen+exited, 0
				}
				return seen == len(want) && exited == len(want) || stable > 50
			}, func() string { return "capture still moving" })
			seen, exact, exited := capture(s, want)
			t.Logf("backend %s: captured %d/%d (%.2f %%), exact command line %d (%.2f %%), terminations %d",
				tc.backend, seen, n, 100*float64(seen)/float64(n), exact, 100*float64(exact)/float64(n), exited)
			if float64(seen) < tc.minSeen*float64(n) {
				t.Errorf("captured %d of %d, want ≥ %.1f %%", seen, n, 100*tc.minSeen)
			}
			if float64(exact) < tc.minCL*float64(n) {
				t.Errorf("exact command lines %d of %d, want ≥ %.1f %%", exact, n, 100*tc.minCL)
			}
		})
	}
}

// skipIfAuditBusy skips when audit cannot be used here, or when another
// audit user (auditd, a parallel test) owns rules we would race with.
func skipIfAuditBusy(t *testing.T) {
	t.Helper()
	audittest.Lock(t)
	c, err := audit.OpenControl()
	if err != nil {
		t.Skipf("audit unavailable: %v", err)
	}
	defer c.Close()
	st, err := c.Status()
	if err != nil {
		t.Skipf("audit status unavailable (needs CAP_AUDIT_CONTROL, init user namespace): %v", err)
	}
	if st.Enabled == 2 {
		t.Skip("audit configuration is locked")
	}
}

// TestFallback forces each backend off in turn (by starting the chain
// below it) and checks that the next one is selected and Status says why.
func TestFallback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the kernel backends")
	}
	for i, name := range chainOrder[1:] {
		t.Run(name, func(t *testing.T) {
			if name == BackendAudit {
				skipIfAuditBusy(t)
			}
			e, _ := startEngine(t, Options{Backend: name}, 0)
			st := e.Status()
			t.Logf("status: %s", st)
			if st.Backend != name {
				t.Skipf("%s unavailable here: %s", name, st)
			}
			if len(st.Refused) < i+1 {
				t.Fatalf("refused = %v, want the %d better backends", st.Refused, i+1)
			}
			for j, r := range st.Refused[:i+1] {
				if r.Backend != chainOrder[j] || r.Reason == "" {
					t.Errorf("refusal %d = %+v, want %s with a reason", j, r, chainOrder[j])
				}
			}
		})
	}
}

// TestAuditNotAllowed: in auto order audit refuses without permission to
// install rules, and says so.
func TestAuditNotAllowed(t *testing.T) {
	b := &auditBackend{m: newMetrics(nil)}
	err := b.Run(t.Context(), make(chan rawEvent, 1))
	if !isRefusal(err) {
		t.Fatalf("Run = %v, want a refusal", err)
	}
}
