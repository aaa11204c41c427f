// Package baseline collects OSBaseline: a built-in, data-driven check
// engine over the host root, replacing the closed omsbaseline binary the
// retired agents downloaded and ran as root. Checks are declared as data
// in an embedded JSON file (checks.json) and, when the twin enables
// them, in a custom file on the host verified by its SHA-256. Nothing a
// check names is ever executed; every host read is bounded.
package baseline

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

//go:embed checks.json
var defaultChecks []byte

func init() {
	collect.Register(event.NameOSBaseline, func(d collect.Deps) (collect.Collector, error) {
		c, err := New(d)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return c, nil
	})
}

// ExtraDetails keys of a result.
const (
	detailCheckID       = "CheckId"
	detailSource        = "Source"
	detailRemediation   = "Remediation"
	detailNotApplicable = "NotApplicable"
)

// Sources of a check.
const (
	sourceBuiltin = "builtin"
	sourceCustom  = "custom"
)

// Collector runs the baseline. Collect may be called concurrently (a
// direct snapshot beside the schedule); runs are serialised.
type Collector struct {
	root     hostfs.Root
	log      *logrus.Entry
	settings func() config.Config
	builtin  []Check
	metrics  *metrics

	mu         sync.Mutex
	lastCustom string // the last custom-checks problem reported
}

var _ collect.Collector = (*Collector)(nil)

// New returns an OSBaseline collector over d.Root.
func New(d collect.Deps) (*Collector, error) {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	checks, err := parseChecks(defaultChecks)
	if err != nil {
		return nil, fmt.Errorf("built-in baseline checks: %w", err)
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	return &Collector{
		root:     d.Root,
		log:      log.WithField("collector", event.NameOSBaseline),
		settings: d.Settings,
		builtin:  checks,
		metrics:  m,
	}, nil
}

// Collect runs the built-in checks, then the custom ones when the twin
// enables them, and emits one OSBaseline event with a result per check.
// A custom-checks file that cannot be used is reported once as a
// ConfigurationError event; the built-in results are sent regardless.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := newHost(c.root)
	items, err := c.run(ctx, h, c.builtin, sourceBuiltin, nil)
	if err != nil {
		return err
	}
	custom, problem := loadCustom(c.root, c.settings())
	if problem != nil {
		c.metrics.customErrors.WithLabelValues(problem.reason).Inc()
	}
	if items, err = c.run(ctx, h, custom, sourceCustom, items); err != nil {
		return err
	}
	now := time.Now()
	emit(event.New(event.NameOSBaseline, now, items...))
	c.reportCustom(problem, now, emit)
	return nil
}

// run evaluates checks in order and appends their results to items.
func (c *Collector) run(ctx context.Context, h *host, checks []Check, source string, items []any) ([]any, error) {
	for i := range checks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := evaluate(h, &checks[i], source)
		c.metrics.results.WithLabelValues(resultLabel(r), source).Inc()
		items = append(items, r)
	}
	return items, nil
}

// evaluate runs one check. A check whose applies condition fails is not
// applicable: it is reported as Pass with ExtraDetails.NotApplicable
// saying why, as the schema has no skip result and nothing on the host
// contradicts the rule.
func evaluate(h *host, c *Check, source string) *event.BaselineResult {
	r := &event.BaselineResult{
		Description: c.Description, CceID: c.CceID, Severity: c.Severity,
		ExtraDetails: map[string]string{detailCheckID: c.ID, detailSource: source},
	}
	if c.Applies != nil {
		switch o := c.Applies.eval(h); o.v {
		case fail:
			r.Result = "Pass"
			r.ExtraDetails[detailNotApplicable] = o.reason
			return r
		case errored:
			r.Result, r.Error = "Err", o.reason
			return r
		}
	}
	switch o := c.Check.eval(h); o.v {
	case pass:
		r.Result = "Pass"
	case fail:
		r.Result, r.Error = "Fail", o.reason
	default:
		r.Result, r.Error = "Err", o.reason
	}
	r.Error = clip(r.Error)
	if r.Result != "Pass" && c.Remediation != "" {
		r.ExtraDetails[detailRemediation] = c.Remediation
	}
	return r
}

// maxReasonBytes bounds the Error text of one result: a custom check's
// pattern and paths go into it.
const maxReasonBytes = 1024

// clip cuts s to maxReasonBytes on a UTF-8 boundary.
func clip(s string) string {
	if len(s) <= maxReasonBytes {
		return s
	}
	cut := maxReasonBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func resultLabel(r *event.BaselineResult) string {
	if _, na := r.ExtraDetails[detailNotApplicable]; na {
		return "not_applicable"
	}
	switch r.Result {
	case "Pass":
		return "pass"
	case "Fail":
		return "fail"
	}
	return "err"
}
