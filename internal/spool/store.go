package spool

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// DefaultMemoryBytes is the in-memory fallback's budget: what the retired
// agents kept at most.
const DefaultMemoryBytes = 2560000

// StoreOptions configure a Store.
type StoreOptions struct {
	Options
	// MemoryBytes bounds the in-memory fallback (never above Budget).
	MemoryBytes int64
	// RetryEvery is how often a spool that failed is tried again.
	RetryEvery time.Duration
	Logger     *logrus.Entry
	Registerer prometheus.Registerer
	// OnDrop receives drops found outside Add and SetBudget (corrupt or
	// expired records).
	OnDrop func(...queue.Dropped)
}

// Store is the pipeline's event store: the disk spool when it works, the
// in-memory queues when it does not (read-only or full volume, damaged
// file that cannot be replaced), with a warning. Within a class, events
// in memory are always newer than those on disk, so order holds across
// a fallback and a recovery.
type Store struct {
	opt   StoreOptions
	mu    sync.Mutex // routing between disk and memory
	disk  *Spool
	mem   *queue.Queues
	bad   error // why the disk is not used; nil when healthy
	retry time.Time
	ready chan struct{}
	m     *storeMetrics
}

// NewStore opens the spool in opt.Dir; it never fails: without a usable
// spool it keeps events in memory and says so.
func NewStore(opt StoreOptions) *Store {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MemoryBytes <= 0 {
		opt.MemoryBytes = DefaultMemoryBytes
	}
	if opt.RetryEvery <= 0 {
		opt.RetryEvery = 30 * time.Second
	}
	if opt.OnDrop == nil {
		opt.OnDrop = func(...queue.Dropped) {}
	}
	st := &Store{opt: opt, mem: queue.New(min(opt.Budget, opt.MemoryBytes)), ready: make(chan struct{}, 1)}
	st.m = newStoreMetrics(opt.Registerer, st)
	st.mu.Lock()
	st.openLocked()
	st.mu.Unlock()
	return st
}

func (st *Store) openLocked() {
	s, rep, err := Open(st.opt.Options)
	st.report(rep)
	if err != nil {
		st.degrade(err)
		return
	}
	st.disk, st.bad = s, nil
	st.m.degraded.Set(0)
	st.opt.OnDrop(s.Drops()...)
	if rep.Records > 0 || rep.Held > 0 {
		st.opt.Logger.WithField("spool", st.opt.Dir).WithField("events", rep.Records).WithField("messages_in_flight", rep.Held).
			Info("resuming from the spool")
	}
}

// degrade switches new events to memory and schedules a retry.
func (st *Store) degrade(err error) {
	if st.bad == nil {
		st.opt.Logger.WithError(err).WithField("memory_budget_bytes", st.mem.Budget()).
			Warn("cannot write the spool; keeping events in memory only (they will not survive a restart) until it works again")
	}
	st.bad = err
	st.retry = st.opt.Now().Add(st.opt.RetryEvery)
	st.m.degraded.Set(1)
	st.m.writeErrors.Inc()
}

// useDisk says whether class c's next event goes to disk: only when the
// spool works (or is due for a retry) and memory holds none of class c,
// which would be older.
func (st *Store) useDisk(c queue.Class) bool {
	if st.mem.Len(c) > 0 {
		return false
	}
	if st.bad == nil {
		return st.disk != nil
	}
	if st.opt.Now().Before(st.retry) {
		return false
	}
	if st.disk == nil {
		st.openLocked()
		return st.disk != nil
	}
	return true
}

// Add queues an encoded event.
func (st *Store) Add(c queue.Class, it queue.Item) []queue.Dropped {
	st.mu.Lock()
	defer st.mu.Unlock()
	defer st.signal()
	if !st.useDisk(c) {
		return st.mem.Add(c, it)
	}
	probing := st.bad != nil
	dropped, err := st.disk.Add(c, it)
	if err == nil && probing {
		var more []queue.Dropped
		more, err = st.disk.Commit()
		dropped = append(dropped, more...)
	}
	if err != nil {
		return append(dropped, st.fallBack(err)...)
	}
	if probing {
		st.recovered()
	}
	return dropped
}

func (st *Store) recovered() {
	st.opt.Logger.WithField("spool", st.opt.Dir).Warn("spool writable again; new events are spooled on disk")
	st.bad = nil
	st.m.degraded.Set(0)
}

// fallBack moves what the spool could not write into memory; a damaged
// file is replaced instead.
func (st *Store) fallBack(err error) []queue.Dropped {
	if errors.Is(err, errDamaged) && st.disk != nil {
		return st.repairLocked(err)
	}
	st.degrade(err)
	var dropped []queue.Dropped
	for _, it := range st.disk.TakePending() {
		dropped = append(dropped, st.mem.Add(it.Class, queue.Item{Name: it.Name, Data: it.Data, Enqueued: it.Enqueued})...)
	}
	return dropped
}

// Commit makes the events added since the last call durable; the
// pipeline calls it after each intake burst.
func (st *Store) Commit() []queue.Dropped {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.disk == nil {
		return nil
	}
	dropped, err := st.disk.Commit()
	if err != nil {
		return append(dropped, st.fallBack(err)...)
	}
	return dropped
}

// Take returns events from the head of class c while fit accepts them:
// those on disk first, then (once the disk has none left) those in memory.
func (st *Store) Take(c queue.Class, fit func(queue.Item) bool) []queue.Item {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []queue.Item
	if st.disk != nil {
		if dropped, err := st.disk.Commit(); err != nil {
			st.opt.OnDrop(append(dropped, st.fallBack(err)...)...)
		} else {
			st.opt.OnDrop(dropped...)
		}
	}
	if st.disk != nil {
		items, err := st.disk.Take(c, fit)
		if err != nil {
			st.fallBackRead(err)
			return nil // the next attempt reads the repaired spool
		}
		st.opt.OnDrop(st.disk.Drops()...)
		out = items
		if st.disk.Len(c) > 0 {
			return out
		}
	}
	return append(out, st.mem.Take(c, fit)...)
}

func (st *Store) fallBackRead(err error) {
	st.m.readErrors.Inc()
	if errors.Is(err, errDamaged) && st.disk != nil {
		st.opt.OnDrop(st.repairLocked(err)...)
		return
	}
	st.opt.Logger.WithError(err).Warn("reading the spool failed; its events wait for the next attempt")
}

// DropHeadIf removes the head of class c when drop accepts it.
func (st *Store) DropHeadIf(c queue.Class, drop func(queue.Item) bool) (queue.Item, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.disk != nil && st.disk.Len(c) > 0 {
		it, ok, err := st.disk.DropHeadIf(c, drop)
		if err != nil {
			st.fallBackRead(err)
			return queue.Item{}, false
		}
		return it, ok
	}
	return st.mem.DropHeadIf(c, drop)
}

// SetBudget applies a new maxLocalCacheSizeInBytes.
func (st *Store) SetBudget(budget int64) []queue.Dropped {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.opt.Budget = budget
	dropped := st.mem.SetBudget(min(budget, st.opt.MemoryBytes))
	if st.disk != nil {
		more, err := st.disk.SetBudget(budget)
		dropped = append(dropped, more...)
		if err != nil {
			dropped = append(dropped, st.fallBack(err)...)
		}
	}
	return dropped
}

func (st *Store) signal() {
	select {
	case st.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled (without blocking) whenever an event is added.
func (st *Store) Ready() <-chan struct{} { return st.ready }

// Len is the number of events queued in class c.
func (st *Store) Len(c queue.Class) int {
	n := st.mem.Len(c)
	if d := st.spool(); d != nil {
		n += d.Len(c)
	}
	return n
}

// Bytes is the encoded size queued in class c.
func (st *Store) Bytes(c queue.Class) int64 {
	n := st.mem.Bytes(c)
	if d := st.spool(); d != nil {
		n += d.Bytes(c)
	}
	return n
}

// Used is the budget in use on disk and in memory.
func (st *Store) Used() int64 {
	n := st.mem.Used()
	if d := st.spool(); d != nil {
		n += d.Used()
	}
	return n
}

func (st *Store) spool() *Spool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.disk
}

// Degraded reports why events are kept in memory, or nil.
func (st *Store) Degraded() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.bad
}

// Close commits and closes the spool.
func (st *Store) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.disk == nil {
		return nil
	}
	if _, err := st.disk.Commit(); err != nil {
		_ = st.disk.Close()
		return err
	}
	return st.disk.Close()
}
