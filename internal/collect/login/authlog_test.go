package login

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestParseAuthLogLine(t *testing.T) {
	ts := time.Date(2026, 11, 29, 2, 26, 32, 348822000, time.UTC)
	const hdr = "2026-11-29T02:26:32.348822+00:00 vm "
	tests := []struct {
		name string
		line string
		ok   bool
		want attempt
	}{
		{"accepted", hdr + "sshd[20108]: Accepted keyboard-interactive/pam for probeu from 127.0.0.1 port 41938 ssh2", true,
			attempt{Op: opLogin, Result: resultSuccess, User: "probeu", PID: 20108, Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Port: "41938",
				Details: map[string]string{"AuthMethod": "keyboard-interactive/pam"}}},
		{"accepted publickey v6, sshd-session", hdr + "sshd-session[7]: Accepted publickey for root from 2001:db8::5 port 22 ssh2: ED25519 SHA256:abc", true,
			attempt{Op: opLogin, Result: resultSuccess, User: "root", PID: 7, Executable: exeSSHD, Addr: mustAddr("2001:db8::5"), Port: "22",
				Details: map[string]string{"AuthMethod": "publickey"}}},
		{"failed password", hdr + "sshd[9]: Failed password for alice from 192.0.2.1 port 5 ssh2", true,
			attempt{Op: opLogin, Result: resultFail, User: "alice", PID: 9, Executable: exeSSHD, Addr: mustAddr("192.0.2.1"), Port: "5",
				Details: map[string]string{"AuthMethod": "password"}}},
		{"failed invalid user", hdr + "sshd[20129]: Failed keyboard-interactive/pam for invalid user nosuchuser from 127.0.0.1 port 51942 ssh2", true,
			attempt{Op: opLogin, Result: resultFail, User: "nosuchuser", PID: 20129, Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Port: "51942",
				Details: map[string]string{"AuthMethod": "keyboard-interactive/pam", "Reason": "InvalidUser"}}},
		{"invalid user", hdr + "sshd[20129]: Invalid user nosuchuser from 127.0.0.1 port 51942", true,
			attempt{Op: opLogin, Result: resultFail, User: "nosuchuser", PID: 20129, Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Port: "51942", Weak: true, Kind: "invalid-user",
				Details: map[string]string{"Reason": "InvalidUser"}}},
		{"pam failure", hdr + "sshd[20123]: error: PAM: Authentication failure for probeu from 127.0.0.1", true,
			attempt{Op: opLogin, Result: resultFail, User: "probeu", PID: 20123, Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Weak: true, Kind: "pam-failure"}},
		{"pam failure host name", hdr + "sshd[3]: error: PAM: Authentication failure for illegal user x from gw.example", true,
			attempt{Op: opLogin, Result: resultFail, User: "x", PID: 3, Executable: exeSSHD, RemoteHost: "gw.example", Weak: true, Kind: "pam-failure",
				Details: map[string]string{"Reason": "InvalidUser"}}},
		{"session opened", hdr + "sshd[20108]: pam_unix(sshd:session): session opened for user probeu(uid=1001) by (uid=0)", true,
			attempt{Op: opLogin, Result: resultSuccess, User: "probeu", UID: "1001", PID: 20108, Executable: exeSSHD, Weak: true, Kind: "session",
				Details: map[string]string{"PAMService": "sshd"}}},
		{"session closed", hdr + "sshd[20108]: pam_unix(sshd:session): session closed for user probeu", true,
			attempt{Op: opLogout, Result: resultSuccess, User: "probeu", PID: 20108, Executable: exeSSHD,
				Details: map[string]string{"PAMService": "sshd"}}},
		{"su session, traditional time", "Nov 28 23:59:01 vm su[77]: pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)", true,
			attempt{Op: opLogin, Result: resultSuccess, User: "root", UID: "0", PID: 77, Executable: "/bin/su", Time: time.Date(2026, 11, 28, 23, 59, 1, 0, time.UTC),
				Details: map[string]string{"PAMService": "su-l"}}},
		{"su failure", "Dec 31 23:59:59 vm su[78]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root", true,
			attempt{Op: opLogin, Result: resultFail, User: "root", PID: 78, Executable: "/bin/su", Time: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
				Details: map[string]string{"PAMService": "su"}}},
		{"login failure rhost", hdr + "login[5]: pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=10.1.1.1  user=bob", true,
			attempt{Op: opLogin, Result: resultFail, User: "bob", PID: 5, Executable: exeLogin, Addr: mustAddr("10.1.1.1"),
				Details: map[string]string{"PAMService": "login"}}},
		{"sshd pam auth failure skipped", hdr + "sshd[20125]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=127.0.0.1  user=probeu", false, attempt{}},
		{"sudo skipped", hdr + "sudo[1]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)", false, attempt{}},
		{"cron skipped", hdr + "CRON[1]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", false, attempt{}},
		{"other sshd line", hdr + "sshd[1]: Server listening on 127.0.0.1 port 2299.", false, attempt{}},
		{"spoofed program", hdr + "evil[1]: Accepted password for root from 1.2.3.4 port 1 ssh2", false, attempt{}},
		{"invalid user without name", hdr + "sshd[1]: Invalid user  from 1.2.3.4 port 1", false, attempt{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseAuthLogLine(tt.line, now)
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v, err %v; want ok %v", ok, err, tt.ok)
			}
			if !ok {
				return
			}
			tt.want.Source = srcAuthLog
			if tt.want.Time.IsZero() {
				tt.want.Time = ts
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(mustAddr("::1")), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSyslogMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"garbage",
		"Nov 99 25:00:00 vm sshd[1]: x",
		"2026-11-29T02:26:32Z",
		"2026-11-29T02:26:32Z vm",
		"2026-11-29T02:26:32Z vm no tag here",
		"2026-11-29T02:26:32Z vm sshd[x]: y",
		"2026-11-29T02:26:32Z vm sshd[-1]: y",
		"2026-11-29T02:26:32Z vm sshd[99999999999]: y",
	} {
		if _, _, err := parseAuthLogLine(line, now); !errors.Is(err, errSyslog) {
			t.Errorf("%q: err = %v, want errSyslog", line, err)
		}
	}
}

func FuzzParseAuthLogLine(f *testing.F) {
	for _, s := range []string{
		"2026-11-29T02:26:32.348822+00:00 vm sshd[20108]: Accepted password for u from 127.0.0.1 port 41938 ssh2",
		"Nov 29 02:26:32 vm sshd[1]: Failed password for invalid user x from ::1 port 2 ssh2",
		"Nov 29 02:26:32 vm su[1]: pam_unix(su:auth): authentication failure; rhost=h user=root",
		"Nov 29 02:26:32 vm sshd[1]: pam_unix(sshd:session): session closed for user u",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, ok, err := parseAuthLogLine(line, now)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
		if !ok {
			return
		}
		if a.User == "" || strings.ContainsAny(a.User, " \n") || (a.Result != resultFail && a.Result != resultSuccess) {
			t.Errorf("accepted %+v", a)
		}
		_ = a.payload([]source{srcAuthLog})
	})
}

func BenchmarkParseAuthLogLine(b *testing.B) {
	lines := []string{
		"2026-11-29T02:26:32.348822+00:00 vm sshd[20108]: Accepted keyboard-interactive/pam for probeu from 127.0.0.1 port 41938 ssh2",
		"2026-11-29T02:26:32.350510+00:00 vm sshd[20108]: pam_systemd(sshd:session): Failed to connect to system bus: No such file or directory",
		"Nov 29 02:26:32 vm CRON[1]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
	}
	for b.Loop() {
		for _, l := range lines {
			if _, _, err := parseAuthLogLine(l, now); err != nil {
				b.Fatal(err)
			}
		}
	}
}
