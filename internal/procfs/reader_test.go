package procfs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

const fixtureBootID = "6f2b3c1e-1d2a-4b7c-9e3f-0a1b2c3d4e5f"

func TestReadProcessFixture(t *testing.T) {
	r, err := NewReader("testdata")
	if err != nil {
		t.Fatal(err)
	}
	boot := time.Unix(1764300000, 0)
	if !r.BootTime().Equal(boot) || r.BootID() != fixtureBootID {
		t.Fatalf("boot = %v %q", r.BootTime(), r.BootID())
	}
	id := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		pid     int32
		want    *Process
		missing []string
	}{
		{pid: 1234, want: &Process{
			PID: 1234, PPID: 1, NSpid: []int32{1234, 7}, UID: 1000, EUID: 1000, GID: 1000,
			LoginUID: 1000, LoginUIDSet: true, UserName: "edge",
			Exe: "/usr/bin/python3.11", ExeDeleted: true,
			Argv: []string{"/usr/bin/python3", "-c", `print("a b")`, "", "--flag"}, CommandLine: `/usr/bin/python3 -c print("a b")  --flag`,
			Comm: "my (odd) proc", StartTicks: 12345, StartTime: boot.Add(123450 * time.Millisecond),
			Cgroup: []CgroupLine{
				{HierarchyID: 12, Controllers: []string{"pids"}, Path: "/docker/" + id},
				{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/docker/" + id},
				{Path: "/docker/" + id},
			},
			EntityID: EntityID(fixtureBootID, 1234, 12345),
		}},
		{pid: 2, want: &Process{ // kernel thread: no exe is not a failure
			PID: 2, NSpid: []int32{2}, LoginUID: LoginUIDUnset, UserName: "root", Comm: "kthreadd",
			StartTicks: 3, StartTime: boot.Add(30 * time.Millisecond), Cgroup: []CgroupLine{{Path: "/"}},
			EntityID: EntityID(fixtureBootID, 2, 3),
		}},
		{pid: 77, want: &Process{ // per-field failures keep the rest
			PID: 77, PPID: 1234, Argv: []string{"worker"}, CommandLine: "worker", Comm: "worker",
			StartTicks: 500, StartTime: boot.Add(5 * time.Second), Cgroup: []CgroupLine{{Path: "/system.slice/foo.service"}},
			EntityID: EntityID(fixtureBootID, 77, 500),
		}, missing: []string{"status", "exe", "loginuid"}},
	}
	for _, tt := range tests {
		got, err := r.ReadProcess(tt.pid)
		if err != nil {
			t.Fatalf("ReadProcess(%d): %v", tt.pid, err)
		}
		var missing []string
		for _, fe := range got.Incomplete {
			missing = append(missing, fe.Field)
		}
		if diff := cmp.Diff(tt.missing, missing); diff != "" {
			t.Errorf("pid %d incomplete fields (-want +got):\n%s\n%v", tt.pid, diff, got.Incomplete)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Process{}, "Incomplete")); diff != "" {
			t.Errorf("pid %d (-want +got):\n%s", tt.pid, diff)
		}
	}
	if _, err := r.ReadProcess(999); !errors.Is(err, ErrGone) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing pid: err = %v, want ErrGone", err)
	}
	pids, err := ListPIDs("testdata")
	if err != nil || !slices.Equal(pids, []int32{2, 77, 1234}) {
		t.Errorf("ListPIDs = %v, %v", pids, err)
	}
}

func TestEntityID(t *testing.T) {
	a := EntityID(fixtureBootID, 10, 500)
	if len(a) != 32 || a != EntityID(fixtureBootID, 10, 500) {
		t.Fatalf("EntityID not stable: %q", a)
	}
	for _, other := range []string{
		EntityID(fixtureBootID, 10, 501), EntityID(fixtureBootID, 11, 500),
		EntityID("00000000-1d2a-4b7c-9e3f-0a1b2c3d4e5f", 10, 500),
	} {
		if other == a {
			t.Errorf("EntityID collision %q", a)
		}
	}
}

// TestReadProcessReal reads this test process and a child it starts from
// the real /proc.
func TestReadProcessReal(t *testing.T) {
	r, err := NewReader("/")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, err := r.ReadProcess(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if self.Exe != exe || !slices.Equal(self.Argv, os.Args) || int(self.PPID) != os.Getppid() ||
		int(self.UID) != os.Getuid() || len(self.Incomplete) != 0 {
		t.Errorf("self = %+v", self)
	}
	if now := time.Now(); self.StartTime.After(now) || self.StartTime.Before(r.BootTime()) {
		t.Errorf("self start %v not between boot %v and now %v", self.StartTime, r.BootTime(), now)
	}
	if again, _ := r.ReadProcess(self.PID); again == nil || again.EntityID != self.EntityID {
		t.Errorf("entity id changed between reads")
	}

	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary:", err)
	}
	cmd := exec.Command(sleep, "30", "arg with spaces", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Until exec completes the child still runs the test binary: poll.
	var child *Process
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if child, err = r.ReadProcess(pid); err == nil && len(child.Argv) == 4 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	resolved, _ := filepath.EvalSymlinks(sleep)
	want := []string{sleep, "30", "arg with spaces", ""}
	if child.PPID != self.PID || child.Exe != resolved || !slices.Equal(child.Argv, want) ||
		child.CommandLine != sleep+" 30 arg with spaces " || child.Comm != "sleep" || child.EntityID == self.EntityID {
		t.Errorf("child = %+v", child)
	}
	if child.StartTicks < self.StartTicks {
		t.Errorf("child started (%d) before parent (%d)", child.StartTicks, self.StartTicks)
	}
	pids, err := ListPIDs("/")
	if err != nil || !slices.Contains(pids, pid) || !slices.Contains(pids, self.PID) {
		t.Errorf("ListPIDs misses self or child: %v", err)
	}

	cmd.Process.Kill()
	cmd.Wait() // reaped: the pid is gone
	if _, err := r.ReadProcess(pid); !errors.Is(err, ErrGone) {
		t.Errorf("exited child: err = %v, want ErrGone", err)
	}
}

// TestReadProcessPID1 checks per-field tolerance on the real pid 1, whose
// exe is EACCES even for root on this machine kind (a sandbox init).
func TestReadProcessPID1(t *testing.T) {
	r, err := NewReader("/")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.ReadProcess(1)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != 1 || p.Comm == "" || p.StartTime.IsZero() {
		t.Errorf("pid 1 = %+v", p)
	}
	for _, fe := range p.Incomplete {
		if fe.Field == "exe" && !errors.Is(fe, fs.ErrPermission) {
			t.Errorf("pid 1 exe: %v, want a permission error", fe)
		}
	}
	t.Logf("pid 1: exe %q, incomplete %v", p.Exe, p.Incomplete)
}

func TestUserResolverRefresh(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "etc", "passwd")
	os.MkdirAll(filepath.Dir(passwd), 0o755)
	u := NewUserResolver(hostfs.Root(dir))
	now := time.Unix(1000, 0)
	u.now = func() time.Time { return now }

	if _, _, err := u.Name(0); err == nil {
		t.Error("no passwd file: want an error")
	}
	write := func(content string, mtime time.Time) {
		if err := os.WriteFile(passwd, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(passwd, mtime, mtime)
	}
	write("root:x:0:0::/:\n", time.Unix(1, 0))
	if _, _, err := u.Name(0); err == nil {
		t.Error("error was not kept until the next check")
	}
	now = now.Add(recheckEvery)
	if name, ok, err := u.Name(0); name != "root" || !ok || err != nil {
		t.Errorf("Name(0) = %q %v %v", name, ok, err)
	}
	if _, ok, _ := u.Name(5); ok {
		t.Error("Name(5) found")
	}
	write("admin:x:0:0::/:\nsvc:x:5:5::/:\n", time.Unix(2, 0))
	if name, _, _ := u.Name(0); name != "root" {
		t.Errorf("reloaded before recheck interval: %q", name)
	}
	now = now.Add(recheckEvery)
	if name, _, _ := u.Name(0); name != "admin" {
		t.Errorf("after change Name(0) = %q", name)
	}
	if name, _, _ := u.Name(5); name != "svc" {
		t.Errorf("after change Name(5) = %q", name)
	}
}
