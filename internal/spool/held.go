package spool

import (
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// Hold records that mid carries items (all from this spool) before its
// first send attempt.
func (s *Spool) Hold(mid string, prio event.Priority, items []queue.Item) error {
	if len(mid) == 0 || len(mid) > maxMIDLen {
		return fmt.Errorf("hold message: id of %d bytes", len(mid))
	}
	h := held{mid: mid, priority: prio, items: make([]ref, len(items))}
	for i, it := range items {
		h.items[i] = ref{it.Class, it.Seq}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	var key uint64
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(heldBucket)
		var err error
		if key, err = b.NextSequence(); err != nil {
			return fmt.Errorf("held sequence: %w", err)
		}
		k := seqKey(key)
		return b.Put(k, encodeHeld(k, h))
	})
	if err != nil {
		return fmt.Errorf("hold message %s: %w", mid, err)
	}
	s.c.held[mid] = heldLocation{key}
	return nil
}

// Release deletes an acknowledged (or rejected) message's records and its
// held entry in one transaction.
func (s *Spool) Release(mid string, items []queue.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	loc, isHeld := s.c.held[mid]
	var freed int64
	err := s.update(func(tx *bbolt.Tx) error {
		for _, it := range items {
			b := tx.Bucket(classBuckets[it.Class])
			if b.Get(seqKey(it.Seq)) == nil {
				continue // already gone: a record quarantined meanwhile
			}
			if err := b.Delete(seqKey(it.Seq)); err != nil {
				return fmt.Errorf("delete record: %w", err)
			}
			freed += cost(len(it.Name), len(it.Data))
		}
		if isHeld {
			return tx.Bucket(heldBucket).Delete(seqKey(loc.key))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release message %s: %w", mid, err)
	}
	s.c.used -= freed
	delete(s.c.held, mid)
	for _, it := range items {
		delete(s.c.recovered, ref{it.Class, it.Seq})
	}
	return nil
}
