package pipeline

import (
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// Store holds encoded events from intake until their message is
// acknowledged: the in-memory queues, or the durable spool
// (internal/spool) when the module has a state directory.
type Store interface {
	// Add queues an event and returns what was dropped to make room.
	Add(c queue.Class, it queue.Item) []queue.Dropped
	// Commit makes what was added durable; the pipeline calls it after
	// every intake burst.
	Commit() []queue.Dropped
	Take(c queue.Class, fit func(queue.Item) bool) []queue.Item
	DropHeadIf(c queue.Class, drop func(queue.Item) bool) (queue.Item, bool)
	// Hold records a message's id and events before its first attempt.
	Hold(mid string, prio event.Priority, items []queue.Item)
	// Release forgets the events of a message delivered or refused.
	Release(mid string, items []queue.Item)
	// Unsent is told of a message still unacknowledged at shutdown and
	// returns the events that are lost with it.
	Unsent(mid string, items []queue.Item) []queue.Dropped
	// Held returns messages left in flight by the previous run.
	Held() []queue.Held
	SetBudget(budget int64) []queue.Dropped
	Ready() <-chan struct{}
	Bytes(c queue.Class) int64
	Len(c queue.Class) int
	Used() int64
}

// memory is the in-memory Store: nothing survives a restart.
type memory struct{ *queue.Queues }

func (memory) Commit() []queue.Dropped                   { return nil }
func (memory) Hold(string, event.Priority, []queue.Item) {}
func (memory) Held() []queue.Held                        { return nil }
func (m memory) Release(_ string, items []queue.Item)    { m.Queues.Release(items) }
func (m memory) Unsent(_ string, items []queue.Item) []queue.Dropped {
	m.Queues.Release(items)
	dropped := make([]queue.Dropped, len(items))
	for i, it := range items {
		dropped[i] = queue.Dropped{Class: it.Class, Name: it.Name, Reason: stats.ReasonShutdown}
	}
	return dropped
}
