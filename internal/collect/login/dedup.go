package login

import (
	"slices"
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
	a        attempt
	sources  []source
	weakOnly bool
	arrived  time.Time // our clock, for the hold
}

// dedup merges the records of one logical attempt. It is not safe for
// concurrent use; the collector's loop owns it.
type dedup struct {
	pending []*entry // by arrival
	seen    []*entry // emitted, by emission
	// dropped is called for each record merged into an attempt already
	// known, to count duplicates.
	dropped func(source)
}

// add merges a into a pending or recently emitted attempt it matches, or
// starts a new pending attempt.
func (d *dedup) add(a attempt, now time.Time) {
	if e := closest(d.pending, &a); e != nil {
		e.absorb(&a)
		d.dup(a.Source)
		return
	}
	if e := closest(d.seen, &a); e != nil {
		d.dup(a.Source) // already sent: its Sources cannot change any more
		return
	}
	d.pending = append(d.pending, &entry{a: a, sources: []source{a.Source}, weakOnly: a.Weak, arrived: now})
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
	var out []*entry
	keep := d.pending[:0]
	for i, e := range d.pending {
		if now.IsZero() || now.Sub(e.arrived) >= holdFor || len(d.pending)-i > maxPending {
			out = append(out, e)
			continue
		}
		keep = append(keep, e)
	}
	clear(d.pending[len(keep):])
	d.pending = keep
	d.seen = append(d.seen, out...)
	drop := 0
	for drop < len(d.seen) && (len(d.seen)-drop > maxSeen || now.Sub(d.seen[drop].arrived) > rememberFor) {
		drop++
	}
	d.seen = slices.Delete(d.seen, 0, drop)
	return out
}

// closest returns the entry of es that a belongs to, nearest in time.
func closest(es []*entry, a *attempt) *entry {
	var best *entry
	var bestGap time.Duration
	for _, e := range es {
		if !e.matches(a) {
			continue
		}
		gap := absDuration(e.a.Time.Sub(a.Time))
		if best == nil || gap < bestGap {
			best, bestGap = e, gap
		}
	}
	return best
}

// matches reports whether a is the attempt e describes: same operation
// and result, no conflicting user, pid, address or port, record times
// within matchWindow, and at least a pid or user in common. Each source
// reports an attempt once, so a second record of the same source is a new
// attempt unless one of the two is weak.
func (e *entry) matches(a *attempt) bool {
	b := &e.a
	if a.Op != b.Op || a.Result != b.Result ||
		absDuration(a.Time.Sub(b.Time)) > matchWindow ||
		conflict(a.User, b.User) || conflict(a.Port, b.Port) {
		return false
	}
	if a.PID != 0 && b.PID != 0 && a.PID != b.PID {
		return false
	}
	if a.Addr.IsValid() && b.Addr.IsValid() && a.Addr.Unmap() != b.Addr.Unmap() {
		return false
	}
	if !(a.PID != 0 && b.PID != 0) && !(a.User != "" && b.User != "") {
		return false
	}
	return a.Weak || e.weakOnly || !slices.Contains(e.sources, a.Source)
}

// absorb adds a's source and the fields the entry lacks. A strong record
// takes precedence over the weak ones merged before it.
func (e *entry) absorb(a *attempt) {
	if e.weakOnly && !a.Weak {
		first := *a
		first.merge(&e.a)
		if e.a.Time.Before(first.Time) {
			first.Time = e.a.Time
		}
		e.a, e.weakOnly = first, false
	} else {
		e.a.merge(a)
	}
	if !slices.Contains(e.sources, a.Source) {
		e.sources = append(e.sources, a.Source)
	}
}

func conflict(x, y string) bool { return x != "" && y != "" && x != y }

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
