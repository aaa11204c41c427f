package edgetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	mqtt "github.com/mochi-mqtt/server/v2"
)

// DefaultMethodTimeout is used by Invoke when ctx has no deadline (edgeHub's default).
const DefaultMethodTimeout = 30 * time.Second

type methodResult struct {
	status int
	body   []byte
}

// Invoke calls a direct method on the module like edgeHub does: it
// publishes $iothub/methods/POST/{method}/?$rid={uuid} (QoS 1) to the
// module's connection and waits for $iothub/methods/res/{status}/?$rid={uuid}.
//
// If the module is not connected or not subscribed to the method topic it
// returns 404 with a {"message":...} body and no error, as edgeHub does.
// If no response arrives before ctx ends (or DefaultMethodTimeout when ctx
// has no deadline) it returns an error wrapping the context error.
func (b *Broker) Invoke(ctx context.Context, method string, payload []byte) (int, []byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultMethodTimeout)
		defer cancel()
	}
	srv := b.server()
	if srv == nil {
		return 0, nil, ErrBrokerStopped
	}
	rid := uuid.NewString()
	topic := "$iothub/methods/POST/" + method + "/?$rid=" + rid
	id := b.ClientID()
	if !b.IsConnected(id) {
		return 404, mustJSON(map[string]string{"message": "module " + id + " is not connected"}), nil
	}
	if _, ok := srv.Topics.Subscribers(topic).Subscriptions[id]; !ok {
		return 404, mustJSON(map[string]string{"message": "module " + id + " is not subscribed to methods"}), nil
	}
	ch := make(chan methodResult, 1)
	b.mu.Lock()
	b.methods[rid] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.methods, rid)
		b.mu.Unlock()
	}()
	if err := b.publish(srv, id, topic, payload); err != nil {
		return 0, nil, err
	}
	select {
	case r := <-ch:
		return r.status, r.body, nil
	case <-ctx.Done():
		return 0, nil, fmt.Errorf("edgetest: method %s: no response: %w", method, ctx.Err())
	}
}

// onMethodResponse handles $iothub/methods/res/{status}/?$rid={rid}.
// Responses for unknown or expired rids are acknowledged and dropped.
func (b *Broker) onMethodResponse(_ *mqtt.Client, topic string, payload []byte) error {
	rest := strings.TrimPrefix(topic, "$iothub/methods/res/")
	st, _, _ := strings.Cut(rest, "/")
	status, err := strconv.Atoi(st)
	rid := ridOf(topic)
	if err != nil || rid == "" {
		return fmt.Errorf("malformed method response topic %q", topic)
	}
	b.mu.Lock()
	ch := b.methods[rid]
	b.mu.Unlock()
	if ch != nil {
		select {
		case ch <- methodResult{status: status, body: append([]byte(nil), payload...)}:
		default:
		}
	}
	return nil
}
