// Package listening collects ListeningPorts: TCP sockets in LISTEN and
// bound, unconnected UDP sockets, IPv4 and IPv6, from sock_diag (falling
// back to /proc/net), each with the process that holds it.
//
// The schema allows ListeningPorts only as a Periodic event, so a new or
// closed listener is reported by an out-of-schedule snapshot: Watch
// compares the listening set every check interval (listeningPortsCheck
// Interval) and asks the runner for a snapshot, and every snapshot marks
// what changed since the last one (ExtraDetails "Change": "added" on new
// entries, plus each closed listener once with "removed"). The last
// snapshot is kept in the state directory, so changes fire once across
// restarts.
//
// Sockets are those of the module's network namespace: the host's only
// with host networking (see package sockdiag). The module's own
// listeners (its metrics endpoint) are reported like any other.
package listening

import (
	"context"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

func init() { collect.Register(event.NameListeningPorts, New) }

// DefaultCheckInterval is the twin's listeningPortsCheckInterval default.
const DefaultCheckInterval = time.Minute

// Collector reports the listening sockets. It is safe for concurrent use:
// Watch runs beside Collect.
type Collector struct {
	stateDir string
	log      *logrus.Entry
	sockets  socketLister
	owners   ownerLookup
	metrics  *metrics
	checkNS  atomic.Int64 // check interval

	mu     sync.Mutex // serialises snapshots and guards last
	loaded bool
	last   state
}

var (
	_ collect.Collector = (*Collector)(nil)
	_ collect.Watcher   = (*Collector)(nil)
)

// New returns a ListeningPorts collector over d.Root.
func New(d collect.Deps) (collect.Collector, error) {
	return newCollector(d), nil
}

func newCollector(d collect.Deps) *Collector {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	log = log.WithField("collector", event.NameListeningPorts)
	c := &Collector{
		stateDir: d.StateDir,
		log:      log,
		sockets:  newHostSockets(d.Root),
		owners:   newProcOwners(d.Root, log),
		metrics:  newMetrics(d.Registerer),
	}
	c.checkNS.Store(int64(DefaultCheckInterval))
	return c
}

// SetCheckInterval changes how often Watch compares the listening set;
// it takes effect after the current wait. d <= 0 keeps the interval.
func (c *Collector) SetCheckInterval(d time.Duration) {
	if d > 0 {
		c.checkNS.Store(int64(d))
	}
}

// Collect emits one ListeningPorts event with every listener, marking
// the changes since the last snapshot, and persists the new snapshot.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	socks, source, err := c.sockets.list()
	if err != nil {
		return err
	}
	c.metrics.source(source)
	cur := c.entries(socks)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.loadLocked()
	items, added, removed := diff(c.last, cur)
	emit(event.New(event.NameListeningPorts, time.Now(), anySlice(items)...))
	c.metrics.snapshot(len(cur), added, removed)
	if c.last != nil && added == 0 && removed == 0 {
		return nil // nothing to persist
	}
	c.last = newState(cur)
	if err := saveState(c.stateDir, cur); err != nil {
		// The event went out; the next start re-reports these changes.
		c.log.WithError(err).Warn("listening ports state not saved")
	}
	return nil
}

// entries builds the payload items of socks in key order, attributed to
// their processes where possible.
func (c *Collector) entries(socks []sockdiag.Socket) []entry {
	inodes := make(map[uint64]uint32, len(socks))
	for _, s := range socks {
		if s.Inode != 0 {
			inodes[s.Inode] = s.UID
		}
	}
	owners, err := c.owners.owners(inodes)
	if err != nil {
		c.log.WithError(err).Warn("socket owners incomplete")
	}
	out := make([]entry, 0, len(socks))
	unattributed := 0
	for _, s := range socks {
		k := keyOf(s)
		remote := "0.0.0.0"
		if s.Family == sockdiag.IPv6 {
			remote = "::"
		}
		d := map[string]string{
			"Inode":  strconv.FormatUint(s.Inode, 10),
			"UserId": strconv.FormatUint(uint64(s.UID), 10),
		}
		o, ok := owners[s.Inode]
		if ok {
			o.details(d)
		}
		if !ok || o.PID == 0 {
			unattributed++
		}
		out = append(out, entry{Key: k, Item: event.ListeningPort{
			Protocol:      k.Protocol,
			LocalAddress:  s.Local.Addr().String(),
			LocalPort:     strconv.Itoa(int(k.Port)),
			RemoteAddress: remote,
			RemotePort:    "*",
			ExtraDetails:  d,
		}})
	}
	c.metrics.unattributed.Set(float64(unattributed))
	slices.SortFunc(out, func(a, b entry) int { return compareKeys(a.Key, b.Key) })
	return out
}

// loadLocked reads the persisted baseline once. A broken file is no
// baseline: the next snapshot replaces it.
func (c *Collector) loadLocked() {
	if c.loaded {
		return
	}
	c.loaded = true
	s, err := loadState(c.stateDir)
	if err != nil {
		c.log.WithError(err).Warn("listening ports state unreadable; starting without a baseline")
	}
	c.last = s
}

func anySlice(items []event.ListeningPort) []any {
	out := make([]any, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
