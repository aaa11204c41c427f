package login

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// fixtureAttempts reads the records one ssh session, one failed password
// and one unknown user left in wtmp, btmp and auth.log on this machine
// kind (testdata/host/var/log).
func fixtureAttempts(t *testing.T) (files, authlog []func(*stream)) {
	t.Helper()
	for _, src := range []source{srcWtmp, srcBtmp} {
		b, err := os.ReadFile("testdata/host/var/log/" + string(src))
		if err != nil {
			t.Fatal(err)
		}
		recs, _, errs := parseUtmpRecords(b, 0)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, r := range recs {
			files = append(files, func(s *stream) { s.addUtmpRecord(r, src) })
		}
	}
	f, err := os.Open("testdata/host/var/log/auth.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		a, ok, err := parseAuthLogLine(sc.Text(), now)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			authlog = append(authlog, func(s *stream) { s.add(a) })
		}
	}
	return files, authlog
}

func runAdds(adds ...[]func(*stream)) []event.Event {
	var evs []event.Event
	s := newCollector(collect.Deps{}).newStream(func(ev event.Event) { evs = append(evs, ev) })
	for _, list := range adds {
		for _, add := range list {
			add(s)
		}
	}
	s.emitDue(time.Time{})
	return evs
}

func payloads(evs []event.Event) []any {
	var out []any
	for _, ev := range evs {
		out = append(out, ev.Payload...)
	}
	return out
}

// TestDedupFixture: every source's records of the same attempts collapse
// to one event per attempt, whichever source is read first. The unknown
// user gives two failures because sshd counted two (btmp has two records:
// "Invalid user" and the failed keyboard-interactive round).
func TestDedupFixture(t *testing.T) {
	files, authlog := fixtureAttempts(t)
	evs := runAdds(files, authlog)
	collecttest.CheckGolden(t, "fixture.golden.json", payloads(evs), *update)
	collecttest.CheckMessage(t, evs)

	reversed := runAdds(authlog, files)
	if len(reversed) != len(evs) {
		t.Errorf("auth.log first: %d events, files first: %d", len(reversed), len(evs))
	}
	// Each source alone reports every attempt too.
	if n := len(runAdds(files)); n != 5 {
		t.Errorf("files alone: %d events, want 5", n)
	}
	// auth.log names the unknown user's attempt three times but sshd's
	// weak lines merge into its one "Failed" line.
	if n := len(runAdds(authlog)); n != 4 {
		t.Errorf("auth.log alone: %d events, want 4", n)
	}
}

func TestDedupRules(t *testing.T) {
	base := attempt{Source: srcWtmp, Time: t0, Op: opLogin, Result: resultSuccess, User: "u", PID: 10, Addr: mustAddr("10.0.0.1")}
	with := func(f func(*attempt)) attempt { a := base; f(&a); return a }
	tests := []struct {
		name string
		b    attempt
		want int // events
	}{
		{"other source, same pid", with(func(a *attempt) { a.Source = srcAuthLog }), 1},
		{"other source, no pid", with(func(a *attempt) { a.Source = srcAuthLog; a.PID = 0 }), 1},
		{"same source twice", base, 2},
		{"same source weak", with(func(a *attempt) { a.Weak = true }), 1},
		{"other pid", with(func(a *attempt) { a.Source = srcAuthLog; a.PID = 11 }), 2},
		{"other user", with(func(a *attempt) { a.Source = srcAuthLog; a.User = "v" }), 2},
		{"other address", with(func(a *attempt) { a.Source = srcAuthLog; a.Addr = mustAddr("10.0.0.2") }), 2},
		{"mapped address", with(func(a *attempt) { a.Source = srcAuthLog; a.Addr = mustAddr("::ffff:10.0.0.1") }), 1},
		{"other result", with(func(a *attempt) { a.Source = srcBtmp; a.Result = resultFail }), 2},
		{"logout", with(func(a *attempt) { a.Source = srcAuthLog; a.Op = opLogout }), 2},
		{"too far apart", with(func(a *attempt) { a.Source = srcAuthLog; a.Time = t0.Add(matchWindow + time.Second) }), 2},
		{"helper pid, same user", with(func(a *attempt) { a.Source = srcAudit; a.PID = 963; a.LoosePID = true; a.Weak = true }), 1},
		{"helper pid, other user", with(func(a *attempt) { a.Source = srcAudit; a.PID = 963; a.LoosePID = true; a.User = "v" }), 2},
		{"helper pid, no user", with(func(a *attempt) { a.Source = srcAudit; a.PID = 963; a.LoosePID = true; a.User = ""; a.UID = "0" }), 2},
		{"nothing in common", with(func(a *attempt) { a.Source = srcAuthLog; a.PID = 0; a.User = "" }), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dedup
			d.add(base, t0)
			d.add(tt.b, t0)
			if got := len(d.due(time.Time{})); got != tt.want {
				t.Errorf("%d events, want %d", got, tt.want)
			}
		})
	}
}

// TestDedupWeakKinds: weak records merge with their own source's strong
// record, but two of the same kind are two attempts (three wrong
// passwords give three USER_AUTH records and nothing else from audit).
func TestDedupWeakKinds(t *testing.T) {
	fail := attempt{Source: srcAudit, Time: t0, Op: opLogin, Result: resultFail, User: "u", PID: 7, Weak: true, Kind: "USER_AUTH", LoosePID: true}
	var d dedup
	for i := range 3 {
		a := fail
		a.PID += int64(i)
		d.add(a, t0)
	}
	if n := len(d.due(time.Time{})); n != 3 {
		t.Errorf("three failed USER_AUTH: %d events, want 3", n)
	}

	// sshd with audit: the PAM child's USER_AUTH, then the session's
	// USER_START, then wtmp: one login with the session's pid.
	ok := attempt{Source: srcAudit, Time: t0, Op: opLogin, Result: resultSuccess, User: "u", PID: 963, Weak: true, Kind: "USER_AUTH", LoosePID: true}
	start := attempt{Source: srcAudit, Time: t0.Add(time.Second), Op: opLogin, Result: resultSuccess, User: "u", UID: "1001", PID: 939, Weak: true, Kind: "USER_START"}
	wtmp := attempt{Source: srcWtmp, Time: t0.Add(time.Second), Op: opLogin, Result: resultSuccess, User: "u", PID: 939, Terminal: "pts/1"}
	d = dedup{}
	for _, a := range []attempt{ok, start, wtmp} {
		d.add(a, t0)
	}
	out := d.due(time.Time{})
	if len(out) != 1 || out[0].a.PID != 939 || out[0].a.UID != "1001" || out[0].a.Terminal != "pts/1" || len(out[0].sources) != 2 {
		t.Errorf("sshd login: %d events, first %+v", len(out), out)
	}
}

func TestDedupLateCopyAndBounds(t *testing.T) {
	dups := 0
	d := dedup{dropped: func(source) { dups++ }}
	a := attempt{Source: srcWtmp, Time: t0, Op: opLogin, Result: resultSuccess, User: "u", PID: 1}
	d.add(a, t0)
	if n := len(d.due(t0.Add(holdFor - time.Millisecond))); n != 0 {
		t.Fatalf("emitted %d before the hold", n)
	}
	if n := len(d.due(t0.Add(holdFor))); n != 1 {
		t.Fatalf("emitted %d after the hold", n)
	}
	late := a
	late.Source = srcAuthLog
	d.add(late, t0.Add(10*time.Second))
	if len(d.pending) != 0 || dups != 1 {
		t.Errorf("late copy: pending %d, dups %d", len(d.pending), dups)
	}
	d.due(t0.Add(rememberFor + time.Minute))
	if len(d.seen) != 0 {
		t.Errorf("seen %d after rememberFor", len(d.seen))
	}
	for i := range maxPending + maxSeen + 10 {
		b := a
		b.PID = int64(i + 2)
		d.add(b, t0)
		if len(d.pending) > maxPending+1 {
			t.Fatalf("pending %d", len(d.pending))
		}
		d.due(t0)
	}
	if len(d.pending) > maxPending || len(d.seen) > maxSeen {
		t.Errorf("pending %d, seen %d: unbounded", len(d.pending), len(d.seen))
	}
	filed := 0
	for _, es := range d.idx.byPID {
		filed += len(es)
	}
	if filed != len(d.pending)+len(d.seen) || len(d.idx.byUser["u"]) != filed {
		t.Errorf("index holds %d by pid, %d by user, for %d entries", filed, len(d.idx.byUser["u"]), len(d.pending)+len(d.seen))
	}
	d.due(t0.Add(rememberFor + time.Hour))
	if len(d.idx.byPID)+len(d.idx.byUser)+len(d.idx.undecided) != 0 {
		t.Errorf("index not emptied: %d pids, %d users", len(d.idx.byPID), len(d.idx.byUser))
	}
}

// BenchmarkDedupStorm is the cost of one record during a password storm
// against one user: every connection a new pid, each seen by btmp and
// auth.log, with the hold and memory full.
func BenchmarkDedupStorm(b *testing.B) {
	var d dedup
	a := attempt{Source: srcBtmp, Time: t0, Op: opLogin, Result: resultFail, User: "root", Addr: mustAddr("192.0.2.1")}
	i := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		i++
		x := a
		x.PID, x.Time = i, t0.Add(time.Duration(i)*time.Millisecond)
		d.add(x, x.Time)
		x.Source = srcAuthLog
		d.add(x, x.Time)
		d.due(x.Time)
	}
}
