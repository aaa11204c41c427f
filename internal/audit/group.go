package audit

import (
	"time"
)

// Event is the records of one audit serial, in arrival order.
type Event struct {
	Serial  uint64
	Records []Record
	// Incomplete is set when the event was flushed without its EOE
	// record (timed out or pushed out by the in-flight bound).
	Incomplete bool
}

// Find returns the first record of type typ, or nil.
func (e *Event) Find(typ uint16) *Record {
	for i := range e.Records {
		if e.Records[i].Type == typ {
			return &e.Records[i]
		}
	}
	return nil
}

// Grouper assembles records into events by serial. A syscall event ends
// with its EOE record; user-space records (1100–1299, 2100–2999) are
// events on their own. Events missing their EOE are flushed after MaxAge
// or when more than MaxInFlight serials are open, oldest first, so memory
// stays bounded whatever the input. Not safe for concurrent use.
type Grouper struct {
	MaxAge      time.Duration
	MaxInFlight int

	open  map[uint64]*pending
	order []uint64 // serials by first arrival; may hold closed ones
}

type pending struct {
	ev    Event
	first time.Time
}

// NewGrouper returns a grouper with the usual bounds.
func NewGrouper() *Grouper {
	return &Grouper{MaxAge: 2 * time.Second, MaxInFlight: 1024, open: map[uint64]*pending{}}
}

// Add takes one record, received at now, and calls done for every event
// it completes.
func (g *Grouper) Add(r Record, now time.Time, done func(Event)) {
	if isStandalone(r.Type) {
		if _, ok := g.open[r.Serial]; !ok {
			done(Event{Serial: r.Serial, Records: []Record{r}})
			return
		}
	}
	p, ok := g.open[r.Serial]
	if !ok {
		p = &pending{ev: Event{Serial: r.Serial}, first: now}
		g.open[r.Serial] = p
		g.order = append(g.order, r.Serial)
	}
	if r.Type == TypeEOE {
		delete(g.open, r.Serial)
		done(p.ev)
	} else if len(p.ev.Records) < maxRecordsPerEvent {
		p.ev.Records = append(p.ev.Records, r)
	}
	for len(g.open) > g.MaxInFlight {
		g.flushOldest(done)
	}
	g.compact()
}

// maxRecordsPerEvent bounds one event: a PATH per file plus EXECVE chunks
// of a 2 MiB argv stay well below it.
const maxRecordsPerEvent = 512

// Flush ends every open event older than MaxAge at now.
func (g *Grouper) Flush(now time.Time, done func(Event)) {
	for len(g.order) > 0 {
		p, ok := g.open[g.order[0]]
		if !ok {
			g.order = g.order[1:] // closed by its EOE
			continue
		}
		if now.Sub(p.first) < g.MaxAge {
			break
		}
		g.flushOldest(done)
	}
	g.compact()
}

// Len is the number of open events.
func (g *Grouper) Len() int { return len(g.open) }

func (g *Grouper) flushOldest(done func(Event)) {
	for len(g.order) > 0 {
		s := g.order[0]
		g.order = g.order[1:]
		if p, ok := g.open[s]; ok {
			delete(g.open, s)
			p.ev.Incomplete = true
			done(p.ev)
			return
		}
	}
}

// compact drops closed serials from the order slice so that it stays
// proportional to the open set.
func (g *Grouper) compact() {
	if len(g.order) <= 2*len(g.open)+64 {
		return
	}
	kept := g.order[:0]
	for _, s := range g.order {
		if _, ok := g.open[s]; ok {
			kept = append(kept, s)
		}
	}
	g.order = kept
}

func isStandalone(t uint16) bool {
	return (t >= typeFirstUser && t <= typeLastUser) || (t >= typeFirstUser2 && t <= typeLastUser2)
}
