package edgehub

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

// MaxPacketSize is edgeHub's MaxInboundMessageSize (256 KiB): the largest
// PUBLISH remaining length, i.e. 2 + topic + 2 (packet id) + body.
const MaxPacketSize = 256 * 1024

// ErrMessageTooLarge is wrapped by Send for a message edgeHub would refuse.
var ErrMessageTooLarge = fmt.Errorf("message too large for edgeHub: %w", sink.ErrRejected)

// ErrInvalidMessage is wrapped by Send for a message that cannot be encoded.
var ErrInvalidMessage = fmt.Errorf("invalid message: %w", sink.ErrRejected)

var _ sink.Sink = (*Session)(nil)

// Send publishes m at QoS 1 and returns nil only after edgeHub's PUBACK.
// While disconnected it waits for the session to reconnect, and a publish
// cut off by a disconnection is sent again on the next connection (same
// $.mid), so a caller sending one message at a time keeps its order. It
// returns an error, without publishing, for a message too large or not
// encodable, and ctx's error when ctx ends first.
func (s *Session) Send(ctx context.Context, m sink.Message) error {
	if err := checkMessage(m); err != nil {
		s.m.rejected.WithLabelValues("invalid").Inc()
		return fmt.Errorf("send message %q: %w", m.ID, err)
	}
	topic := EventsTopic(s.id.DeviceID, s.id.ModuleID, m, s.outputName())
	if n := 2 + len(topic) + 2 + len(m.Body); n > MaxPacketSize {
		s.m.rejected.WithLabelValues("too_large").Inc()
		return fmt.Errorf("send message %q: %w: %d bytes of topic and body, limit %d", m.ID, ErrMessageTooLarge, n-4, MaxPacketSize-4)
	}
	s.m.inflight.Inc()
	defer s.m.inflight.Dec()
	start := time.Now()
	for {
		c, err := s.waitConn(ctx)
		if err != nil {
			return fmt.Errorf("send message %q: %w", m.ID, err)
		}
		err = wait(ctx, c.client.Publish(topic, 1, false, m.Body))
		if err == nil {
			s.m.sent.Inc()
			s.m.publishLatency.Observe(time.Since(start).Seconds())
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("send message %q: %w", m.ID, ctx.Err())
		}
		s.log.WithError(err).WithField("message_id", m.ID).Debug("publish not acknowledged; sending again")
		select { // let a broken connection be noticed before retrying
		case <-c.lost:
		case <-afterTimer(s.o.MinBackoff):
		case <-ctx.Done():
			return fmt.Errorf("send message %q: %w", m.ID, ctx.Err())
		}
	}
}

// checkMessage refuses what the topic encoding cannot carry faithfully.
func checkMessage(m sink.Message) error {
	sys := map[string]bool{}
	for _, p := range systemProperties(m, "") {
		sys[p.Key] = true
	}
	for _, v := range []string{m.ID, m.ContentType, m.ContentEncoding, m.InterfaceID} {
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w: system property is not valid UTF-8", ErrInvalidMessage)
		}
	}
	seen := map[string]bool{}
	for _, p := range m.Properties {
		switch {
		case p.Key == "":
			return fmt.Errorf("%w: empty property key", ErrInvalidMessage)
		case !utf8.ValidString(p.Key) || !utf8.ValidString(p.Value):
			return fmt.Errorf("%w: property %q is not valid UTF-8", ErrInvalidMessage, p.Key)
		case seen[p.Key] || sys[p.Key] || p.Key == propOutputName:
			return fmt.Errorf("%w: property %q is set twice", ErrInvalidMessage, p.Key)
		}
		seen[p.Key] = true
	}
	return nil
}
