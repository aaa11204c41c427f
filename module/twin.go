package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/edgehub"
)

// statusObject is our reported-properties object for module status, kept
// apart from Microsoft's configuration object so as not to pollute it.
const statusObject = "azureiotsecurityStatus"

// status is what GetStatus answers and what is reported beside the
// effective configuration.
type status struct {
	AgentVersion        string              `json:"agentVersion"`
	AgentID             string              `json:"agentId"`
	Mode                string              `json:"mode"`
	Connected           bool                `json:"connected"`
	DesiredVersion      int64               `json:"desiredVersion"`
	ConfigurationErrors []map[string]string `json:"configurationErrors"`
	Collectors          map[string]string   `json:"collectors"`
	QueueBytes          map[string]int64    `json:"queueBytes"`
	LastSuccessfulSend  string              `json:"lastSuccessfulSend,omitempty"`
	MessagesSent        int64               `json:"messagesSent"`
	MessagesFailed      int64               `json:"messagesFailed"`
}

func (m *module) status() status {
	res := m.store.Current()
	st := status{
		AgentVersion:        version,
		AgentID:             m.agentID,
		Mode:                string(m.mode),
		Connected:           m.link == nil || m.link.session.Connected(),
		DesiredVersion:      res.Version,
		ConfigurationErrors: config.ReportedErrors(res.Errors),
		Collectors:          m.runner.Status(),
		QueueBytes:          m.pipe.QueuedBytes(),
		MessagesSent:        m.stats.Totals().Sent,
		MessagesFailed:      m.stats.Totals().Failed,
	}
	if t := m.pipe.LastSend(); !t.IsZero() {
		st.LastSuccessfulSend = t.UTC().Format(time.RFC3339)
	}
	return st
}

// reportedDoc is the PATCH sent after every apply: every configuration key
// with its effective value in the {"value": …} shape, and the status.
func (m *module) reportedDoc() ([]byte, error) {
	doc := config.Reported(m.store.Current())
	doc[statusObject] = m.status()
	return json.Marshal(doc)
}

// reporter sends the latest reported document; a newer request replaces
// one not yet sent, so a burst of patches costs one twin write.
type reporter struct {
	pending chan struct{}
}

func newReporter() *reporter { return &reporter{pending: make(chan struct{}, 1)} }

func (r *reporter) request() {
	select {
	case r.pending <- struct{}{}:
	default:
	}
}

// statusRefresh re-reports the status now and then, so lastSuccessfulSend
// and the counters in the twin do not go stale between configuration
// changes.
const statusRefresh = time.Hour

func (m *module) runReporter(ctx context.Context, s *edgehub.Session, r *reporter) error {
	t := time.NewTicker(statusRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.pending:
		case <-t.C:
		}
		doc, err := m.reportedDoc()
		if err != nil {
			m.log.WithError(err).Error("cannot encode reported properties")
			continue
		}
		// UpdateReported retries throttling and server errors itself.
		if err := s.UpdateReported(ctx, doc); err != nil && ctx.Err() == nil {
			m.log.WithError(err).Warn("reported properties not updated; will retry with the next change")
			time.AfterFunc(time.Minute, r.request)
		}
	}
}

// onTwin and onPatch run on the session's twin goroutine, in order.
func (m *module) onTwin(full []byte) {
	res, err := m.store.ApplyFull(full)
	if err != nil {
		m.log.WithError(err).Warn("module twin not applied")
	} else {
		m.apply(res)
	}
	m.twinReadOnce.Do(func() { close(m.twinRead) })
	m.reports.request()
}

func (m *module) onPatch(patch []byte) {
	res, err := m.store.ApplyPatch(patch)
	if err != nil {
		m.log.WithError(err).Warn("desired properties patch not applied")
	} else {
		m.apply(res)
	}
	m.reports.request()
}

// registerMethods answers GetStatus, TriggerSnapshot and Flush; the
// session answers 501 for anything else.
func (m *module) registerMethods(s *edgehub.Session) {
	reply := func(v any) (int, []byte) {
		b, err := json.Marshal(v)
		if err != nil {
			return 500, []byte(`{"error":"encode"}`)
		}
		return 200, b
	}
	fail := func(err error) (int, []byte) {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return 500, b
	}
	s.HandleMethod("GetStatus", func(context.Context, []byte) (int, []byte) { return reply(m.status()) })
	s.HandleMethod("TriggerSnapshot", func(ctx context.Context, _ []byte) (int, []byte) {
		if err := m.runner.Snapshot(ctx); err != nil {
			return fail(err)
		}
		if err := m.pipe.Flush(ctx); err != nil {
			return fail(err)
		}
		return reply(map[string]string{"result": "snapshot taken and sent"})
	})
	s.HandleMethod("Flush", func(ctx context.Context, _ []byte) (int, []byte) {
		if err := m.pipe.Flush(ctx); err != nil {
			return fail(err)
		}
		return reply(map[string]any{"result": "flushed", "queueBytes": m.pipe.QueuedBytes()})
	})
}
