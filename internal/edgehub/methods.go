package edgehub

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sirupsen/logrus"
)

// MethodHandler answers a direct method call: an HTTP-like status and a
// JSON body (nil means {}). ctx ends at Options.MethodTimeout.
type MethodHandler func(ctx context.Context, payload []byte) (status int, body []byte)

type methodState struct {
	hmu      sync.RWMutex
	handlers map[string]MethodHandler
	slots    chan struct{} // bounds concurrent handlers
	runMu    sync.Mutex
	runCtx   context.Context // Run's context; nil when not running
}

func (m *methodState) init(n int) {
	m.handlers = map[string]MethodHandler{}
	m.slots = make(chan struct{}, n)
}

// HandleMethod registers h for method name, replacing any earlier one;
// h == nil removes it. Unknown methods are answered 501.
func (s *Session) HandleMethod(name string, h MethodHandler) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	if h == nil {
		delete(s.handlers, name)
		return
	}
	s.handlers[name] = h
}

// onMethod runs on a paho goroutine; the handler and the response run on
// a goroutine of their own.
func (s *Session) onMethod(c *conn, topic string, payload []byte) {
	name, q := topicParams(topic, methodsPrefix)
	rid := q["$rid"]
	log := s.log.WithFields(logrus.Fields{"method": name, "rid": rid})
	if rid == "" {
		log.Warn("method request without $rid: cannot answer")
		return
	}
	s.runMu.Lock()
	ctx := s.runCtx
	s.runMu.Unlock()
	if ctx == nil {
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.m.methods.WithLabelValues("busy").Inc()
		go s.respond(ctx, c, rid, 429, errorBody("too many concurrent method calls"), log)
		return
	}
	go func() {
		defer func() { <-s.slots }()
		status, body := s.invoke(ctx, name, payload, log)
		s.respond(ctx, c, rid, status, body, log)
	}()
}

// invoke runs the handler with a timeout and turns panics, timeouts and
// invalid bodies into error responses.
func (s *Session) invoke(ctx context.Context, name string, payload []byte, log *logrus.Entry) (int, []byte) {
	s.hmu.RLock()
	h := s.handlers[name]
	s.hmu.RUnlock()
	if h == nil {
		s.m.methods.WithLabelValues("unknown").Inc()
		log.Info("direct method call for an unknown method")
		return 501, errorBody("unknown method " + name)
	}
	hctx, cancel := context.WithTimeout(ctx, s.o.MethodTimeout)
	defer cancel()
	type result struct {
		status int
		body   []byte
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				log.WithField("panic", fmt.Sprint(p)).Error("method handler panicked")
				done <- result{500, errorBody("method " + name + " failed")}
			}
		}()
		st, b := h(hctx, payload)
		done <- result{st, b}
	}()
	select {
	case r := <-done:
		if len(r.body) == 0 {
			r.body = []byte("{}")
		}
		if !json.Valid(r.body) {
			log.Error("method handler returned a body that is not JSON")
			s.m.methods.WithLabelValues("error").Inc()
			return 500, errorBody("method " + name + " returned invalid JSON")
		}
		if r.status < 100 || r.status > 999 {
			r.status = 500
		}
		s.m.methods.WithLabelValues("handled").Inc()
		return r.status, r.body
	case <-hctx.Done():
		s.m.methods.WithLabelValues("timeout").Inc()
		log.WithField("timeout", s.o.MethodTimeout).Warn("method handler timed out")
		return 504, errorBody("method " + name + " timed out")
	}
}

// respond publishes the response on the connection the request came on.
func (s *Session) respond(ctx context.Context, c *conn, rid string, status int, body []byte, log *logrus.Entry) {
	topic := fmt.Sprintf("%s%d/?$rid=%s", methodResPrefix, status, rid)
	ctx, cancel := context.WithTimeout(ctx, s.o.WriteTimeout)
	defer cancel()
	if err := wait(ctx, c.client.Publish(topic, 1, false, body)); err != nil {
		log.WithError(err).Warn("cannot send direct method response")
	}
}

func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return b
}
