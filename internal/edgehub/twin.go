package edgehub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/sirupsen/logrus"
)

// twinEvent is work for the twin goroutine: a new connection (conn set)
// or a desired patch.
type twinEvent struct {
	conn    *conn
	patch   []byte
	version int64 // -1: the patch carried no $version
}

type twinResponse struct {
	status int
	body   []byte
}

type twinState struct {
	twinQ   eventQueue
	pendMu  sync.Mutex
	pending map[string]chan twinResponse // by $rid
}

func (t *twinState) init() {
	t.pending = map[string]chan twinResponse{}
	t.twinQ.ready = make(chan struct{}, 1)
}

// eventQueue is an unbounded FIFO, so paho callbacks never block on it.
type eventQueue struct {
	mu    sync.Mutex
	items []twinEvent
	ready chan struct{}
}

func (q *eventQueue) push(e twinEvent) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop(ctx context.Context) (twinEvent, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			q.items[0] = twinEvent{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return e, true
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return twinEvent{}, false
		}
	}
}

// twinLoop is the one goroutine that reads the twin and applies desired
// patches in $version order; a gap, or a patch before any full twin, makes
// it GET the whole twin again.
func (s *Session) twinLoop(ctx context.Context) {
	version := int64(-1) // desired $version applied; -1: unknown
	for {
		ev, ok := s.twinQ.pop(ctx)
		if !ok {
			return
		}
		if ev.conn != nil {
			version = s.fullTwin(ctx, ev.conn)
			continue
		}
		switch {
		case version >= 0 && ev.version >= 0 && ev.version <= version:
			s.m.desired.WithLabelValues("stale").Inc()
		case version >= 0 && ev.version == version+1:
			s.m.desired.WithLabelValues("applied").Inc()
			version = ev.version
			if s.o.OnDesiredPatch != nil {
				s.o.OnDesiredPatch(ev.patch)
			}
		default:
			s.m.desired.WithLabelValues("gap").Inc()
			s.log.WithFields(logrus.Fields{"have": version, "got": ev.version}).Info("desired properties version gap: reading the whole twin")
			version = -1
			s.mu.Lock()
			c := s.cur
			s.mu.Unlock()
			if c != nil {
				version = s.fullTwin(ctx, c)
			}
		}
	}
}

// fullTwin GETs the twin on c, retrying while c lives, hands it to OnTwin
// and returns its desired $version (-1 on failure).
func (s *Session) fullTwin(ctx context.Context, c *conn) int64 {
	bo := backoff{base: s.o.MinBackoff, max: s.o.MaxBackoff}
	for attempt := 0; c.alive() && ctx.Err() == nil; attempt++ {
		status, body, err := s.twinRequest(ctx, c, twinGetTopic, nil)
		if err == nil && status == 200 {
			v, perr := desiredVersion(body)
			if perr != nil {
				s.m.twin.WithLabelValues("get", "invalid").Inc()
				s.log.WithError(perr).Error("twin GET returned an unusable document")
				return -1
			}
			s.m.twin.WithLabelValues("get", "ok").Inc()
			if s.o.OnTwin != nil {
				s.o.OnTwin(body)
			}
			return v
		}
		if err == nil {
			err = fmt.Errorf("edgeHub answered %d: %s", status, bytes.TrimSpace(body))
		}
		s.m.twin.WithLabelValues("get", "error").Inc()
		if status != 0 && !retryableStatus(status) {
			s.log.WithError(err).Error("twin GET failed")
			return -1
		}
		d := bo.delay(attempt)
		s.log.WithError(err).WithField("retry_in", d).Warn("twin GET failed, retrying")
		select {
		case <-c.lost:
		case <-ctx.Done():
		case <-afterTimer(d):
		}
	}
	return -1
}

// UpdateReported sends a reported-properties patch (a JSON object; null
// deletes a key) and retries throttling, server errors, timeouts and
// disconnections until ctx is done. edgeHub answers 204 without $version.
func (s *Session) UpdateReported(ctx context.Context, doc []byte) error {
	if t := bytes.TrimSpace(doc); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return errors.New("update reported properties: document is not a JSON object")
	}
	bo := backoff{base: s.o.MinBackoff, max: s.o.MaxBackoff}
	for attempt := 0; ; attempt++ {
		c, err := s.waitConn(ctx)
		if err != nil {
			return fmt.Errorf("update reported properties: %w", err)
		}
		status, body, err := s.twinRequest(ctx, c, twinPatchTopic, doc)
		if err == nil && status/100 == 2 {
			s.m.twin.WithLabelValues("patch", "ok").Inc()
			return nil
		}
		s.m.twin.WithLabelValues("patch", "error").Inc()
		if err == nil {
			err = fmt.Errorf("edgeHub answered %d: %s", status, bytes.TrimSpace(body))
			if !retryableStatus(status) {
				return fmt.Errorf("update reported properties: %w", err)
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("update reported properties: %w (last error: %w)", ctx.Err(), err)
		}
		d := bo.delay(attempt)
		s.log.WithError(err).WithField("retry_in", d).Warn("reported properties update failed, retrying")
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("update reported properties: %w", err)
		}
	}
}

// twinRequest publishes one request with a fresh $rid and waits for the
// response on c, at most TwinTimeout.
func (s *Session) twinRequest(ctx context.Context, c *conn, topic string, body []byte) (int, []byte, error) {
	rid := strconv.FormatUint(s.rid.Add(1), 10)
	ch := make(chan twinResponse, 1)
	s.pendMu.Lock()
	s.pending[rid] = ch
	s.pendMu.Unlock()
	defer func() {
		s.pendMu.Lock()
		delete(s.pending, rid)
		s.pendMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, s.o.TwinTimeout)
	defer cancel()
	pt := c.client.Publish(topic+rid, 0, false, body)
	done := pt.Done()
	for {
		select {
		case r := <-ch:
			return r.status, r.body, nil
		case <-done:
			if err := pt.Error(); err != nil {
				return 0, nil, fmt.Errorf("publish twin request: %w", err)
			}
			done = nil
		case <-c.lost:
			return 0, nil, errors.New("connection lost before the twin response")
		case <-ctx.Done():
			return 0, nil, fmt.Errorf("twin request %s: %w", rid, ctx.Err())
		}
	}
}

func (s *Session) onTwinResponse(topic string, payload []byte) {
	seg, q := topicParams(topic, twinResPrefix)
	status, err := strconv.Atoi(seg)
	rid := q["$rid"]
	if err != nil || rid == "" {
		s.log.WithField("topic", topic).Warn("malformed twin response topic")
		return
	}
	s.pendMu.Lock()
	ch := s.pending[rid]
	s.pendMu.Unlock()
	if ch == nil {
		return // timed out or not ours
	}
	select {
	case ch <- twinResponse{status: status, body: payload}:
	default:
	}
}

func (s *Session) onDesired(topic string, payload []byte) {
	_, q := topicParams(topic, twinDesiredPrefix)
	v, err := strconv.ParseInt(q["$version"], 10, 64)
	if err != nil {
		var body struct {
			Version *int64 `json:"$version"`
		}
		if json.Unmarshal(payload, &body) == nil && body.Version != nil {
			v = *body.Version
		} else {
			v = -1
		}
	}
	s.twinQ.push(twinEvent{patch: payload, version: v})
}

func desiredVersion(twin []byte) (int64, error) {
	var t struct {
		Desired struct {
			Version *int64 `json:"$version"`
		} `json:"desired"`
	}
	if err := json.Unmarshal(twin, &t); err != nil {
		return -1, fmt.Errorf("parse twin: %w", err)
	}
	if t.Desired.Version == nil {
		return -1, errors.New("parse twin: desired.$version is missing")
	}
	return *t.Desired.Version, nil
}

func retryableStatus(status int) bool { return status == 429 || status >= 500 }
