package login

import (
	"slices"
	"strings"
	"time"
)

// Dedup bounds and windows. Records of one login reach us from several
// sources within a second or so (inotify), or up to a poll period later
// (the backstop), so an attempt is held briefly to collect its sources,
// then remembered long enough to swallow late copies.
const (
	// holdFor is how long an attempt waits for other sources.
	holdFor = 3 * time.Second
	// matchWindow is how far apart the record times of one attempt may be
	// (btmp has whole seconds, syslog may lag).
	matchWindow = 5 * time.Second
	// rememberFor keeps emitted attempts to drop copies that arrive after
	// the hold, e.g. through the polling backstop.
	rememberFor = 2 * time.Minute
	maxPending  = 1024
	maxSeen     = 4096
)

// entry is one logical attempt and the sources that reported it.
type entry struct {
	a       attempt
	sources []source
	strong  []source  // sources that sent a record that is not weak
	weak    []string  // source and kind of the weak records merged
	arrived time.Time // our clock, for the hold
	emitted bool      // in seen, no longer pending
	seq     uint64    // arrival order, to break ties
	key     key       // where the index files it
}

// dedup merges the records of one logical attempt. It is not safe for
// concurrent use; the collector's loop owns it.
type dedup struct {
	hold    time.Duration // holdFor when zero; shorter in tests
	pending []*entry      // by arrival
	seen    []*entry      // emitted, by emission
	idx     index         // both of the above
	seq     uint64
	// dropped is called for each record merged into an attempt already
	// known, to count duplicates.
	dropped func(source)
}

// add merges a into a pending or recently emitted attempt it matches, or
// starts a new pending attempt.
func (d *dedup) add(a attempt, now time.Time) {
	if e := d.closest(&a, false); e != nil {
		e.absorb(&a)
		d.idx.refile(e) // absorbing may add a user or change the pid
		d.dup(a.Source)
		return
	}
	if e := d.closest(&a, true); e != nil {
		d.dup(a.Source) // already sent: its Sources cannot change any more
		return
	}
	d.seq++
	e := &entry{a: a, sources: []source{a.Source}, arrived: now, seq: d.seq}
	if a.Weak {
		e.weak = []string{a.weakKey()}
	} else {
		e.strong = []source{a.Source}
	}
	d.pending = append(d.pending, e)
	d.idx.put(e)
}

func (d *dedup) dup(s source) {
	if d.dropped != nil {
		d.dropped(s)
	}
}

// due removes and returns the attempts whose hold has passed (all of them
// when now is zero) and the oldest ones beyond maxPending, and forgets
// emitted attempts past rememberFor.
func (d *dedup) due(now time.Time) []*entry {
	hold := d.hold
	if hold <= 0 {
		hold = holdFor
	}
	// pending is in arrival order, so what is due is a prefix.
	n := max(len(d.pending)-maxPending, 0)
	for n < len(d.pending) && (now.IsZero() || now.Sub(d.pending[n].arrived) >= hold) {
		n++
	}
	out := slices.Clone(d.pending[:n])
	for _, e := range out {
		e.emitted = true
	}
	d.pending = slices.Delete(d.pending, 0, n)
	d.seen = append(d.seen, out...)
	drop := 0
	for drop < len(d.seen) && (len(d.seen)-drop > maxSeen || now.Sub(d.seen[drop].arrived) > rememberFor) {
		d.idx.remove(d.seen[drop])
		drop++
	}
	d.seen = slices.Delete(d.seen, 0, drop)
	return out
}

// closest returns the pending (or, with emitted, the remembered) entry
// that a belongs to, nearest in time; the first to arrive on a tie.
func (d *dedup) closest(a *attempt, emitted bool) *entry {
	var best *entry
	var bestGap time.Duration
	d.idx.candidates(a, func(e *entry) {
		if e.emitted != emitted || !e.matches(a) {
			return
		}
		gap := absDuration(e.a.Time.Sub(a.Time))
		if best == nil || gap < bestGap || (gap == bestGap && e.seq < best.seq) {
			best, bestGap = e, gap
		}
	})
	return best
}

// matches reports whether a is the attempt e describes: same operation
// and result, no conflicting user, pid, address or port, record times
// within matchWindow, and at least a pid or user in common (the user when
// a pid is a helper's). Each source reports an attempt once, so a second
// strong record of a source, or a second weak one of the same kind, is a
// new attempt.
func (e *entry) matches(a *attempt) bool {
	b := &e.a
	if a.Op != b.Op || a.Result != b.Result ||
		absDuration(a.Time.Sub(b.Time)) > matchWindow ||
		userConflict(a.User, b.User) || conflict(a.Port, b.Port) {
		return false
	}
	loose := a.LoosePID || b.LoosePID
	if a.PID != 0 && b.PID != 0 && a.PID != b.PID && !loose {
		return false
	}
	if a.Addr.IsValid() && b.Addr.IsValid() && a.Addr.Unmap() != b.Addr.Unmap() {
		return false
	}
	if !(a.PID != 0 && b.PID != 0 && !loose) && !(a.User != "" && b.User != "") {
		return false
	}
	if a.Weak {
		return !slices.Contains(e.weak, a.weakKey())
	}
	return !slices.Contains(e.strong, a.Source)
}

// absorb adds a's source and the fields the entry lacks. A strong record
// takes precedence over the weak ones merged before it.
func (e *entry) absorb(a *attempt) {
	if len(e.strong) == 0 && !a.Weak {
		first := *a
		first.merge(&e.a)
		first.Time = minTime(first.Time, e.a.Time)
		e.a = first
	} else {
		e.a.merge(a)
	}
	if !slices.Contains(e.sources, a.Source) {
		e.sources = append(e.sources, a.Source)
	}
	if !a.Weak && !slices.Contains(e.strong, a.Source) {
		e.strong = append(e.strong, a.Source)
	}
	if a.Weak && !slices.Contains(e.weak, a.weakKey()) {
		e.weak = append(e.weak, a.weakKey())
	}
}

func (a *attempt) weakKey() string { return string(a.Source) + "/" + a.Kind }

func conflict(x, y string) bool { return x != "" && y != "" && x != y }

// userConflict is conflict for user names, which utmp truncates to 32
// bytes.
func userConflict(x, y string) bool {
	if !conflict(x, y) {
		return false
	}
	if len(x) > len(y) {
		x, y = y, x
	}
	return len(x) != 32 || !strings.HasPrefix(y, x)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
