package connection

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
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
	if s.Backend == "" {
		b.WriteString("none")
	} else {
		b.WriteString(s.Backend)
	}
	for _, r := range s.Refused {
		fmt.Fprintf(&b, "; %s: %s", r.Backend, r.Reason)
	}
	return b.String()
}

// engine runs the backend chain and turns raw connections into events.
type engine struct {
	log      *logrus.Entry
	opts     Options
	root     hostfs.Root
	m        *metrics
	own      owners
	selfPID  int32
	raw      chan rawConn
	makeBack func(name string) backend

	mu     sync.Mutex
	status Status
	active string // owned by the Run goroutine
}

func newEngine(log *logrus.Entry, root hostfs.Root, selfPID int, opts Options, m *metrics, own owners) *engine {
	e := &engine{log: log, opts: opts.withDefaults(), root: root, m: m, own: own, selfPID: int32(selfPID)}
	e.raw = make(chan rawConn, e.opts.QueueSize)
	e.makeBack = e.newBackend
	return e
}

// Status returns the current backend status.
func (e *engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Status{Backend: e.status.Backend, Refused: slices.Clone(e.status.Refused)}
}

// setActive publishes the backend in the status last: whoever sees it
// there also sees its metrics.
func (e *engine) setActive(name string) {
	e.active = name
	e.m.setBackend(name)
	e.mu.Lock()
	e.status.Backend = name
	e.mu.Unlock()
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
		e.addRefusal(b, fmt.Sprintf("disabled by configuration (connectionBackend=%s)", e.opts.Backend))
	}
	return chainOrder[start:]
}

// Run tries the backends in order until ctx is done. A backend failing at
// start or at run time hands over to the next; Run fails only when none
// is left.
func (e *engine) Run(ctx context.Context, emit func(event.Event)) error {
	e.mu.Lock()
	e.status = Status{}
	e.mu.Unlock()
	e.setActive("")
	defer e.setActive("")
	for _, name := range e.chain() {
		err := e.runBackend(ctx, e.makeBack(name), emit)
		if ctx.Err() != nil {
			return nil
		}
		e.setActive("")
		if isRefusal(err) {
			e.addRefusal(name, err.Error())
			e.log.WithField("backend", name).WithError(err).Info("connection backend refused; trying the next")
			continue
		}
		e.addRefusal(name, "failed: "+err.Error())
		e.log.WithField("backend", name).WithError(err).Warn("connection backend failed; falling back to the next")
	}
	return fmt.Errorf("no connection backend left: %s", e.Status())
}

func (e *engine) runBackend(ctx context.Context, b backend, emit func(event.Event)) error {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- b.Run(bctx, e.raw) }()
	started := false
	for {
		select {
		case c := <-e.raw:
			if c.ready {
				started = true
				l := e.log.WithField("backend", b.Name())
				if b.Name() == BackendPoll {
					l.Warn("connection events backend started: sock_diag polling is lossy, connections shorter than the poll interval are missed")
				} else {
					l.Info("connection events backend started")
				}
				e.setActive(b.Name())
				continue
			}
			e.handle(c, emit)
		case err := <-errc:
			e.drain(emit)
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
		}
	}
}

// drain handles what a stopped backend left queued.
func (e *engine) drain(emit func(event.Event)) {
	for {
		select {
		case c := <-e.raw:
			if !c.ready {
				e.handle(c, emit)
			}
		default:
			return
		}
	}
}
