// Package diag turns the module's own warnings and errors into Diagnostic
// events (schema messageEventDiagnostic_v1_0.json), rate-limited so that
// a log storm cannot flood the queues.
package diag

import (
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// maxMessageBytes bounds one diagnostic message; log lines can carry
// arbitrary error text.
const maxMessageBytes = 2048

// Hook is a logrus hook. It never blocks the logging goroutine.
type Hook struct {
	emit func(event.Event)
	now  func() time.Time

	mu        sync.Mutex
	min       logrus.Level
	perMinute int
	tokens    float64
	last      time.Time
	suppress  prometheus.Counter
	emitted   prometheus.Counter
}

// NewHook emits at most perMinute events at or above minLevel.
func NewHook(emit func(event.Event), minLevel logrus.Level, perMinute int, reg prometheus.Registerer) *Hook {
	h := &Hook{
		emit: emit, now: time.Now, min: minLevel, perMinute: perMinute, tokens: float64(perMinute),
		suppress: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_diagnostic_events_suppressed_total",
			Help: "Log lines not turned into Diagnostic events because of the rate limit.",
		}),
		emitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_diagnostic_events_total",
			Help: "Diagnostic events emitted from the module's own log lines.",
		}),
	}
	reg.MustRegister(h.suppress, h.emitted)
	return h
}

// Update changes the threshold and rate.
func (h *Hook) Update(minLevel logrus.Level, perMinute int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.min, h.perMinute = minLevel, perMinute
	h.tokens = min(h.tokens, float64(perMinute))
}

// Levels implements logrus.Hook; filtering happens in Fire so the
// threshold can change at run time.
func (h *Hook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire implements logrus.Hook.
func (h *Hook) Fire(e *logrus.Entry) error {
	if !h.allow(e.Level) {
		return nil
	}
	msg := e.Message
	if err, ok := e.Data[logrus.ErrorKey].(error); ok {
		msg += ": " + err.Error()
	}
	if len(msg) > maxMessageBytes {
		msg = msg[:maxMessageBytes]
	}
	details := map[string]string{}
	for k, v := range e.Data {
		if k == logrus.ErrorKey {
			continue
		}
		if s, ok := v.(string); ok && len(s) <= 256 {
			details[k] = s
		}
	}
	if len(details) == 0 {
		details = nil
	}
	h.emit(event.New(event.NameDiagnostic, e.Time, event.DiagnosticRecord{
		Severity:     severity(e.Level),
		Message:      msg,
		ProcessID:    int64(os.Getpid()),
		ThreadID:     int64(unix.Gettid()),
		ExtraDetails: details,
	}))
	h.emitted.Inc()
	return nil
}

// allow applies the level threshold and a token bucket refilled at
// perMinute per minute.
func (h *Hook) allow(l logrus.Level) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l > h.min || h.perMinute <= 0 {
		return false
	}
	now := h.now()
	if !h.last.IsZero() {
		h.tokens = min(float64(h.perMinute), h.tokens+now.Sub(h.last).Minutes()*float64(h.perMinute))
	}
	h.last = now
	if h.tokens < 1 {
		h.suppress.Inc()
		return false
	}
	h.tokens--
	return true
}

func severity(l logrus.Level) string {
	switch l {
	case logrus.PanicLevel, logrus.FatalLevel:
		return "Fatal"
	case logrus.ErrorLevel:
		return "Error"
	case logrus.WarnLevel:
		return "Warning"
	case logrus.InfoLevel:
		return "Information"
	}
	return "Debug"
}

// ParseSeverity maps the schema's severities (the twin's
// diagnosticMinimumSeverity) to logrus levels.
func ParseSeverity(s string) (logrus.Level, bool) {
	switch s {
	case "Fatal":
		return logrus.FatalLevel, true
	case "Error":
		return logrus.ErrorLevel, true
	case "Warning":
		return logrus.WarnLevel, true
	case "Information":
		return logrus.InfoLevel, true
	case "Debug":
		return logrus.DebugLevel, true
	}
	return logrus.WarnLevel, false
}
