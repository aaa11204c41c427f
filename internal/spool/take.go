package spool

import (
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// Take commits what is pending, then returns records from the head of
// class c while fit accepts them, never skipping ahead. Taken records stay
// on disk (and in the budget) until Release. Corrupt records met on the
// way are quarantined and expired ones deleted; both are reported by
// Drops.
func (s *Spool) Take(c queue.Class, fit func(queue.Item) bool) ([]queue.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dropped, err := s.commitLocked()
	s.dropped = append(s.dropped, dropped...)
	if err != nil {
		return nil, err
	}
	var out []queue.Item
	var bad []badRecord
	var expired []record
	cursor := s.c.cursor[c]
	err = s.view(func(tx *bbolt.Tx) error {
		return walk(tx.Bucket(classBuckets[c]), seqKey(cursor+1), func(k, v []byte) (bool, error) {
			if s.c.isRecovered(c, seqOf(k)) {
				cursor = seqOf(k)
				return true, nil // being resent as part of a held message
			}
			r, err := decodeRecord(k, v)
			if err != nil || r.class != c {
				if len(bad) >= maxPendingRecords {
					return false, nil // the rest at the next Take
				}
				bad = append(bad, badRecord{c, clone(k), clone(v), err})
				cursor = max(cursor, seqOf(k))
				return true, nil
			}
			if s.expired(r) {
				if len(expired) >= maxPendingRecords {
					return false, nil
				}
				// Only data's length is used once the transaction ends.
				expired = append(expired, record{class: c, seq: r.seq, name: r.name, data: r.data})
				cursor = r.seq
				return true, nil
			}
			it := queue.Item{Name: r.name, Data: r.data, Enqueued: r.enqueued, Class: c, Seq: r.seq}
			if !fit(it) {
				return false, nil
			}
			it.Data = clone(r.data) // bbolt memory ends with the transaction
			out = append(out, it)
			cursor = r.seq
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	if err := s.deleteLocked(c, bad, expired); err != nil {
		return nil, err
	}
	s.c.cursor[c] = cursor
	for _, it := range out {
		s.c.n[c]--
		s.c.bytes[c] -= int64(len(it.Data))
	}
	return out, nil
}

// DropHeadIf deletes the head record of class c when drop accepts it.
func (s *Spool) DropHeadIf(c queue.Class, drop func(queue.Item) bool) (queue.Item, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dropped, err := s.commitLocked()
	s.dropped = append(s.dropped, dropped...)
	if err != nil {
		return queue.Item{}, false, err
	}
	var it queue.Item
	found := false
	err = s.view(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(classBuckets[c]).Cursor()
		k, v := cur.Seek(seqKey(s.c.cursor[c] + 1))
		for k != nil && s.c.isRecovered(c, seqOf(k)) {
			k, v = cur.Next()
		}
		if k == nil {
			return nil
		}
		r, err := decodeRecord(k, v)
		if err != nil {
			return nil // Take quarantines it
		}
		cand := queue.Item{Name: r.name, Data: r.data, Enqueued: r.enqueued, Class: c, Seq: r.seq}
		if drop(cand) {
			cand.Data = clone(r.data)
			it, found = cand, true
		}
		return nil
	})
	if err != nil || !found {
		return queue.Item{}, false, err
	}
	err = s.update(func(tx *bbolt.Tx) error { return tx.Bucket(classBuckets[c]).Delete(seqKey(it.Seq)) })
	if err != nil {
		return queue.Item{}, false, fmt.Errorf("drop record: %w", err)
	}
	s.c.n[c]--
	s.c.bytes[c] -= int64(len(it.Data))
	s.c.used -= cost(len(it.Name), len(it.Data))
	return it, true, nil
}

func (s *Spool) expired(r record) bool {
	return s.ttl > 0 && s.now().Sub(r.enqueued) > s.ttl
}

type badRecord struct {
	class    queue.Class
	key, val []byte
	err      error
}

// deleteLocked removes corrupt records (after copying them to the
// quarantine file) and expired ones, and counts both.
func (s *Spool) deleteLocked(c queue.Class, bad []badRecord, expired []record) error {
	if len(bad) == 0 && len(expired) == 0 {
		return nil
	}
	quarantineRecords(s.dir, s.now(), bad)
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(classBuckets[c])
		for _, r := range bad {
			if err := b.Delete(r.key); err != nil {
				return err
			}
		}
		for _, r := range expired {
			if err := b.Delete(seqKey(r.seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete corrupt or expired records: %w", err)
	}
	for _, r := range bad {
		s.c.n[c]--
		s.c.bytes[c] -= int64(max(len(r.val)-recordFixed, 0))
		s.c.used -= cost(0, len(r.val))
		s.dropped = append(s.dropped, queue.Dropped{Class: c, Name: "unknown", Reason: queue.ReasonCorrupt})
	}
	for _, r := range expired {
		s.c.n[c]--
		s.c.bytes[c] -= int64(len(r.data))
		s.c.used -= cost(len(r.name), len(r.data))
		s.dropped = append(s.dropped, queue.Dropped{Class: c, Name: r.name, Reason: queue.ReasonExpired})
	}
	return nil
}

// Held returns, once, the messages that were in flight when the spool was
// last closed (or the process died), oldest first, with their records.
func (s *Spool) Held() []queue.Held {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.recovered
	s.recovered = nil
	return h
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func seqOf(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 |
		uint64(k[4])<<24 | uint64(k[5])<<16 | uint64(k[6])<<8 | uint64(k[7])
}
