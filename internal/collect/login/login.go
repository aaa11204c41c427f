// Package login streams Login events: logins, logouts and failed logins
// read from wtmp, btmp and utmp, from auth.log or secure, and from the
// audit subsystem's PAM records when an audit source is attached. One
// login seen by several sources is reported once, with the sources in
// ExtraDetails Sources.
package login

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func init() { collect.Register(event.NameLogin, New) }

// Timings of the stream loop. pollEvery is the backstop for hosts or
// files where inotify sees nothing (e.g. a bind mount replaced under us).
const (
	pollEvery  = 10 * time.Second
	flushEvery = time.Second
	// maxLogged bounds the warnings of one read, so a corrupt file cannot
	// flood the log.
	maxLogged = 10
	// auditQueue bounds the records waiting between the audit source and
	// the loop; beyond it records are dropped and counted.
	auditQueue = 256
)

// Files tailed for appended records, host paths under the root.
var (
	wtmpPath  = "/var/log/wtmp"
	btmpPath  = "/var/log/btmp"
	authPaths = []string{"/var/log/auth.log", "/var/log/secure"}
)

// Collector streams the host's logins.
type Collector struct {
	root     hostfs.Root
	log      *logrus.Entry
	stateDir string
	metrics  *metrics
	audit    AuditSource
	// selfPID is the module's own host pid; its records are left out.
	selfPID int64
	// auditState says how the audit source fares, for Describe.
	auditState atomic.Pointer[string]
	// now is the clock, hold and flushEvery the dedup timings; tests
	// shorten them.
	now        func() time.Time
	hold       time.Duration
	flushEvery time.Duration
}

var (
	_ collect.Collector = (*Collector)(nil)
	_ collect.Streamer  = (*Collector)(nil)
	_ collect.Describer = (*Collector)(nil)
)

// New returns a Login collector over d.Root keeping its read positions in
// d.StateDir (in memory only when empty).
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
	c := &Collector{
		root:       d.Root,
		log:        log.WithField("collector", event.NameLogin),
		stateDir:   d.StateDir,
		metrics:    newMetrics(d.Registerer),
		selfPID:    int64(d.SelfPID),
		now:        time.Now,
		hold:       holdFor,
		flushEvery: flushEvery,
	}
	c.audit = defaultAuditSource(c.metrics)
	return c
}

// SetAuditSource replaces the audit source (nil: files only). Call it
// before Stream.
func (c *Collector) SetAuditSource(s AuditSource) { c.audit = s }

// Describe implements collect.Describer: whether audit records are read.
func (c *Collector) Describe() string {
	if p := c.auditState.Load(); p != nil {
		return "files and " + *p
	}
	if c.audit == nil {
		return "files only"
	}
	return "files; audit not started"
}

func (c *Collector) setAuditState(s string) { c.auditState.Store(&s) }

// Collect is never called for a stream; it reports that a snapshot has
// nothing to say about logins.
func (c *Collector) Collect(context.Context, func(event.Event)) error { return collect.ErrNoData }

// Stream reports logins until ctx ends. It returns an error only when it
// cannot run at all; unreadable files and a failing audit source are
// logged and retried on the next poll.
func (c *Collector) Stream(ctx context.Context, emit func(event.Event)) error {
	s := c.newStream(emit)
	s.loadState()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	var wake <-chan struct{}
	if w, err := newWatcher(s.watched()); err != nil {
		c.log.WithError(err).Info("no file notifications; polling every ", pollEvery)
	} else {
		wake = w.wake
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				c.log.WithError(err).Warn("file notifications stopped; polling")
			}
		})
	}
	var audit <-chan AuditRecord
	if c.audit != nil {
		ch := make(chan AuditRecord, auditQueue)
		audit = ch
		wg.Go(func() { c.runAudit(ctx, ch) })
	}

	s.scan() // positions of a first start; catch-up after a restart
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	flush := time.NewTicker(c.flushEvery)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			s.emitDue(time.Time{}) // everything still held
			s.saveState()
			return nil
		case <-wake:
			s.scan()
		case <-poll.C:
			s.scan()
		case <-flush.C:
			s.emitDue(c.now())
		case r := <-audit:
			s.addAudit(r)
		}
	}
}

// runAudit forwards audit records into ch without ever blocking the
// audit client: a full queue drops and counts.
func (c *Collector) runAudit(ctx context.Context, ch chan<- AuditRecord) {
	c.setAuditState("audit multicast")
	err := c.audit.UserRecords(ctx, func(r AuditRecord) {
		select {
		case ch <- r:
		default:
			c.metrics.auditDropped.Inc()
		}
	})
	if err == nil || errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return
	}
	c.setAuditState("audit unavailable: " + err.Error())
	log := c.log.WithError(err)
	if audit.IsPermission(err) {
		// Expected without CAP_AUDIT_READ or outside the initial user
		// namespace: the files still give every login.
		log.Info("no audit login records (needs CAP_AUDIT_READ and the host's user namespace); reading files only")
		return
	}
	log.Warn("audit login records unavailable; reading files only")
}
