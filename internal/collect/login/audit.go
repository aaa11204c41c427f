package login

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
)

// Audit record types that PAM writes for logins (linux/audit.h).
const (
	auditUserAuth  = 1100
	auditUserStart = 1105
	auditUserLogin = 1112
)

// AuditRecord is one user-space audit record as the kernel multicasts it.
type AuditRecord struct {
	Type uint16
	// Time is the record's own timestamp (from "audit(SEC.MS:SERIAL)").
	Time time.Time
	// Text is the record body after the "audit(...): " header, e.g.
	// `pid=1 uid=0 auid=… msg='op=PAM:authentication acct="u" … res=success'`.
	Text string
}

// AuditSource delivers the USER_AUTH, USER_LOGIN and USER_START records
// until ctx ends; on Linux the default is the kernel's audit multicast
// group (multicastAudit). When it fails the collector logs it and keeps
// its file sources running.
type AuditSource interface {
	UserRecords(ctx context.Context, deliver func(AuditRecord)) error
}

var errAudit = errors.New("malformed audit record")

// isLoginType reports whether an audit record type is one we read; the
// multicast group carries every record (execs of the process collector
// too), so this is checked before any parsing.
func isLoginType(t uint16) bool {
	return t == auditUserAuth || t == auditUserStart || t == auditUserLogin
}

// splitAuditRecord turns the payload of one multicast record,
// "audit(SEC.MS:SERIAL): body", into an AuditRecord.
func splitAuditRecord(typ uint16, data []byte) (AuditRecord, error) {
	r, err := audit.ParseRecord(typ, data)
	if err != nil {
		return AuditRecord{}, fmt.Errorf("%w: %w", errAudit, err)
	}
	data = bytes.TrimRight(data, "\x00\n")
	_, body, ok := bytes.Cut(data, []byte("): "))
	if !ok {
		return AuditRecord{}, fmt.Errorf("%w: no body", errAudit)
	}
	return AuditRecord{Type: typ, Time: r.Time, Text: string(body)}, nil
}

// parseAuditUser maps a USER_AUTH, USER_LOGIN or USER_START record to an
// attempt. USER_LOGIN is the login itself; USER_AUTH (the password check)
// and USER_START (the PAM session) accompany it, so they are weak. sudo
// authentications are privilege changes, not logins, and are left out as
// the retired agents did.
func parseAuditUser(r AuditRecord) (a attempt, ok bool, err error) {
	switch r.Type {
	case auditUserAuth, auditUserStart, auditUserLogin:
	default:
		return attempt{}, false, nil
	}
	text := r.Text
	if i := strings.IndexByte(text, 0x1d); i >= 0 {
		// auditd's enriched format appends interpreted fields after a
		// group separator; the kernel's records have none.
		text = text[:i]
	}
	outer, err := auditFields(text)
	if err != nil {
		return attempt{}, false, err
	}
	msg, err := auditFields(outer["msg"])
	if err != nil {
		return attempt{}, false, err
	}
	pid, err := strconv.ParseInt(outer["pid"], 10, 32)
	if err != nil || pid < 0 {
		return attempt{}, false, fmt.Errorf("%w: pid %q", errAudit, outer["pid"])
	}
	exe := msg["exe"]
	if strings.HasSuffix(exe, "/sudo") {
		return attempt{}, false, nil
	}
	a = attempt{
		Source: srcAudit, Time: r.Time, Op: opLogin, PID: pid, Executable: exe,
		User: msg["acct"], UID: msg["id"],
		Weak: r.Type != auditUserLogin, Kind: auditKind(r.Type),
		// sshd authenticates through PAM in a forked child.
		LoosePID: r.Type == auditUserAuth && isSSHD(exe),
		Details:  map[string]string{"AuditOperation": msg["op"]},
	}
	if a.User == "" && a.UID == "" {
		return attempt{}, false, nil
	}
	switch msg["res"] {
	case "success":
		a.Result = resultSuccess
	case "failed":
		a.Result = resultFail
	default:
		return attempt{}, false, fmt.Errorf("%w: res %q", errAudit, msg["res"])
	}
	if h := msg["addr"]; h != "" && h != "?" {
		a.setHost(h)
	} else if h := msg["hostname"]; h != "" && h != "?" {
		a.setHost(h)
	}
	if t := msg["terminal"]; t != "" && t != "?" {
		a.Terminal = strings.TrimPrefix(t, "/dev/")
	}
	return a, true, nil
}

// auditFields splits `k=v k="quoted" k='nested'` into a map. An unquoted
// value of even length made only of upper-case hex digits is hex-encoded
// text (audit encodes values holding spaces or quotes that way), except
// all-digit values, which are numbers.
func auditFields(s string) (map[string]string, error) {
	m := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " ") {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsRune(s[:eq], ' ') {
			return nil, fmt.Errorf("%w: no key=value at %q", errAudit, truncate(s))
		}
		key, rest := s[:eq], s[eq+1:]
		var val string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated %s", errAudit, key)
			}
			val, s = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, s = decodeHexValue(rest[:end]), rest[end:]
		}
		m[key] = strings.ToValidUTF8(val, "\uFFFD")
	}
	return m, nil
}

func decodeHexValue(v string) string {
	if len(v) < 2 || len(v)%2 != 0 || strings.Trim(v, "0123456789") == "" ||
		strings.Trim(v, "0123456789ABCDEF") != "" {
		return v
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return v
	}
	return strings.ReplaceAll(string(b), "\x00", " ")
}

func auditKind(t uint16) string {
	switch t {
	case auditUserAuth:
		return "USER_AUTH"
	case auditUserStart:
		return "USER_START"
	}
	return ""
}

func isSSHD(exe string) bool {
	return strings.HasSuffix(exe, "/sshd") || strings.HasSuffix(exe, "/sshd-session") || strings.HasSuffix(exe, "/sshd-auth")
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
