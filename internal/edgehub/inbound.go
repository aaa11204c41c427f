package edgehub

import (
	"context"
	"fmt"
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Topics of edgeHub's twin and method flows (edge-contract.md §2.3, §2.4).
const (
	twinResPrefix     = "$iothub/twin/res/"
	twinDesiredPrefix = "$iothub/twin/PATCH/properties/desired/"
	twinGetTopic      = "$iothub/twin/GET/?$rid="
	twinPatchTopic    = "$iothub/twin/PATCH/properties/reported/?$rid="
	methodsPrefix     = "$iothub/methods/POST/"
	methodResPrefix   = "$iothub/methods/res/"
)

// subscribe subscribes to twin responses, desired patches and method
// requests in one SUBSCRIBE, so twin responses are routed before any GET.
func (s *Session) subscribe(ctx context.Context, c *conn) error {
	filters := map[string]byte{
		twinResPrefix + "#":     1,
		twinDesiredPrefix + "#": 1,
		methodsPrefix + "#":     1,
	}
	t := c.client.SubscribeMultiple(filters, func(_ mqtt.Client, m mqtt.Message) { s.onMessage(c, m) })
	if err := wait(ctx, t); err != nil {
		return fmt.Errorf("mqtt subscribe: %w", err)
	}
	st, ok := t.(*mqtt.SubscribeToken)
	if !ok {
		return nil
	}
	for topic, qos := range st.Result() {
		if qos == 0x80 {
			return fmt.Errorf("mqtt subscribe: edgeHub refused %s", topic)
		}
	}
	return nil
}

// onMessage runs on a paho goroutine: it only parses and hands off.
func (s *Session) onMessage(c *conn, m mqtt.Message) {
	topic := m.Topic()
	payload := append([]byte(nil), m.Payload()...)
	switch {
	case strings.HasPrefix(topic, twinResPrefix):
		s.onTwinResponse(topic, payload)
	case strings.HasPrefix(topic, twinDesiredPrefix):
		s.onDesired(topic, payload)
	case strings.HasPrefix(topic, methodsPrefix):
		s.onMethod(c, topic, payload)
	default:
		s.log.WithField("topic", topic).Debug("ignoring message on unexpected topic")
	}
}

// topicParams splits "{prefix}{segment}/?k=v&k=v" into the segment and
// the raw (still encoded) parameter values: a $rid is echoed back exactly.
func topicParams(topic, prefix string) (string, map[string]string) {
	rest := strings.TrimPrefix(topic, prefix)
	seg, query, _ := strings.Cut(rest, "/")
	params := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(query, "?"), "&") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			params[k] = v
		}
	}
	return seg, params
}
