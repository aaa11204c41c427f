package login

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxLineBytes bounds one auth.log line; a longer one is skipped.
const maxLineBytes = 8 << 10

// errSyslog is wrapped by every auth.log header error.
var errSyslog = errors.New("not a syslog line")

// syslogLine is the header of a line that rsyslog wrote to a file.
type syslogLine struct {
	Time    time.Time
	Program string
	PID     int64
	Message string
}

// parseSyslog splits "TIME HOST TAG[PID]: MSG". TIME is rsyslog's
// RFC 3339 default (Debian 12+, RHEL 9) or the traditional "Jan _2
// 15:04:05", which has no year and no zone: it is read in the module's
// local zone, in the year that puts it at most a day after now.
func parseSyslog(line string, now time.Time) (syslogLine, error) {
	var s syslogLine
	ts, rest, ok := strings.Cut(line, " ")
	if t, err := time.Parse(time.RFC3339Nano, ts); ok && err == nil {
		s.Time = t
	} else {
		if len(line) < 16 || line[15] != ' ' {
			return s, fmt.Errorf("%w: no timestamp", errSyslog)
		}
		t, err := time.ParseInLocation("Jan _2 15:04:05", line[:15], now.Location())
		if err != nil {
			return s, fmt.Errorf("%w: timestamp %q", errSyslog, line[:15])
		}
		t = t.AddDate(now.Year()-t.Year(), 0, 0)
		if t.After(now.AddDate(0, 0, 1)) {
			t = t.AddDate(-1, 0, 0)
		}
		s.Time, rest = t, line[16:]
	}
	_, rest, ok = strings.Cut(rest, " ") // host name
	if !ok {
		return s, fmt.Errorf("%w: no host", errSyslog)
	}
	tag, msg, ok := strings.Cut(rest, ": ")
	if !ok || tag == "" || strings.ContainsRune(tag, ' ') {
		return s, fmt.Errorf("%w: no tag", errSyslog)
	}
	if i := strings.IndexByte(tag, '['); i > 0 && strings.HasSuffix(tag, "]") {
		pid, err := strconv.ParseInt(tag[i+1:len(tag)-1], 10, 32)
		if err != nil || pid <= 0 {
			return s, fmt.Errorf("%w: pid in %q", errSyslog, tag)
		}
		tag, s.PID = tag[:i], pid
	}
	s.Program, s.Message = tag, msg
	return s, nil
}

// The sshd and PAM messages we read. sshd-session is sshd's per-connection
// binary since OpenSSH 9.8.
var (
	reAccepted   = regexp.MustCompile(`^Accepted (\S+) for (\S+) from (\S+) port (\d+)`)
	reFailed     = regexp.MustCompile(`^Failed (\S+) for (invalid user )?(\S+) from (\S+) port (\d+)`)
	reInvalid    = regexp.MustCompile(`^Invalid user (\S+) from (\S+) port (\d+)`)
	rePAMFailure = regexp.MustCompile(`^error: PAM: Authentication failure for (illegal user )?(\S+) from (\S+)$`)
	reSession    = regexp.MustCompile(`^pam_unix\(([^:()]+):session\): session (opened|closed) for user ([^\s(]+)(?:\(uid=(\d+)\))?`)
	reAuthFail   = regexp.MustCompile(`^pam_unix\(([^:()]+):auth\): authentication failure;.* user=(\S+)`)
	reRhost      = regexp.MustCompile(` rhost=(\S+)`)
)

// PAM services whose sessions are not logins: privilege changes and
// services that open sessions for jobs. sshd's own auth failures are
// skipped too: sshd logs them itself from the connection's pid, while
// pam_unix logs them from a helper's pid that matches no other source.
var notLoginService = map[string]bool{
	"sudo": true, "sudo-i": true, "cron": true, "CRON": true, "atd": true,
	"systemd-user": true, "runuser": true, "runuser-l": true, "polkit-1": true,
}

// parseAuthLogLine maps one auth.log / secure line to an attempt. ok is
// false for the many lines that are not logins; err is set only for a line
// that is not syslog at all.
func parseAuthLogLine(line string, now time.Time) (a attempt, ok bool, err error) {
	s, err := parseSyslog(line, now)
	if err != nil {
		return attempt{}, false, err
	}
	a = attempt{Source: srcAuthLog, Time: s.Time, PID: s.PID, Op: opLogin, Executable: executableOf(s.Program)}
	sshd := a.Executable == exeSSHD
	msg := s.Message
	// Each regexp is tried only after a cheap prefix test: most lines of
	// a busy auth.log are none of these.
	var m []string
	switch {
	case sshd && strings.HasPrefix(msg, "Accepted ") && match(&m, reAccepted, msg):
		a.Result, a.User, a.Port = resultSuccess, m[2], m[4]
		a.setHost(m[3])
		a.Details = map[string]string{"AuthMethod": m[1]}
	case sshd && strings.HasPrefix(msg, "Failed ") && match(&m, reFailed, msg):
		a.Result, a.User, a.Port = resultFail, m[3], m[5]
		a.setHost(m[4])
		a.Details = map[string]string{"AuthMethod": m[1]}
		if m[2] != "" {
			a.Details["Reason"] = "InvalidUser"
		}
	case sshd && strings.HasPrefix(msg, "Invalid user ") && match(&m, reInvalid, msg):
		a.Result, a.User, a.Port, a.Weak, a.Kind = resultFail, m[1], m[3], true, "invalid-user"
		a.setHost(m[2])
		a.Details = map[string]string{"Reason": "InvalidUser"}
	case sshd && strings.HasPrefix(msg, "error: PAM: ") && match(&m, rePAMFailure, msg):
		a.Result, a.User, a.Weak, a.Kind = resultFail, m[2], true, "pam-failure"
		a.setHost(m[3])
		if m[1] != "" {
			a.Details = map[string]string{"Reason": "InvalidUser"}
		}
	case strings.HasPrefix(msg, "pam_unix(") && match(&m, reSession, msg):
		if notLoginService[m[1]] {
			return attempt{}, false, nil
		}
		a.Result, a.User, a.UID = resultSuccess, m[3], m[4]
		if m[2] == "closed" {
			a.Op = opLogout
		} else {
			// sshd logs "Accepted" first; login and su log nothing else.
			if sshd {
				a.Weak, a.Kind = true, "session"
			}
		}
		a.Details = map[string]string{"PAMService": m[1]}
	case !sshd && strings.HasPrefix(msg, "pam_unix(") && match(&m, reAuthFail, msg):
		if notLoginService[m[1]] {
			return attempt{}, false, nil
		}
		a.Result, a.User = resultFail, m[2]
		if h := reRhost.FindStringSubmatch(msg); h != nil {
			a.setHost(h[1])
		}
		a.Details = map[string]string{"PAMService": m[1]}
	default:
		return attempt{}, false, nil
	}
	if a.User == "" {
		return attempt{}, false, nil // the schema needs a user
	}
	return a, true, nil
}

// match runs re once, keeping its submatches in *m.
func match(m *[]string, re *regexp.Regexp, s string) bool {
	*m = re.FindStringSubmatch(s)
	return *m != nil
}

// executableOf names the binary behind a syslog tag.
func executableOf(program string) string {
	switch program {
	case "sshd", "sshd-session":
		return exeSSHD
	case "login":
		return exeLogin
	case "su":
		return "/bin/su"
	}
	return program
}
