package edgetest

import (
	"context"
	"log/slog"

	"github.com/sirupsen/logrus"
)

// slogToLogrus forwards mochi's slog records to a logrus entry.
type slogToLogrus struct {
	e     *logrus.Entry
	attrs []slog.Attr
}

func newSlog(e *logrus.Entry) *slog.Logger { return slog.New(&slogToLogrus{e: e}) }

func (h *slogToLogrus) Enabled(_ context.Context, l slog.Level) bool {
	return h.e.Logger.IsLevelEnabled(toLogrusLevel(l))
}

func (h *slogToLogrus) Handle(_ context.Context, r slog.Record) error {
	f := logrus.Fields{}
	for _, a := range h.attrs {
		f[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		f[a.Key] = a.Value.String()
		return true
	})
	h.e.WithFields(f).Log(toLogrusLevel(r.Level), r.Message)
	return nil
}

func (h *slogToLogrus) WithAttrs(as []slog.Attr) slog.Handler {
	return &slogToLogrus{e: h.e, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *slogToLogrus) WithGroup(string) slog.Handler { return h }

func toLogrusLevel(l slog.Level) logrus.Level {
	switch {
	case l >= slog.LevelError:
		return logrus.ErrorLevel
	case l >= slog.LevelWarn:
		return logrus.WarnLevel
	case l >= slog.LevelInfo:
		return logrus.DebugLevel // mochi's info chatter (listener attached, ...) is debug for us
	default:
		return logrus.TraceLevel
	}
}
