package login

// Host setup for TestSSHLogins: a throwaway user, sshd, audit, and undoing
// what logging in wrote.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
)

// enableAudit turns kernel auditing on for the test when it can, so that
// PAM's and sshd's USER_* records reach the multicast group, and restores
// the previous state at cleanup. It returns false (files only) without
// CAP_AUDIT_CONTROL/CAP_AUDIT_READ or when the configuration is locked.
func enableAudit(t *testing.T) bool {
	t.Helper()
	audittest.Lock(t)
	ctl, err := audit.OpenControl()
	if err != nil {
		t.Logf("audit unavailable, files only: %v", err)
		return false
	}
	t.Cleanup(func() { ctl.Close() })
	st, err := ctl.Status()
	if err != nil || st.Enabled == 2 {
		t.Logf("audit status %+v, %v: files only", st, err)
		return false
	}
	rd, err := audit.OpenReader(4096)
	if err != nil {
		t.Logf("audit multicast unavailable, files only: %v", err)
		return false
	}
	rd.Close()
	if st.Enabled == 0 {
		if err := ctl.SetEnabled(1); err != nil {
			t.Logf("cannot enable audit, files only: %v", err)
			return false
		}
		t.Cleanup(func() {
			if err := ctl.SetEnabled(0); err != nil {
				t.Errorf("audit left enabled: %v", err)
			}
		})
	}
	return true
}

// throwawayUser adds a user with a random name and password, deleted at
// cleanup with its home.
func throwawayUser(t *testing.T) (name, pass string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name = "azlt" + hex.EncodeToString(b)
	_, _ = rand.Read(b)
	pass = "Pw-" + hex.EncodeToString(b)
	run(t, "useradd", "-m", "-s", "/bin/sh", name)
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			t.Logf("userdel %s: %v: %s", name, err, out)
		}
	})
	cmd := exec.Command("chpasswd")
	cmd.Stdin = bytes.NewBufferString(name + ":" + pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	return name, pass
}

// undoRecords truncates each file back to its current size at cleanup,
// but only when every record appended since names user (or is the logout
// of one of its sessions, which names nobody): a login of someone else
// in between is the host's history and is left alone.
func undoRecords(t *testing.T, user string, files ...string) {
	t.Helper()
	for _, name := range files {
		fi, err := os.Stat(name)
		if err != nil {
			continue // created by sshd; removing it would lose nothing, but leave it
		}
		size := fi.Size()
		t.Cleanup(func() {
			b, err := os.ReadFile(name)
			if err != nil || int64(len(b)) <= size {
				return
			}
			recs, _, errs := parseUtmpRecords(b[size:], size)
			pids := map[int32]bool{}
			for _, r := range recs {
				switch {
				case r.User == user:
					pids[r.PID] = true
				case r.Type == utDeadProcess && pids[r.PID]:
				default:
					t.Logf("%s: records of others appended during the test; leaving ours", name)
					return
				}
			}
			if len(errs) > 0 || (int64(len(b))-size)%utmpSize != 0 {
				return
			}
			if err := os.Truncate(name, size); err != nil {
				t.Logf("restore %s: %v", name, err)
			}
		})
	}
}

// undoLastlog restores the lastlog slot of user's uid (sshd writes it)
// and the file's size, so that a later user with the same uid does not
// inherit a last login.
func undoLastlog(t *testing.T, name string) {
	t.Helper()
	const path, slot = "/var/log/lastlog", 292 // struct lastlog: 4 + 32 + 256
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseInt(u.Uid, 10, 64)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return // no lastlog on this host
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	old := make([]byte, slot)
	_, _ = f.ReadAt(old, uid*slot) // short or EOF: zeros, as a sparse file reads
	t.Cleanup(func() {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return
		}
		defer f.Close()
		if _, err := f.WriteAt(old, uid*slot); err != nil {
			t.Logf("restore lastlog: %v", err)
		}
		if err := f.Truncate(fi.Size()); err != nil {
			t.Logf("restore lastlog: %v", err)
		}
	})
}

// ensureFile creates path (owned by root:group) if it is missing and
// removes it at cleanup; an existing file is left alone.
func ensureFile(t *testing.T, path string, mode os.FileMode, group string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.WriteFile(path, nil, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	if g, err := user.LookupGroup(group); err == nil {
		gid, _ := strconv.Atoi(g.Gid)
		_ = os.Chown(path, 0, gid)
	}
	_ = os.Chmod(path, mode) // past the umask
}

func ensureDir(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(path) })
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int, log *syncBuffer) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sshd not listening on %d: %s", port, log.String())
}

// syncBuffer collects sshd's log, written by exec's copying goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}
