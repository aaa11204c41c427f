package process

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// Status is the backend in use and why better ones were not used.
type Status struct {
	// Backend is the backend delivering events, "" while none is.
	Backend string
	// Refused lists the backends passed over, best first, with why.
	Refused []Refusal
}

// Refusal is one backend that was not used or stopped working.
type Refusal struct {
	Backend, Reason string
}

// String renders the status for logs and reported properties.
func (s Status) String() string {
	var b strings.Builder
	b.WriteString(cmpOr(s.Backend, "none"))
	for _, r := range s.Refused {
		fmt.Fprintf(&b, "; %s: %s", r.Backend, r.Reason)
	}
	return b.String()
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sink receives the engine's events. wants lets the engine skip building
// events nobody asked for (each twin priority can be Off on its own).
type sink interface {
	wants(kind rawKind) bool
	emit(kind rawKind, ev event.Event)
}

// engine runs the backend chain and turns raw events into payloads.
type engine struct {
	log      *logrus.Entry
	opts     Options
	root     hostfs.Root
	m        *metrics
	enr      enricher
	selfPID  int32
	out      sink
	raw      chan rawEvent
	tbl      *table
	cgroups  *cgroupCache
	makeBack func(name string) backend
	// counters are the kernel-event series of the active backend by
	// kind, resolved once per backend rather than per event.
	counters [rawExit + 1]prometheus.Counter

	mu     sync.Mutex
	status Status
	active string // owned by the Run goroutine
}

func newEngine(log *logrus.Entry, root hostfs.Root, selfPID int, opts Options, m *metrics, enr enricher, out sink) *engine {
	e := &engine{
		log: log, opts: opts.withDefaults(), root: root, m: m, enr: enr,
		selfPID: int32(selfPID), out: out, cgroups: newCgroupCache(1024),
	}
	e.raw = make(chan rawEvent, e.opts.QueueSize)
	e.tbl = newTable(e.opts.TableSize, e.opts.TableTTL)
	e.makeBack = e.newBackend
	return e
}

// Status returns the current backend status.
func (e *engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Status{Backend: e.status.Backend, Refused: slices.Clone(e.status.Refused)}
}

func (e *engine) setActive(name string) {
	e.mu.Lock()
	e.status.Backend = name
	e.mu.Unlock()
	e.m.setBackend(name)
}

func (e *engine) addRefusal(name, reason string) {
	e.mu.Lock()
	e.status.Refused = append(e.status.Refused, Refusal{name, reason})
	e.mu.Unlock()
}

// chain is the backends to try, best first. A configured backend starts
// the chain there: the better ones are refused as disabled, the worse
// ones stay as fallbacks.
func (e *engine) chain() []string {
	start := slices.Index(chainOrder, e.opts.Backend)
	if start < 0 {
		start = 0
	}
	for _, b := range chainOrder[:start] {
		e.addRefusal(b, fmt.Sprintf("disabled by configuration (processBackend=%s)", e.opts.Backend))
	}
	return chainOrder[start:]
}

// Run tries the backends in order until ctx is done. A backend failing at
// start or at run time hands over to the next; Run fails only when none
// is left.
func (e *engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.status = Status{}
	e.mu.Unlock()
	e.m.setBackend("")
	defer e.setActive("")
	e.prime()
	for _, name := range e.chain() {
		err := e.runBackend(ctx, e.makeBack(name))
		if ctx.Err() != nil {
			return nil
		}
		e.setActive("")
		if isRefusal(err) {
			e.addRefusal(name, err.Error())
			e.log.WithField("backend", name).WithError(err).Info("process backend refused; trying the next")
			continue
		}
		e.addRefusal(name, "failed: "+err.Error())
		e.log.WithField("backend", name).WithError(err).Warn("process backend failed; falling back to the next")
	}
	return fmt.Errorf("no process backend left: %s", e.Status())
}

func (e *engine) runBackend(ctx context.Context, b backend) error {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Run(bctx, e.raw) }()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	started := false
	for {
		select {
		case ev := <-e.raw:
			if ev.kind == rawReady {
				started = true
				e.active = b.Name()
				for k := rawFork; k <= rawExit; k++ {
					e.counters[k] = e.m.events.WithLabelValues(e.active, kindName(k))
				}
				e.setActive(b.Name())
				e.log.WithField("backend", b.Name()).Info("process events backend started")
				continue
			}
			e.handle(ev)
		case err := <-errc:
			e.drain()
			switch {
			case ctx.Err() != nil:
				return nil
			case err == nil:
				err = errors.New("stopped without an error")
			}
			if !started && !isRefusal(err) {
				err = &refusal{err}
			}
			return err
		case <-sweep.C:
			e.tbl.expire(time.Now())
			e.m.table.Set(float64(e.tbl.len()))
		}
	}
}

// drain handles what a stopped backend left queued.
func (e *engine) drain() {
	for {
		select {
		case ev := <-e.raw:
			if ev.kind != rawReady {
				e.handle(ev)
			}
		default:
			return
		}
	}
}

// prime loads running processes into the table so that parents started
// before the module are known, and so is the module's own tree.
func (e *engine) prime() {
	pids, err := procfs.ListPIDs(e.root)
	if err != nil {
		e.log.WithError(err).Warn("cannot list processes; parents will be read on demand")
		return
	}
	if len(pids) > e.opts.TableSize {
		pids = pids[len(pids)-e.opts.TableSize:]
	}
	now := time.Now()
	for _, pid := range pids {
		p, err := e.enr.readProcess(pid)
		if err != nil {
			continue
		}
		e.tbl.put(e.entryOf(p, now))
	}
	// A second pass marks the module's tree now that parents are known.
	for _, pid := range pids {
		if en, ok := e.tbl.get(pid); ok {
			en.self = e.isSelf(en.pid, en.ppid)
		}
	}
	e.m.table.Set(float64(e.tbl.len()))
}

func (e *engine) entryOf(p *procfs.Process, now time.Time) *entry {
	en := &entry{
		pid: p.PID, ppid: p.PPID, startTicks: p.StartTicks, start: p.StartTime,
		exe: p.Exe, commandLine: p.CommandLine, entityID: p.EntityID, lastSeen: now,
	}
	if c, ok := e.enr.container(p.Cgroup); ok {
		en.container = c
	}
	return en
}

// isSelf reports whether pid belongs to the module's own process tree.
func (e *engine) isSelf(pid, ppid int32) bool {
	if e.selfPID <= 0 || e.opts.IncludeSelf {
		return false
	}
	if pid == e.selfPID || ppid == e.selfPID {
		return true
	}
	// Walk up the known ancestry, bounded against loops.
	for i := 0; i < 64 && ppid > 1; i++ {
		en, ok := e.tbl.byPID[ppid]
		if !ok {
			return false
		}
		p := en.Value.(*entry)
		if p.self || p.ppid == e.selfPID {
			return true
		}
		ppid = p.ppid
	}
	return false
}
