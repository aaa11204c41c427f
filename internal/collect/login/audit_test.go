package login

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseAuditUser(t *testing.T) {
	const pre = "pid=1082 uid=0 auid=4294967295 ses=4294967295 subj=unconfined "
	tests := []struct {
		name    string
		rec     AuditRecord
		ok      bool
		want    attempt
		wantErr bool
	}{
		{"lightdm auth (reference fixture)", AuditRecord{Type: auditUserAuth, Time: t0, Text: pre + `msg='op=PAM:authentication acct="kfir" exe="/usr/sbin/lightdm" hostname=? addr=? terminal=:0 res=success'`}, true,
			attempt{Op: opLogin, Result: resultSuccess, PID: 1082, User: "kfir", Executable: "/usr/sbin/lightdm", Terminal: ":0", Weak: true, Kind: "USER_AUTH",
				Details: map[string]string{"AuditOperation": "PAM:authentication"}}, false},
		{"ssh login failed", AuditRecord{Type: auditUserLogin, Time: t0, Text: pre + `msg='op=login acct="probeu" exe="/usr/sbin/sshd" hostname=? addr=127.0.0.1 terminal=ssh res=failed'`}, true,
			attempt{Op: opLogin, Result: resultFail, PID: 1082, User: "probeu", Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Terminal: "ssh",
				Details: map[string]string{"AuditOperation": "login"}}, false},
		{"login with id and hex acct", AuditRecord{Type: auditUserLogin, Time: t0, Text: pre + `msg='op=login id=1001 acct=6A6F686E20646F65 exe="/usr/sbin/sshd" hostname=gw addr=::1 terminal=/dev/pts/1 res=success'`}, true,
			attempt{Op: opLogin, Result: resultSuccess, PID: 1082, User: "john doe", UID: "1001", Executable: exeSSHD, Addr: mustAddr("::1"), Terminal: "pts/1",
				Details: map[string]string{"AuditOperation": "login"}}, false},
		{"sshd password check in PAM's child", AuditRecord{Type: auditUserAuth, Time: t0, Text: `pid=963 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=pam_permit acct="probeu" exe="/usr/sbin/sshd" hostname=127.0.0.1 addr=127.0.0.1 terminal=ssh res=success'` + "\x1d" + ` UID="root"`}, true,
			attempt{Op: opLogin, Result: resultSuccess, PID: 963, User: "probeu", Executable: exeSSHD, Addr: mustAddr("127.0.0.1"), Terminal: "ssh",
				Weak: true, Kind: "USER_AUTH", LoosePID: true, Details: map[string]string{"AuditOperation": "PAM:authentication"}}, false},
		{"sudo skipped", AuditRecord{Type: auditUserAuth, Text: pre + `msg='op=PAM:authentication acct="a" exe="/usr/bin/sudo" res=success'`}, false, attempt{}, false},
		{"other type", AuditRecord{Type: 1300, Text: "arch=c000003e"}, false, attempt{}, false},
		{"no user", AuditRecord{Type: auditUserLogin, Text: pre + `msg='op=login exe="/x" res=success'`}, false, attempt{}, false},
		{"bad res", AuditRecord{Type: auditUserLogin, Text: pre + `msg='op=login acct=u exe="/x" res=maybe'`}, false, attempt{}, true},
		{"bad pid", AuditRecord{Type: auditUserLogin, Text: `pid=x msg='op=login acct=u res=success'`}, false, attempt{}, true},
		{"unterminated", AuditRecord{Type: auditUserLogin, Text: `pid=1 msg='op=login acct="u res=success'`}, false, attempt{}, true},
		{"no equals", AuditRecord{Type: auditUserLogin, Text: `pid=1 garbage`}, false, attempt{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseAuditUser(tt.rec)
			if (err != nil) != tt.wantErr || ok != tt.ok {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if err != nil && !errors.Is(err, errAudit) {
				t.Errorf("err %v does not wrap errAudit", err)
			}
			if !ok {
				return
			}
			tt.want.Source, tt.want.Time = srcAudit, t0
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(mustAddr("::1"))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitAuditRecord(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    AuditRecord
		wantErr bool
	}{
		{"multicast copy", "audit(1764642049.123:456): pid=1 uid=0 msg='op=login res=success'\x00",
			AuditRecord{Type: auditUserLogin, Time: time.Unix(1764642049, 123000000), Text: "pid=1 uid=0 msg='op=login res=success'"}, false},
		{"empty body", "audit(1764642049.123:456): ", AuditRecord{Type: auditUserLogin, Time: time.Unix(1764642049, 123000000)}, false},
		{"empty", "", AuditRecord{}, true},
		{"no header", "pid=1 msg='x'", AuditRecord{}, true},
		{"bad time", "audit(x.1:2): pid=1", AuditRecord{}, true},
		{"bad serial", "audit(1.1:x): pid=1", AuditRecord{}, true},
		{"no body", "audit(1.1:2)", AuditRecord{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitAuditRecord(auditUserLogin, []byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				if !errors.Is(err, errAudit) {
					t.Errorf("err %v does not wrap errAudit", err)
				}
				return
			}
			if !got.Time.Equal(tt.want.Time) || got.Text != tt.want.Text || got.Type != tt.want.Type {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzAuditRecord runs a multicast payload through both parsers.
func FuzzAuditRecord(f *testing.F) {
	f.Add([]byte("audit(1764642049.123:456): pid=963 uid=0 msg='op=PAM:authentication acct=\"u\" exe=\"/usr/sbin/sshd\" addr=::1 res=failed'"))
	f.Add([]byte("audit(1.1:2): "))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := splitAuditRecord(auditUserAuth, data)
		if err != nil {
			return
		}
		if a, ok, err := parseAuditUser(r); ok {
			if err != nil || (a.User == "" && a.UID == "") {
				t.Fatalf("accepted %+v, %v", a, err)
			}
			_ = a.payload([]source{srcAudit})
		}
	})
}

func FuzzParseAuditUser(f *testing.F) {
	f.Add(uint16(auditUserLogin), `pid=1 uid=0 msg='op=login acct="u" exe="/usr/sbin/sshd" addr=::1 res=success'`)
	f.Add(uint16(auditUserAuth), `pid=1 msg='op=x acct=6162 res=failed'`)
	f.Fuzz(func(t *testing.T, typ uint16, text string) {
		a, ok, err := parseAuditUser(AuditRecord{Type: typ, Text: text})
		if ok && (err != nil || (a.User == "" && a.UID == "")) {
			t.Fatalf("accepted %+v, %v", a, err)
		}
	})
}
