package spool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// Quarantined files are kept for inspection, but only the newest few, so
// a volume that keeps corrupting cannot fill itself with them.
const (
	keepQuarantined    = 3
	maxQuarantineBytes = 1 << 20
	stampLayout        = "20060102T150405.000Z"
)

// quarantineFile renames path aside with a UTC timestamp and prunes
// older quarantined files.
func quarantineFile(path string, now time.Time) (string, error) {
	aside := path + ".corrupt-" + now.UTC().Format(stampLayout)
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", path, err)
	}
	prune(filepath.Dir(path), filepath.Base(path)+".corrupt-")
	return aside, nil
}

func prune(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // best effort: pruning is housekeeping
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names) // the timestamp sorts chronologically
	for len(names) > keepQuarantined {
		_ = os.Remove(filepath.Join(dir, names[0]))
		names = names[1:]
	}
}

// quarantineRecords appends bad records (length-prefixed key and value)
// to a file beside the spool, best effort and bounded: the records are
// lost either way, the copy is for whoever investigates.
func quarantineRecords(dir string, now time.Time, bad []badRecord) {
	if len(bad) == 0 {
		return
	}
	path := filepath.Join(dir, FileName+".records-"+now.UTC().Format("20060102"))
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxQuarantineBytes {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	var b []byte
	for _, r := range bad {
		b = append(b, byte(r.class))
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.key)))
		b = append(b, r.key...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(r.val)))
		b = append(b, r.val...)
	}
	_, _ = f.Write(b)
	prune(dir, FileName+".records-")
}

// salvage copies every record that still passes its checksum out of a
// quarantined file, within the budget, oldest first per class. bbolt may
// panic on a damaged page; the panic ends the salvage of that class only.
func (s *Spool) salvage(aside string) (total int, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open quarantined spool: %v", r)
		}
	}()
	old, err := bbolt.Open(aside, 0o400, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("open quarantined spool: %w", err)
	}
	defer old.Close()
	var firstErr error
	for cl := range classBuckets {
		var recs []record
		err := readClass(old, queue.Class(cl), func(r record) bool {
			recs = append(recs, r)
			if len(recs) < maxPendingRecords {
				return true
			}
			n, err := s.restore(recs)
			total += n
			recs = recs[:0]
			return err == nil
		})
		n, rerr := s.restore(recs)
		total += n
		if firstErr == nil {
			firstErr = err
		}
		if firstErr == nil {
			firstErr = rerr
		}
	}
	return total, firstErr
}

func readClass(db *bbolt.DB, cl queue.Class, each func(record) bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read quarantined spool: %v", r)
		}
	}()
	return db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(classBuckets[cl])
		if b == nil {
			return nil
		}
		return walk(b, nil, func(k, v []byte) (bool, error) {
			r, err := decodeRecord(k, v)
			if err != nil || r.class != cl {
				return true, nil
			}
			r.data = clone(r.data)
			return each(r), nil
		})
	})
}

// restore writes salvaged records as new records of this spool.
func (s *Spool) restore(recs []record) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if s.c.used+cost(len(r.name), len(r.data)) > s.bud {
			break
		}
		s.pend = append(s.pend, r)
		s.c.used += cost(len(r.name), len(r.data)) // provisional, undone below
	}
	n := len(s.pend)
	for _, r := range s.pend {
		s.c.used -= cost(len(r.name), len(r.data))
	}
	dropped, err := s.commitLocked()
	s.dropped = append(s.dropped, dropped...)
	if err != nil {
		s.pend, s.pendB = nil, 0
		return 0, err
	}
	return n, nil
}

// walk visits a bucket's records in key order from from (nil: the
// first). Keys that fail to increase mean a damaged page linking back
// into the tree, which bbolt would follow forever: that is damage.
func walk(b *bbolt.Bucket, from []byte, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if from == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(from)
	}
	var prev []byte
	for ; k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(k, prev) <= 0 {
			return fmt.Errorf("%w: keys out of order in bucket", errDamaged)
		}
		prev = k
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
