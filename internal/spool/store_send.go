package spool

import (
	"errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// Hold records a message's id and events before its first attempt, so it
// is resent unchanged after a crash.
func (st *Store) Hold(mid string, prio event.Priority, items []queue.Item) {
	onDisk, _ := split(items)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(onDisk) == 0 || st.disk == nil {
		return
	}
	if err := st.disk.Hold(mid, prio, onDisk); err != nil {
		st.m.writeErrors.Inc()
		if errors.Is(err, errDamaged) {
			st.opt.OnDrop(st.repairLocked(err)...)
			return
		}
		st.opt.Logger.WithError(err).WithField("message_id", mid).
			Warn("cannot record the message in the spool; after a crash its events would be sent under a new id")
	}
}

// Release forgets a delivered (or refused) message's events for good.
func (st *Store) Release(mid string, items []queue.Item) {
	onDisk, inMem := split(items)
	st.mem.Release(inMem)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(onDisk) == 0 || st.disk == nil {
		return
	}
	if err := st.disk.Release(mid, onDisk); err != nil {
		st.m.writeErrors.Inc()
		if errors.Is(err, errDamaged) {
			st.opt.OnDrop(st.repairLocked(err)...)
			return
		}
		st.opt.Logger.WithError(err).WithField("message_id", mid).
			Warn("cannot remove a delivered message from the spool; it may be sent again, with the same id, after a restart")
	}
}

// Unsent is called at shutdown for a message never acknowledged: events
// on disk stay for the next start (same id); events in memory are lost.
func (st *Store) Unsent(_ string, items []queue.Item) []queue.Dropped {
	_, inMem := split(items)
	st.mem.Release(inMem)
	dropped := make([]queue.Dropped, len(inMem))
	for i, it := range inMem {
		dropped[i] = queue.Dropped{Class: it.Class, Name: it.Name, Reason: stats.ReasonShutdown}
	}
	return dropped
}

func split(items []queue.Item) (onDisk, inMem []queue.Item) {
	for _, it := range items {
		if it.Seq != 0 {
			onDisk = append(onDisk, it)
		} else {
			inMem = append(inMem, it)
		}
	}
	return onDisk, inMem
}

// Held returns the messages in flight when the module last stopped.
func (st *Store) Held() []queue.Held {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.disk == nil {
		return nil
	}
	return st.disk.Held()
}
