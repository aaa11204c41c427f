// Package queue holds encoded events waiting to be sent, in three classes
// (operational, High, Low) that share one byte budget.
package queue

import (
	"sync"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Class is the queue an event waits in.
type Class uint8

// Classes, in eviction order from last evicted to first: Low events are
// dropped first, then High, then operational summaries.
const (
	Operational Class = iota
	High
	Low
	numClasses
)

func (c Class) String() string {
	switch c {
	case Operational:
		return "Operational"
	case High:
		return "High"
	case Low:
		return "Low"
	}
	return "unknown"
}

// Item is one encoded event.
type Item struct {
	Name     string
	Data     []byte
	Enqueued time.Time
	// Class is set by Take, so a taken item knows its queue.
	Class Class
	// Seq is the durable store's record number; zero for an item held
	// only in memory.
	Seq uint64
}

// Held is a message handed to the sink before the last stop and never
// acknowledged: it is sent again, first, with the same id and events.
type Held struct {
	ID       string
	Priority event.Priority
	Items    []Item
}

// itemOverhead approximates the bookkeeping cost of one item, so a flood
// of tiny events cannot hide behind their payload size.
const itemOverhead = 64

func (it Item) cost() int64 { return int64(len(it.Data)) + itemOverhead }

// Drop reasons, a closed set for metric labels.
const (
	ReasonEvicted  = "evicted"   // pushed out by newer or more important events
	ReasonTooLarge = "too_large" // larger than the whole budget
	ReasonCorrupt  = "corrupt"   // a spooled record failed its checksum
	ReasonExpired  = "expired"   // spooled longer than the configured TTL
)

// Dropped describes one event the queue gave up on.
type Dropped struct {
	Class  Class
	Name   string
	Reason string
}

// Queues is safe for concurrent use.
type Queues struct {
	mu     sync.Mutex
	budget int64
	used   int64 // bytes queued plus bytes taken but not yet committed
	q      [numClasses]fifo
	ready  chan struct{}
}

// New returns queues sharing budget bytes.
func New(budget int64) *Queues {
	return &Queues{budget: budget, ready: make(chan struct{}, 1)}
}

// Add queues an item and returns what had to be dropped to make room
// (possibly the item itself).
func (q *Queues) Add(c Class, it Item) []Dropped {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it.cost() > q.budget {
		return []Dropped{{c, it.Name, ReasonTooLarge}}
	}
	q.q[c].push(it)
	q.used += it.cost()
	dropped := q.evictLocked()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// evictLocked drops the oldest Low, then the oldest High, then the oldest
// operational events until the budget holds.
func (q *Queues) evictLocked() []Dropped {
	var dropped []Dropped
	for q.used > q.budget {
		c := Low
		for c > Operational && q.q[c].len() == 0 {
			c--
		}
		it, ok := q.q[c].pop()
		if !ok {
			break // only in-flight bytes remain; they are released on commit
		}
		q.used -= it.cost()
		dropped = append(dropped, Dropped{c, it.Name, ReasonEvicted})
	}
	return dropped
}

// SetBudget changes the budget, evicting at once if it shrank.
func (q *Queues) SetBudget(budget int64) []Dropped {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.budget = budget
	return q.evictLocked()
}

// Budget is the current budget in bytes.
func (q *Queues) Budget() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.budget
}

// Ready is signalled (without blocking) whenever an item is added.
func (q *Queues) Ready() <-chan struct{} { return q.ready }

// Bytes is the encoded size queued in class c.
func (q *Queues) Bytes(c Class) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.q[c].bytes
}

// Len is the number of items queued in class c.
func (q *Queues) Len(c Class) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.q[c].len()
}

// Used is the budget in use, in-flight items included.
func (q *Queues) Used() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.used
}

// Take removes items from the head of class c while fit accepts them: it
// never skips ahead, so order within a class is kept. The items stay
// counted against the budget until Release.
func (q *Queues) Take(c Class, fit func(Item) bool) []Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Item
	for {
		it, ok := q.q[c].peek()
		if !ok || !fit(it) {
			return out
		}
		q.q[c].pop()
		it.Class = c
		out = append(out, it)
	}
}

// Release returns the budget of items taken and delivered.
func (q *Queues) Release(items []Item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		q.used -= it.cost()
	}
}

// DropHeadIf removes the head of class c when drop accepts it; the packer
// uses it to discard an item that can no longer fit any message (after
// maxMessageSizeInBytes shrank) instead of letting it block its queue.
func (q *Queues) DropHeadIf(c Class, drop func(Item) bool) (Item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.q[c].peek()
	if !ok || !drop(it) {
		return Item{}, false
	}
	q.q[c].pop()
	q.used -= it.cost()
	return it, true
}
