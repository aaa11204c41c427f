package login

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// testHold shortens the dedup hold; the records of each step are
// written together, well within it.
const testHold = 400 * time.Millisecond

// running is a Stream under test.
type running struct {
	mu     sync.Mutex
	evs    []event.Event
	cancel context.CancelFunc
	done   chan error
}

// startStream runs a collector over files only: audit records of the
// real host would add events the test did not make.
func startStream(t *testing.T, root hostfs.Root, stateDir string) *running {
	t.Helper()
	return startStreamAudit(t, root, stateDir, false, testHold)
}

// startStreamAudit runs a collector that reads the audit multicast group
// too when withAudit is set, holding attempts for hold.
func startStreamAudit(t *testing.T, root hostfs.Root, stateDir string, withAudit bool, hold time.Duration) *running {
	t.Helper()
	log := logrus.New()
	log.SetOutput(testWriter{t})
	log.SetLevel(logrus.DebugLevel)
	c := newCollector(collect.Deps{Root: root, StateDir: stateDir, Logger: logrus.NewEntry(log)})
	c.hold, c.flushEvery = hold, testHold/4
	if !withAudit {
		c.SetAuditSource(nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- c.Stream(ctx, func(ev event.Event) { r.mu.Lock(); r.evs = append(r.evs, ev); r.mu.Unlock() })
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // later stops return at once
}

// waitFor polls until n events arrived, then waits a little longer to
// catch an unexpected extra one.
func (r *running) waitFor(t *testing.T, n int) []event.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.evs)
		r.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(4 * testHold)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.evs) != n {
		t.Fatalf("got %d events, want %d: %v", len(r.evs), n, payloads(r.evs))
	}
	evs := r.evs
	r.evs = nil
	return evs
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitState(t *testing.T, dir string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no state file written")
}

func authLine(ts time.Time, pid int, msg string) []byte {
	return fmt.Appendf(nil, "%s host sshd[%d]: %s\n", ts.Format(time.RFC3339Nano), pid, msg)
}

// TestStream runs the collector over a host root in a temp dir: a first
// start skips history, appended records are reported once across
// sources, a restart resumes from the saved positions, and a rotated wtmp
// loses nothing.
func TestStream(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	logs := filepath.Join(root, "var", "log")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	wtmp, btmp, auth := filepath.Join(logs, "wtmp"), filepath.Join(logs, "btmp"), filepath.Join(logs, "auth.log")
	old := time.Now().Add(-time.Hour)
	appendFile(t, wtmp, utmpBytes(utmpRecord{Type: 7, PID: 5, Line: "pts/0", User: "history", Host: "10.9.9.9", Time: old}))
	appendFile(t, auth, authLine(old, 5, "Accepted password for history from 10.9.9.9 port 1 ssh2"))

	r := startStream(t, hostfs.Root(root), state)
	waitState(t, state)
	now := time.Now()
	appendFile(t, wtmp, utmpBytes(utmpRecord{Type: 7, PID: 100, Line: "pts/3", User: "alice", Host: "192.0.2.7", Time: now}))
	appendFile(t, auth, authLine(now, 100, "Accepted publickey for alice from 192.0.2.7 port 50000 ssh2: ED25519 SHA256:x"))
	appendFile(t, auth, authLine(now, 100, "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)"))
	appendFile(t, btmp, utmpBytes(utmpRecord{Type: 6, PID: 101, Line: "ssh:notty", User: "mallory", Host: "198.51.100.1", Time: now}))
	appendFile(t, auth, authLine(now, 101, "Failed password for mallory from 198.51.100.1 port 40000 ssh2"))
	evs := r.waitFor(t, 2)
	collecttest.CheckGolden(t, "stream.golden.json", payloads(evs), *update)
	collecttest.CheckMessage(t, evs)
	r.stop()
	if b, err := os.ReadFile(filepath.Join(state, stateFile)); err == nil {
		t.Logf("state: %s", b)
	}

	// Written while the module was down: reported once after the restart,
	// nothing earlier again. The wtmp logout has no user; auth.log names it.
	now = time.Now()
	appendFile(t, wtmp, utmpBytes(utmpRecord{Type: 8, PID: 100, Line: "pts/3", Time: now}))
	appendFile(t, auth, authLine(now, 100, "pam_unix(sshd:session): session closed for user alice"))
	r = startStream(t, hostfs.Root(root), state)
	evs = r.waitFor(t, 1)
	if l := evs[0].Payload[0].(*event.Login); l.Operation != opLogout || l.UserName != "alice" || l.ExtraDetails["Sources"] != "authlog,wtmp" {
		t.Errorf("after restart: %+v", l)
	}

	// Rotation: the end of the old file is read from wtmp.1, then the new
	// file from its start.
	if err := os.Rename(wtmp, wtmp+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, wtmp+".1", utmpBytes(utmpRecord{Type: 7, PID: 200, Line: "tty1", User: "bob", Time: time.Now()}))
	appendFile(t, wtmp, utmpBytes(utmpRecord{Type: 7, PID: 201, Line: "tty2", User: "carol", Time: time.Now()}))
	evs = r.waitFor(t, 2)
	users := map[string]bool{}
	for _, ev := range evs {
		users[ev.Payload[0].(*event.Login).UserName] = true
	}
	if !users["bob"] || !users["carol"] {
		t.Errorf("after rotation: users %v, want bob and carol", users)
	}

	// Truncated in place (copytruncate): read again from the start.
	if err := os.Truncate(btmp, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, btmp, utmpBytes(utmpRecord{Type: 6, PID: 300, Line: "ssh:notty", User: "dave", Time: time.Now()}))
	evs = r.waitFor(t, 1)
	if l := evs[0].Payload[0].(*event.Login); l.UserName != "dave" || l.Result != resultFail {
		t.Errorf("after truncation: %+v", l)
	}
}

// TestStreamUtmp: sessions appearing in and leaving /run/utmp are logins
// and logouts; the slots present at the first start are not reported.
func TestStreamUtmp(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	utmp := filepath.Join(run, "utmp")
	slot := func(typ int16, pid int32, user string) []byte {
		return utmpBytes(utmpRecord{Type: typ, PID: pid, Line: "pts/" + user, User: user, Host: "::1", Time: time.Now()})
	}
	write := func(b ...[]byte) {
		var all []byte
		for _, x := range b {
			all = append(all, x...)
		}
		// In place, as glibc rewrites slots: a truncation would be seen
		// as every session ending.
		f, err := os.OpenFile(utmp, os.O_CREATE|os.O_WRONLY, 0o664)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(all, 0); err != nil {
			t.Fatal(err)
		}
	}
	write(slot(7, 1, "old"))
	r := startStream(t, hostfs.Root(root), "")
	time.Sleep(500 * time.Millisecond) // no state file to wait for
	write(slot(7, 1, "old"), slot(7, 2, "new"))
	evs := r.waitFor(t, 1)
	if l := evs[0].Payload[0].(*event.Login); l.UserName != "new" || l.Operation != opLogin || l.RemoteAddress != "::1" {
		t.Errorf("login: %+v", l)
	}
	write(slot(8, 1, ""), slot(7, 2, "new"))
	evs = r.waitFor(t, 1)
	if l := evs[0].Payload[0].(*event.Login); l.UserName != "old" || l.Operation != opLogout {
		t.Errorf("logout: %+v", l)
	}
	collecttest.CheckMessage(t, evs)
}
