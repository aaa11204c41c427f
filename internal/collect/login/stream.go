package login

import (
	"bytes"
	"fmt"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// stream is the state of one Stream call, owned by its loop.
type stream struct {
	c       *Collector
	emit    func(event.Event)
	wtmp    *tailer
	btmp    *tailer
	auth    []*tailer
	utmp    []session // live sessions at the last read
	utmpSet bool      // utmp has been read (or restored) once
	open    openSessions
	dd      dedup
	dirty   bool // positions changed since the last save
	logged  int  // warnings of the current scan
}

func (c *Collector) newStream(emit func(event.Event)) *stream {
	s := &stream{
		c: c, emit: emit,
		wtmp: &tailer{root: c.root, name: wtmpPath},
		btmp: &tailer{root: c.root, name: btmpPath},
	}
	for _, p := range authPaths {
		s.auth = append(s.auth, &tailer{root: c.root, name: p})
	}
	s.dd.hold = c.hold
	s.dd.dropped = func(src source) { c.metrics.duplicates.WithLabelValues(string(src)).Inc() }
	return s
}

func (s *stream) tailers() []*tailer { return append([]*tailer{s.wtmp, s.btmp}, s.auth...) }

// watched lists the host paths whose changes wake the loop.
func (s *stream) watched() []string {
	var out []string
	for _, t := range s.tailers() {
		out = append(out, s.c.root.Path(t.name))
	}
	return append(out, s.c.root.Path("/run/utmp"), s.c.root.Path("/var/run/utmp"))
}

// loadState restores positions. Without a state file (or with a broken
// one) every file starts at its end and the current utmp is the baseline.
func (s *stream) loadState() {
	if s.c.stateDir == "" {
		s.c.log.Info("no state directory: a restart starts at the end of the login files")
		return
	}
	p, ok, err := loadState(s.c.stateDir)
	if err != nil {
		s.c.log.WithError(err).Warn("ignoring login state; starting at the end of the files")
		return
	}
	if !ok {
		return
	}
	for _, t := range s.tailers() {
		if st, ok := p.Files[t.name]; ok {
			t.st, t.known = st, true
		}
	}
	if p.Files != nil {
		s.utmp, s.utmpSet = p.Utmp, true
	}
}

func (s *stream) saveState() {
	if s.c.stateDir == "" || !s.dirty {
		return
	}
	p := persisted{Files: map[string]fileState{}, Utmp: s.utmp}
	for _, t := range s.tailers() {
		if t.known {
			p.Files[t.name] = t.st
		}
	}
	if err := saveState(s.c.stateDir, p); err != nil {
		s.c.log.WithError(err).Warn("login positions not saved; a restart may repeat events")
		return
	}
	s.dirty = false
}

// scan reads every source once and saves the new positions.
func (s *stream) scan() {
	s.logged = 0
	now := s.c.now()
	s.scanUtmpFile(s.wtmp, srcWtmp)
	s.scanUtmpFile(s.btmp, srcBtmp)
	for _, t := range s.auth {
		s.scanAuthLog(t, now)
	}
	s.scanUtmp(now)
	s.saveState()
}

// poll runs one tailer and notes a moved position.
func (s *stream) poll(t *tailer, src source, fn consumer) {
	before, known := t.st, t.known
	if err := t.poll(fn); err != nil {
		s.warn(err, "file", t.name)
	}
	if t.skipped > 0 {
		s.c.metrics.malformed.WithLabelValues(string(src)).Add(float64(t.skipped))
		s.warn(fmt.Errorf("skipped %d chunks of %d bytes without a whole record", t.skipped, chunkBytes), "file", t.name)
		t.skipped = 0
	}
	if t.st.Inode != before.Inode || t.st.Offset != before.Offset || t.st.Size != before.Size || t.known != known {
		s.dirty = true
	}
}

func (s *stream) scanUtmpFile(t *tailer, src source) {
	s.poll(t, src, func(chunk []byte, off int64) int {
		recs, used, errs := parseUtmpRecords(chunk, off)
		for _, err := range errs {
			s.c.metrics.malformed.WithLabelValues(string(src)).Inc()
			s.warn(err, "file", t.name)
		}
		for _, r := range recs {
			s.addUtmpRecord(r, src)
		}
		return used
	})
}

// addUtmpRecord completes a wtmp logout, which has no user, from the login
// it ends.
func (s *stream) addUtmpRecord(r utmpRecord, src source) {
	a, ok := fromUtmp(r, src)
	if !ok {
		return
	}
	if src == srcWtmp {
		if a.Op == opLogin {
			s.open.add(session{PID: r.PID, Line: r.Line, User: r.User, Host: r.Host, Time: r.Time})
		} else if o, ok := s.open.take(r.PID, r.Line); ok {
			a.User = o.User
			a.setHost(o.Host)
			a.Executable = utmpExecutable(o.Line, o.Host)
		}
	}
	s.add(a)
}

func (s *stream) scanAuthLog(t *tailer, now time.Time) {
	s.poll(t, srcAuthLog, func(chunk []byte, off int64) int {
		used := 0
		for {
			i := bytes.IndexByte(chunk[used:], '\n')
			if i < 0 {
				break
			}
			line := chunk[used : used+i]
			used += i + 1
			if len(line) > maxLineBytes {
				s.c.metrics.malformed.WithLabelValues(string(srcAuthLog)).Inc()
				continue
			}
			a, ok, err := parseAuthLogLine(string(line), now)
			if err != nil {
				s.c.metrics.malformed.WithLabelValues(string(srcAuthLog)).Inc()
				s.warn(err, "file", t.name, "offset", off+int64(used-i-1))
				continue
			}
			if ok {
				s.add(a)
			}
		}
		return used
	})
}

// scanUtmp compares the live sessions with the last read.
func (s *stream) scanUtmp(now time.Time) {
	recs, errs, ok, err := readUtmp(s.c.root)
	if err != nil {
		s.warn(err)
		return
	}
	for _, err := range errs {
		s.c.metrics.malformed.WithLabelValues(string(srcUtmp)).Inc()
		s.warn(err, "file", "utmp")
	}
	cur := liveSessions(recs)
	if !ok {
		cur = nil
	}
	if s.utmpSet {
		started, ended := diffSessions(s.utmp, cur)
		for _, x := range started {
			s.add(utmpAttempt(x, opLogin, now))
		}
		for _, x := range ended {
			s.add(utmpAttempt(x, opLogout, now))
		}
		if len(started)+len(ended) > 0 {
			s.dirty = true
		}
	} else {
		s.dirty = true
	}
	s.utmp, s.utmpSet = cur, true
}

func (s *stream) addAudit(r AuditRecord) {
	a, ok, err := parseAuditUser(r)
	if err != nil {
		s.c.metrics.malformed.WithLabelValues(string(srcAudit)).Inc()
		s.logged = 0
		s.warn(err)
		return
	}
	if ok {
		s.add(a)
	}
}

func (s *stream) add(a attempt) {
	if s.c.selfPID != 0 && a.PID == s.c.selfPID {
		return // the module's own activity is not the host's
	}
	s.c.metrics.records.WithLabelValues(string(a.Source)).Inc()
	s.dd.add(a, s.c.now())
}

// emitDue sends the attempts whose hold has passed (all when now is zero).
func (s *stream) emitDue(now time.Time) {
	for _, e := range s.dd.due(now) {
		if e.a.User == "" && e.a.UID == "" {
			// A logout whose login we never saw: the schema needs a user.
			s.c.metrics.incomplete.Inc()
			continue
		}
		s.emit(event.New(event.NameLogin, e.a.Time, e.a.payload(e.sources)))
	}
}

// warn logs the first maxLogged problems of a scan.
func (s *stream) warn(err error, kv ...any) {
	if s.logged++; s.logged > maxLogged {
		return
	}
	log := s.c.log
	for i := 0; i+1 < len(kv); i += 2 {
		log = log.WithField(kv[i].(string), kv[i+1])
	}
	log.WithError(err).Warn("login source problem")
}
