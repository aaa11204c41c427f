// Package spool keeps encoded events on disk, in the state directory,
// between intake and edgeHub's acknowledgement, so nothing that fits the
// budget is lost to a restart, a crash or an outage.
//
// Events are spooled (not packed messages): an event is durable once the
// intake burst it arrived in is committed. A message is recorded as held
// (its $.mid and the keys of its events) before its first send attempt
// and its events are deleted only after the sink acknowledged it, in one
// transaction; a message interrupted by a crash is sent again, first, with
// the same $.mid and the same events.
package spool

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// FileName is the spool's file in the state directory.
const FileName = "spool.db"

// recordOverhead approximates bbolt's cost per record beyond name and
// data (key, record header, leaf element, page slack), so the budget
// bounds the file and not just the payloads.
const recordOverhead = 64

// Pending writes are committed at the end of each intake burst, or
// earlier once this much is waiting: bounded memory, fewer fsyncs.
const (
	maxPendingRecords = 512
	maxPendingBytes   = 1 << 20
)

var (
	classBuckets = [3][]byte{[]byte("operational"), []byte("high"), []byte("low")}
	heldBucket   = []byte("held")
)

// cost charges a record twice its size: bbolt's file holds about two
// bytes per byte of records once FIFO deletion leaves leaves half full
// and copy-on-write leaves freed pages (measured: 2.0-2.1x), and the
// budget is meant to bound the file, not the records.
func cost(nameLen, dataLen int) int64 { return 2*int64(nameLen+dataLen) + recordOverhead }

// counts is the spool's bookkeeping; a transaction works on a copy that
// replaces the original only once the commit succeeded.
type counts struct {
	used   int64                   // every record on disk or pending, in flight included
	n      [3]int                  // records queued, not taken
	bytes  [3]int64                // data bytes queued, not taken
	next   [3]uint64               // next sequence number per class
	cursor [3]uint64               // records up to this one were taken in this run
	held   map[string]heldLocation // in-flight messages by $.mid
	// recovered are records of messages held at open: in flight, though
	// not necessarily a prefix of their class.
	recovered map[ref]struct{}
}

type heldLocation struct{ key uint64 }

// Spool is a bbolt file of records per class. It is safe for concurrent
// use; every method that writes returns the disk error, if any, and then
// leaves its in-memory state as it was before the call.
type Spool struct {
	db    *bbolt.DB
	file  *os.File // bbolt's, to let go of a damaged file without its locks
	dir   string
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	c     counts
	bud   int64
	pend  []record
	pendB int
	// recovered are the held messages found at open, until Held is asked.
	recovered []queue.Held
	// dropped collects drops found outside Add/Commit (corrupt, expired)
	// for the owner to report.
	dropped []queue.Dropped
	// damaged is set once bbolt panicked on a damaged page; the spool
	// refuses further work and its owner replaces the file.
	damaged error
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("spool closed")

// Add queues a record in memory; it reaches the disk with the next Commit
// (at once when the pending batch is full). An event larger than the
// whole budget is refused.
func (s *Spool) Add(c queue.Class, it queue.Item) ([]queue.Dropped, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(it.Name) == 0 || len(it.Name) > maxNameLen {
		return []queue.Dropped{{Class: c, Name: it.Name, Reason: queue.ReasonTooLarge}}, nil
	}
	if cost(len(it.Name), len(it.Data)) > s.bud {
		return []queue.Dropped{{Class: c, Name: it.Name, Reason: queue.ReasonTooLarge}}, nil
	}
	enq := it.Enqueued
	if enq.IsZero() {
		enq = s.now()
	}
	s.pend = append(s.pend, record{class: c, enqueued: enq, name: it.Name, data: it.Data})
	s.pendB += len(it.Data)
	if len(s.pend) < maxPendingRecords && s.pendB < maxPendingBytes {
		return nil, nil
	}
	return s.commitLocked()
}

// Commit writes the pending records in one transaction, evicting what
// the budget no longer holds: Low oldest first, then High, then
// operational. On error nothing was written and the pending records are
// still pending: TakePending hands them to a fallback.
func (s *Spool) Commit() ([]queue.Dropped, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked()
}

// TakePending removes and returns the records not yet written, so a
// caller whose Commit failed can keep them elsewhere.
func (s *Spool) TakePending() []queue.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]queue.Item, len(s.pend))
	for i, r := range s.pend {
		out[i] = queue.Item{Name: r.name, Data: r.data, Enqueued: r.enqueued, Class: r.class}
	}
	s.pend, s.pendB = nil, 0
	return out
}

func (s *Spool) commitLocked() ([]queue.Dropped, error) {
	if s.db == nil {
		return nil, ErrClosed
	}
	if len(s.pend) == 0 && s.c.used <= s.bud {
		return nil, nil
	}
	c := s.c.clone()
	var dropped []queue.Dropped
	err := s.update(func(tx *bbolt.Tx) error {
		for _, r := range s.pend {
			r.seq = c.next[r.class]
			c.next[r.class]++
			if err := tx.Bucket(classBuckets[r.class]).Put(seqKey(r.seq), encodeRecord(r)); err != nil {
				return fmt.Errorf("write record: %w", err)
			}
			c.used += cost(len(r.name), len(r.data))
			c.n[r.class]++
			c.bytes[r.class] += int64(len(r.data))
		}
		for cl, name := range classBuckets {
			// Persisted so a number is never reused while a held
			// message may still refer to it.
			if err := tx.Bucket(name).SetSequence(c.next[cl]); err != nil {
				return fmt.Errorf("write sequence: %w", err)
			}
		}
		var err error
		dropped, err = c.evict(tx, s.bud)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit spool: %w", err)
	}
	s.c = c
	s.pend, s.pendB = s.pend[:0], 0
	return dropped, nil
}

// clone copies the numbers; the maps are only changed by Hold, Release
// and load, never inside a commit.
func (c counts) clone() counts { return c }

// evict deletes queued (never in-flight) records until the budget holds.
func (c *counts) evict(tx *bbolt.Tx, budget int64) ([]queue.Dropped, error) {
	var dropped []queue.Dropped
	for _, cl := range []queue.Class{queue.Low, queue.High, queue.Operational} {
		b := tx.Bucket(classBuckets[cl])
		cur := b.Cursor()
		from := c.cursor[cl] + 1
		for c.used > budget && c.n[cl] > 0 {
			k, v := cur.Seek(seqKey(from))
			for k != nil && c.isRecovered(cl, seqOf(k)) {
				k, v = cur.Next()
			}
			if k == nil {
				c.n[cl], c.bytes[cl] = 0, 0 // counts drifted; the disk is the truth
				break
			}
			from = seqOf(k) + 1
			reason, name, size := queue.ReasonEvicted, "unknown", len(v)
			if r, err := decodeRecord(k, v); err == nil {
				name, size = r.name, len(r.data)
				c.used -= cost(len(r.name), len(r.data))
			} else {
				reason = queue.ReasonCorrupt
				c.used -= cost(0, len(v))
			}
			if err := b.Delete(k); err != nil {
				return nil, fmt.Errorf("evict record: %w", err)
			}
			c.n[cl]--
			c.bytes[cl] -= int64(size)
			dropped = append(dropped, queue.Dropped{Class: cl, Name: name, Reason: reason})
		}
		if c.used <= budget {
			break
		}
	}
	return dropped, nil
}

func (c *counts) isRecovered(cl queue.Class, seq uint64) bool {
	_, ok := c.recovered[ref{cl, seq}]
	return ok
}

// SetBudget changes the budget and evicts at once if it shrank.
func (s *Spool) SetBudget(budget int64) ([]queue.Dropped, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bud = budget
	return s.commitLocked()
}

// Len is the number of records queued (pending included) in class c.
func (s *Spool) Len(c queue.Class) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.c.n[c]
	for _, r := range s.pend {
		if r.class == c {
			n++
		}
	}
	return n
}

// Bytes is the data queued (pending included) in class c.
func (s *Spool) Bytes(c queue.Class) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.c.bytes[c]
	for _, r := range s.pend {
		if r.class == c {
			b += int64(len(r.data))
		}
	}
	return b
}

// Used is the budget in use, in-flight and pending records included.
func (s *Spool) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.c.used
	for _, r := range s.pend {
		u += cost(len(r.name), len(r.data))
	}
	return u
}

// nextSeqs are the sequence numbers the next records would get.
func (s *Spool) nextSeqs() [3]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.next
}

// Close closes the file; pending records not committed are lost, so
// callers Commit first.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	var err error
	if s.damaged != nil {
		// bbolt may have panicked holding its own locks, and Close would
		// wait for them forever: drop the file (the mapping stays).
		unlock(s.file)
		err = s.file.Close()
	} else {
		err = s.protect(s.db.Close)
	}
	s.db = nil
	if err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

// Drops returns (and forgets) records given up on outside Add and
// Commit: corrupt ones and expired ones.
func (s *Spool) Drops() []queue.Dropped {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = nil
	return d
}
