package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Plan is what the configuration asks the runner to do.
type Plan struct {
	// Enabled holds the event names whose priority is not Off.
	Enabled map[string]bool
	// SnapshotEvery is the twin's snapshotFrequency.
	SnapshotEvery time.Duration
	// SnapshotsOnly leaves triggered streams out (the --once mode).
	SnapshotsOnly bool
	// CheckInterval is how often watching collectors look for changes
	// (the twin's listeningPortsCheckInterval); 0 keeps their default.
	CheckInterval time.Duration
}

// Describer is a collector that can say more about how it runs (the
// process backend in use and why better ones were refused); the text is
// appended to its status in reported properties and GetStatus.
type Describer interface {
	Describe() string
}

// IntervalSetter is a Watcher whose check interval follows the plan.
type IntervalSetter interface {
	SetCheckInterval(time.Duration)
}

// Runner reconciles running collectors with the plan: a collector whose
// event is Off does not run at all; switching it back on starts it.
type Runner struct {
	deps     Deps
	emit     func(event.Event)
	log      *logrus.Entry
	plans    chan Plan
	snapshot chan chan error
	internal map[string]Collector
	metrics  runnerMetrics
	// reconciled, if set, is called after every plan is applied.
	reconciled func()

	mu        sync.Mutex
	status    map[string]string
	describer map[string]Describer
	ready     bool
	// first is closed once every periodic collector started by the first
	// plan has finished its initial snapshot.
	first     chan struct{}
	firstWait sync.WaitGroup
}

// NewRunner returns a runner emitting into emit.
func NewRunner(deps Deps, emit func(event.Event)) *Runner {
	return &Runner{
		deps:      deps,
		emit:      emit,
		log:       deps.Logger,
		plans:     make(chan Plan, 1),
		snapshot:  make(chan chan error),
		internal:  map[string]Collector{},
		metrics:   newRunnerMetrics(deps.Registerer),
		status:    map[string]string{},
		describer: map[string]Describer{},
		first:     make(chan struct{}),
	}
}

// FirstSnapshots is closed when the initial snapshots of the first plan
// have been emitted, so the caller can flush them out at once.
func (r *Runner) FirstSnapshots() <-chan struct{} { return r.first }

// AddInternal adds a periodic source of the module itself (operational
// statistics) that runs whatever the plan says; its events' own
// priorities still apply downstream.
func (r *Runner) AddInternal(name string, c Collector) { r.internal[name] = c }

// OnReconciled sets a function called after each plan has been applied
// (collectors started and stopped), e.g. to report the new state. Call it
// before Run.
func (r *Runner) OnReconciled(f func()) { r.reconciled = f }

// Apply hands a new plan to Run.
func (r *Runner) Apply(p Plan) {
	for {
		select {
		case r.plans <- p:
			return
		default:
		}
		select {
		case <-r.plans:
		default:
		}
	}
}

// Snapshot runs every enabled periodic collector now and returns when all
// have emitted their events.
func (r *Runner) Snapshot(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case r.snapshot <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready reports whether the first plan has been applied.
func (r *Runner) Ready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

// Status maps every known collector to "running", "off" or an error text.
func (r *Runner) Status() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.status))
	for k, v := range r.status {
		if d, ok := r.describer[k]; ok && v == "running" {
			v += " (" + d.Describe() + ")"
		}
		out[k] = v
	}
	return out
}

func (r *Runner) setStatus(name, s string) {
	r.mu.Lock()
	r.status[name] = s
	r.mu.Unlock()
}

type task struct {
	cancel context.CancelFunc
	done   chan struct{}
	coll   Collector
	stream bool
}

// Run blocks until ctx ends; it then stops every collector and waits for
// them, so nothing emits after Run returns.
func (r *Runner) Run(ctx context.Context) error {
	tasks := map[string]*task{}
	var plan Plan
	defer func() {
		for _, t := range tasks {
			t.cancel()
		}
		for _, t := range tasks {
			<-t.done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-r.plans:
			r.mu.Lock()
			firstPlan := !r.ready
			r.mu.Unlock()
			r.reconcile(ctx, tasks, plan, p, firstPlan)
			plan = p
			r.mu.Lock()
			r.ready = true
			r.mu.Unlock()
			if firstPlan {
				go func() { r.firstWait.Wait(); close(r.first) }()
			}
			if r.reconciled != nil {
				r.reconciled()
			}
		case done := <-r.snapshot:
			done <- r.snapshotAll(ctx, tasks)
		}
	}
}

func (r *Runner) reconcile(ctx context.Context, tasks map[string]*task, old, p Plan, first bool) {
	want := map[string]bool{}
	for name := range r.internal {
		want[name] = true
	}
	for _, name := range Registered() {
		if p.Enabled[name] {
			want[name] = true
		} else {
			r.setStatus(name, "off")
		}
	}
	for _, t := range tasks {
		setInterval(t.coll, p.CheckInterval)
	}
	for name, t := range tasks {
		restartPeriodic := !t.stream && old.SnapshotEvery != p.SnapshotEvery
		if !want[name] || restartPeriodic {
			t.cancel()
			<-t.done
			delete(tasks, name)
			if !want[name] {
				// Again after the stop: the task may have written its own
				// status since the first "off".
				r.setStatus(name, "off")
				r.log.WithField("collector", name).Info("collector stopped")
			}
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, running := tasks[name]; running {
			continue
		}
		wasRunning := old.Enabled[name]
		c, err := r.build(name)
		if err != nil {
			r.setStatus(name, "error: "+err.Error())
			r.metrics.errors.WithLabelValues(name).Inc()
			r.log.WithField("collector", name).WithError(err).Warn("collector unavailable")
			continue
		}
		setInterval(c, p.CheckInterval)
		r.mu.Lock()
		if d, ok := c.(Describer); ok {
			r.describer[name] = d
		} else {
			delete(r.describer, name)
		}
		r.mu.Unlock()
		s, isStream := c.(Streamer)
		if isStream && p.SnapshotsOnly {
			continue
		}
		tctx, cancel := context.WithCancel(ctx)
		t := &task{cancel: cancel, done: make(chan struct{}), coll: c}
		if isStream {
			t.stream = true
			go r.runStream(tctx, name, s, t.done)
		} else {
			// A collector switched on again or a new one snapshots at once;
			// one restarted for a new frequency waits a full period.
			immediate := !wasRunning || old.SnapshotEvery == 0
			var initial func()
			if first && immediate {
				r.firstWait.Add(1)
				initial = r.firstWait.Done
			}
			go r.runPeriodic(tctx, name, c, p.SnapshotEvery, immediate, initial, t.done)
		}
		tasks[name] = t
		r.setStatus(name, "running")
	}
}

func (r *Runner) build(name string) (Collector, error) {
	if c, ok := r.internal[name]; ok {
		return c, nil
	}
	f, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("no collector registered for %s", name)
	}
	d := r.deps
	d.Logger = r.log.WithField("collector", name)
	return f(d)
}

func (r *Runner) snapshotAll(ctx context.Context, tasks map[string]*task) error {
	var errs []error
	for name, t := range tasks {
		if t.stream {
			continue
		}
		if err := r.collectOnce(ctx, name, t.coll); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func setInterval(c Collector, d time.Duration) {
	if s, ok := c.(IntervalSetter); ok && d > 0 {
		s.SetCheckInterval(d)
	}
}
