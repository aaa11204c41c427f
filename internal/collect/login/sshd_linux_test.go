package login

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// TestSSHLogins logs in to a real sshd once with the right password and
// once with a wrong one, and expects the collector, reading the real host
// files under "/", to report a Success and a Fail login from 127.0.0.1.
// It needs root, openssh-server and sshpass (apt openssh-server sshpass).
// At cleanup it removes what it appended to wtmp and btmp when nobody
// else wrote there meanwhile, and restores the user's lastlog slot.
func TestSSHLogins(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run sshd and add a user")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("no sshd (apt-get install openssh-server): %v", err)
	}
	for _, tool := range []string{"sshpass", "ssh", "ssh-keygen", "useradd", "userdel", "chpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (apt-get install openssh-server sshpass): %v", tool, err)
		}
	}
	dir := t.TempDir()
	name, pass := throwawayUser(t)
	ensureFile(t, "/run/utmp", 0o664, "utmp")
	undoRecords(t, name, "/var/log/wtmp", "/var/log/btmp")
	undoLastlog(t, name)
	ensureDir(t, "/run/sshd")
	port := freePort(t)
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "hostkey"))
	cfg := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nUsePAM yes\nPasswordAuthentication yes\nPidFile %s\n",
		port, filepath.Join(dir, "hostkey"), filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var sshdLog syncBuffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stderr = &sshdLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, port, &sshdLog)

	withAudit := enableAudit(t)
	state := t.TempDir()
	// Real sources are further apart than test files: sshd writes btmp
	// after PAM's fail delay, well after the audit record. The default
	// hold covers it.
	r := startStreamAudit(t, "/", state, withAudit, holdFor)
	waitState(t, state)
	time.Sleep(300 * time.Millisecond) // the audit socket joins its group

	ssh := func(password string) error {
		return exec.Command("sshpass", "-p", password, "ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "LogLevel=ERROR", "-p", strconv.Itoa(port), "-tt", name+"@127.0.0.1", "true").Run()
	}
	if err := ssh(pass); err != nil {
		t.Fatalf("ssh with the right password: %v\nsshd: %s", err, sshdLog.String())
	}
	if err := ssh("wrong-" + pass); err == nil {
		t.Fatal("ssh with a wrong password succeeded")
	}

	// Every source has written by the time ssh returns. Wait for the
	// three events, then a little longer for a duplicate that should not
	// come: each attempt is one event whatever the number of sources.
	var mine []event.Event
	collectMine := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, ev := range r.evs {
			if ev.Payload[0].(*event.Login).UserName == name {
				mine = append(mine, ev)
			}
		}
		r.evs = nil
	}
	find := func(op, result string) (n int, l *event.Login) {
		for _, ev := range mine {
			if x := ev.Payload[0].(*event.Login); x.Operation == op && x.Result == result {
				n, l = n+1, x
			}
		}
		return n, l
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		collectMine()
		ok, _ := find(opLogin, resultSuccess)
		failed, _ := find(opLogin, resultFail)
		out, _ := find(opLogout, resultSuccess)
		if ok > 0 && failed > 0 && out > 0 {
			break
		}
	}
	time.Sleep(holdFor + time.Second)
	collectMine()
	for _, ev := range mine {
		t.Logf("%+v", *ev.Payload[0].(*event.Login))
	}
	for _, c := range []struct {
		op, result string
		sources    []string // at least these
	}{
		{opLogin, resultSuccess, []string{"utmp", "wtmp"}},
		{opLogin, resultFail, []string{"btmp"}},
		{opLogout, resultSuccess, []string{"utmp", "wtmp"}},
	} {
		n, l := find(c.op, c.result)
		if n != 1 {
			t.Errorf("%s %s: %d events, want 1\nsshd: %s", c.op, c.result, n, sshdLog.String())
			continue
		}
		if l.RemoteAddress != "127.0.0.1" || l.Executable != exeSSHD || l.ProcessID == 0 {
			t.Errorf("%s %s: %+v", c.op, c.result, *l)
		}
		want := c.sources
		if withAudit && c.op == opLogin {
			want = append(want, "audit")
		}
		for _, src := range want {
			if !slices.Contains(strings.Split(l.ExtraDetails["Sources"], ","), src) {
				t.Errorf("%s %s: sources %q, want %s among them", c.op, c.result, l.ExtraDetails["Sources"], src)
			}
		}
	}
	collecttest.CheckMessage(t, mine)
}
