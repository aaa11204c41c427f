package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// Options configure a spool.
type Options struct {
	// Dir is the state directory; it must exist.
	Dir string
	// Budget bounds the records on disk, in bytes (maxLocalCacheSizeInBytes).
	Budget int64
	// TTL drops records older than this when they would be sent; zero
	// keeps them until evicted.
	TTL time.Duration
	// LockTimeout bounds the wait for another process holding the file.
	LockTimeout time.Duration
	Now         func() time.Time
}

// Report says what Open found and did.
type Report struct {
	// Quarantined are files moved aside because they could not be read.
	Quarantined []string
	// Reason is why the file was quarantined.
	Reason error
	// Corrupt counts records that failed their checksum (quarantined).
	Corrupt int
	// Salvaged counts records copied out of a quarantined file.
	Salvaged int
	// Records and Held count what the spool holds after opening.
	Records, Held int
}

// errDamaged marks a file bbolt cannot use; it is moved aside.
var errDamaged = errors.New("spool file damaged")

// Open opens (or creates) the spool in opt.Dir. A damaged file is moved
// aside with a timestamp, the records that can still be read are copied
// into a fresh file, and Open succeeds; an error means the directory
// cannot hold a spool at all (read-only, full, locked by another
// process), and the caller keeps events in memory.
func Open(opt Options) (*Spool, Report, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = 2 * time.Second
	}
	path := filepath.Join(opt.Dir, FileName)
	s, rep, err := openFile(path, opt)
	if err == nil || !errors.Is(err, errDamaged) {
		return s, rep, err
	}
	return replace(path, opt, err, [3]uint64{})
}

// replace moves a damaged file aside, opens a fresh one whose sequence
// numbers start at next (so records still in flight from the old file
// can never be confused with new ones) and copies into it the records
// that can still be read.
func replace(path string, opt Options, reason error, next [3]uint64) (*Spool, Report, error) {
	aside, qerr := quarantineFile(path, opt.Now())
	if qerr != nil {
		return nil, Report{Reason: reason}, fmt.Errorf("%w; moving it aside: %w", reason, qerr)
	}
	rep := Report{Quarantined: []string{aside}, Reason: reason}
	s, fresh, err := openFile(path, opt)
	if err != nil {
		return nil, rep, err
	}
	for c := range next {
		s.c.next[c] = max(s.c.next[c], next[c])
	}
	rep.Records, rep.Held = fresh.Records, fresh.Held
	n, serr := s.salvage(aside)
	rep.Salvaged = n
	rep.Records += n
	if serr != nil && n == 0 {
		rep.Reason = fmt.Errorf("%w (nothing salvaged: %w)", rep.Reason, serr)
	}
	return s, rep, nil
}

// openFile opens path and checks every record. Faults while reading a
// truncated mapping become panics (SetPanicOnFault) and are reported as
// damage instead of killing the module.
func openFile(path string, opt Options) (s *Spool, rep Report, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bbolt.DB
	var file *os.File // closed by hand if bbolt panics inside Open, to drop its lock
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errDamaged, r)
			if db != nil {
				_ = db.Close()
			} else if file != nil {
				unlock(file) // its mapping keeps the lock alive past Close
				_ = file.Close()
			}
		}
	}()
	if fi, serr := os.Stat(path); serr == nil && fi.Size() > 0 && fi.Size()%int64(os.Getpagesize()) != 0 {
		return nil, rep, fmt.Errorf("%w: size %d is not a whole number of pages (truncated)", errDamaged, fi.Size())
	}
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opt.LockTimeout, FreelistType: bbolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	if err != nil {
		return nil, rep, classifyOpenError(path, err)
	}
	s = &Spool{db: db, file: file, dir: filepath.Dir(path), ttl: opt.TTL, now: opt.Now, bud: opt.Budget}
	s.c.held = map[string]heldLocation{}
	s.c.recovered = map[ref]struct{}{}
	if rep, err = s.load(path); err != nil {
		_ = s.Close()
		return nil, rep, classifyOpenError(path, err)
	}
	return s, rep, nil
}

func classifyOpenError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open spool %s: locked by another process: %w", path, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.ENOSPC),
		errors.Is(err, syscall.EDQUOT), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open spool %s: %w", path, err)
	}
	return fmt.Errorf("%w: open %s: %w", errDamaged, path, err)
}

// load creates the buckets, checks the file's structure and every
// record, quarantines bad records and rebuilds the counts.
func (s *Spool) load(path string) (Report, error) {
	var rep Report
	err := s.update(func(tx *bbolt.Tx) error {
		for _, name := range append(classBuckets[:], heldBucket) {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return rep, classifyOpenError(path, err)
	}
	var bad [3][]badRecord
	var badHeld [][]byte
	err = s.view(func(tx *bbolt.Tx) error {
		if fi, err := os.Stat(path); err == nil && fi.Size() < tx.Size() {
			return fmt.Errorf("%w: file is %d bytes, its pages need %d (truncated)", errDamaged, fi.Size(), tx.Size())
		}
		for cl := range classBuckets {
			b := tx.Bucket(classBuckets[cl])
			s.c.next[cl] = max(b.Sequence(), 1)
			err := walk(b, nil, func(k, v []byte) (bool, error) {
				r, err := decodeRecord(k, v)
				if err != nil || int(r.class) != cl {
					bad[cl] = append(bad[cl], badRecord{queue.Class(cl), clone(k), clone(v), err})
					return true, nil
				}
				// Only checked keys count: a damaged one could be near 2^64.
				s.c.next[cl] = max(s.c.next[cl], r.seq+1)
				s.c.n[cl]++
				s.c.bytes[cl] += int64(len(r.data))
				s.c.used += cost(len(r.name), len(r.data))
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		err := walk(tx.Bucket(heldBucket), nil, func(k, v []byte) (bool, error) {
			h, err := decodeHeld(k, v)
			if err != nil {
				badHeld = append(badHeld, clone(k))
				return true, nil
			}
			s.recoverHeld(tx, seqOf(k), h)
			return true, nil
		})
		// No tx.Check: it walks the pages in a goroutine of its own,
		// where a fault on a damaged page could not be recovered and
		// would kill the module. The walk above reads every leaf here,
		// with faults turned into panics, and every record has its own
		// checksum.
		return err
	})
	if err != nil {
		return rep, err
	}
	for cl := range bad {
		rep.Corrupt += len(bad[cl])
		if err := s.deleteLocked(queue.Class(cl), bad[cl], nil); err != nil {
			return rep, err
		}
		// load counted nothing for them; deleteLocked subtracted.
		for _, r := range bad[cl] {
			s.c.n[cl]++
			s.c.bytes[cl] += int64(max(len(r.val)-recordFixed, 0))
			s.c.used += cost(0, len(r.val))
		}
	}
	if len(badHeld) > 0 {
		rep.Corrupt += len(badHeld)
		err := s.update(func(tx *bbolt.Tx) error {
			for _, k := range badHeld {
				if err := tx.Bucket(heldBucket).Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("delete corrupt held record: %w", err)
		}
	}
	for cl := range s.c.n {
		rep.Records += s.c.n[cl]
	}
	rep.Held = len(s.recovered)
	return rep, nil
}

// recoverHeld loads a held message's records (those still readable) and
// moves them from queued to in flight.
func (s *Spool) recoverHeld(tx *bbolt.Tx, key uint64, h held) {
	m := queue.Held{ID: h.mid, Priority: h.priority}
	for _, ref := range h.items {
		s.c.next[ref.class] = max(s.c.next[ref.class], ref.seq+1)
		k := seqKey(ref.seq)
		r, err := decodeRecord(k, tx.Bucket(classBuckets[ref.class]).Get(k))
		if err != nil || r.class != ref.class {
			continue // gone or corrupt: the message is resent without it
		}
		s.c.recovered[ref] = struct{}{}
		s.c.n[ref.class]--
		s.c.bytes[ref.class] -= int64(len(r.data))
		m.Items = append(m.Items, queue.Item{Name: r.name, Data: clone(r.data), Enqueued: r.enqueued, Class: ref.class, Seq: ref.seq})
	}
	s.c.held[h.mid] = heldLocation{key}
	s.recovered = append(s.recovered, m)
}
