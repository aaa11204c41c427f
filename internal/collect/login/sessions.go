package login

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// utmp is a table of slots rewritten in place, not a log: we re-read it
// whole when it changes and compare its live sessions with the previous
// read. maxUtmpBytes bounds the read (2730 slots); maxSessions bounds the
// sessions we track.
const (
	maxUtmpBytes = 1 << 20
	maxSessions  = 4096
)

// session is one live login of utmp, or one wtmp login awaiting its
// logout record, which carries neither user nor host.
type session struct {
	PID  int32     `json:"pid"`
	Line string    `json:"line"`
	User string    `json:"user"`
	Host string    `json:"host,omitempty"`
	Time time.Time `json:"time"`
}

type sessionKey struct {
	pid  int32
	line string
}

func (s session) key() sessionKey { return sessionKey{s.PID, s.Line} }

// liveSessions returns the USER_PROCESS slots of a utmp file.
func liveSessions(recs []utmpRecord) []session {
	var out []session
	for _, r := range recs {
		if r.Type == utUserProcess && r.User != "" && len(out) < maxSessions {
			out = append(out, session{PID: r.PID, Line: r.Line, User: r.User, Host: r.Host, Time: r.Time})
		}
	}
	return out
}

// diffSessions returns the sessions of cur missing from old (logins) and
// those of old missing from cur (logouts).
func diffSessions(old, cur []session) (started, ended []session) {
	in := func(ss []session) map[sessionKey]bool {
		m := make(map[sessionKey]bool, len(ss))
		for _, s := range ss {
			m[s.key()] = true
		}
		return m
	}
	oldSet, curSet := in(old), in(cur)
	for _, s := range cur {
		if !oldSet[s.key()] {
			started = append(started, s)
		}
	}
	for _, s := range old {
		if !curSet[s.key()] {
			ended = append(ended, s)
		}
	}
	return started, ended
}

// readUtmp reads and decodes the host's utmp: /run/utmp, or /var/run/utmp
// on hosts where /var/run is not a link to /run. A missing file is no
// sessions (ok false): /run/utmp exists only once something created it.
func readUtmp(root hostfs.Root) (recs []utmpRecord, errs []error, ok bool, err error) {
	for _, name := range []string{"/run/utmp", "/var/run/utmp"} {
		f, err := root.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, false, err
		}
		b, err := io.ReadAll(hostfs.LimitedReader(f, maxUtmpBytes))
		f.Close()
		if err != nil {
			return nil, nil, false, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		recs, _, errs = parseUtmpRecords(b, 0)
		return recs, errs, true, nil
	}
	return nil, nil, false, nil
}

// utmpAttempt makes the attempt of a session that started or ended. A
// logout is timed now: the slot that held the session may already be
// reused.
func utmpAttempt(s session, op string, now time.Time) attempt {
	a := attempt{
		Source: srcUtmp, Time: s.Time, Op: op, Result: resultSuccess,
		User: s.User, PID: int64(s.PID), Terminal: s.Line,
		Executable: utmpExecutable(s.Line, s.Host),
	}
	if op == opLogout {
		a.Time = now
	}
	a.setHost(s.Host)
	return a
}

// openSessions remembers wtmp logins until their logout, bounded.
type openSessions struct {
	m     map[sessionKey]session
	order []sessionKey
}

func (o *openSessions) add(s session) {
	if o.m == nil {
		o.m = map[sessionKey]session{}
	}
	if _, ok := o.m[s.key()]; !ok {
		o.order = append(o.order, s.key())
	}
	o.m[s.key()] = s
	for len(o.m) > maxSessions {
		delete(o.m, o.order[0])
		o.order = o.order[1:]
	}
	if len(o.order) > 2*maxSessions { // compact keys already ended
		keep := o.order[:0]
		for _, k := range o.order {
			if _, ok := o.m[k]; ok {
				keep = append(keep, k)
			}
		}
		o.order = keep
	}
}

// take returns and forgets the session of a logout record.
func (o *openSessions) take(pid int32, line string) (session, bool) {
	k := sessionKey{pid, line}
	s, ok := o.m[k]
	delete(o.m, k)
	return s, ok
}
