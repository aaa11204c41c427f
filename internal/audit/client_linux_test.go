package audit

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
)

// TestLiveExec installs keyed exec rules, reads a child's exec from the
// multicast group (long argument split into chunks, one needing hex), and
// checks that the audit state is restored afterwards.
func TestLiveExec(t *testing.T) {
	audittest.Lock(t)
	ctl, err := OpenControl()
	if err != nil {
		t.Skipf("audit unavailable: %v", err)
	}
	defer ctl.Close()
	before, err := ctl.Status()
	if err != nil {
		t.Skipf("audit status unavailable (needs CAP_AUDIT_CONTROL in the initial user namespace): %v", err)
	}
	if before.Enabled == 2 {
		t.Skip("audit configuration is locked")
	}
	rd, err := OpenReader(4 << 20)
	if err != nil {
		t.Skipf("audit multicast unavailable (needs CAP_AUDIT_READ): %v", err)
	}
	defer rd.Close()
	const key = "azureiotsecurity-test"
	undo, err := ctl.ExecRules(key)
	if err != nil {
		t.Fatalf("ExecRules: %v", err)
	}
	restored := false
	defer func() {
		if !restored {
			_ = undo()
		}
	}()
	rules, err := ctl.Rules()
	if err != nil {
		t.Fatalf("Rules: %v", err)
	}
	if !slices.ContainsFunc(rules, func(r []byte) bool { k, _ := RuleKey(r); return k == key }) {
		t.Errorf("our rule is not listed among %d rules", len(rules))
	}

	long := strings.Repeat("L", 20000)
	marker := fmt.Sprintf("marker %d", time.Now().UnixNano())
	cmd := exec.Command("/bin/true", marker, long)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var got *Exec
	g := NewGrouper()
	deadline := time.Now().Add(10 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		msgs, err := rd.Receive()
		if err != nil && err != ErrOverrun {
			t.Fatal(err)
		}
		for _, m := range msgs {
			r, err := ParseRecord(m.Type, m.Data)
			if err != nil {
				continue
			}
			g.Add(r, time.Now(), func(ev Event) {
				if x, err := ParseExec(ev); err == nil && x.PID == cmd.Process.Pid {
					got = &x
				}
			})
		}
	}
	if got == nil {
		t.Fatal("the child's exec was not seen")
	}
	if want := []string{"/bin/true", marker, long}; !slices.Equal(got.Argv, want) || got.Key != key || got.PPID != os.Getpid() {
		t.Errorf("exec: key %q ppid %d argv lengths %d, want %d args with the marker", got.Key, got.PPID, len(got.Argv), len(want))
	}

	restored = true
	if err := undo(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	after, err := ctl.Status()
	if err != nil || after.Enabled != before.Enabled {
		t.Errorf("enabled %d after undo, was %d (%v)", after.Enabled, before.Enabled, err)
	}
	rules, _ = ctl.Rules()
	if slices.ContainsFunc(rules, func(r []byte) bool { k, _ := RuleKey(r); return k == key }) {
		t.Error("our rule is still installed")
	}
}
