package edgetest

import (
	"bytes"
	"context"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// hook is the edgeHub behaviour attached to one mochi server instance.
type hook struct {
	mqtt.HookBase
	b   *Broker
	srv *mqtt.Server
}

func (h *hook) ID() string { return "edgetest-edgehub" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSessionEstablished,
		mqtt.OnDisconnect, mqtt.OnPublish, mqtt.OnPacketRead, mqtt.OnSubscribed, mqtt.OnUnsubscribed,
	}, []byte{b})
}

// OnACLCheck: writes are always allowed (topics are checked in OnPublish).
// For deliveries, a targeted harness publish reaches only its target, and
// nothing is queued for a disconnected (persistent) session.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write {
		return true
	}
	if r := h.b.route.Load(); r != nil && *r == topic {
		if t := h.b.target.Load(); t != nil && *t != cl.ID {
			return false
		}
	}
	if strings.HasPrefix(topic, "$iothub/") && cl.Closed() {
		return false
	}
	return true
}

// OnPacketRead records publishes that mochi is about to reject as protocol
// violations (wildcards in the topic), then lets mochi drop the client.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type == packets.Publish && strings.ContainsAny(pk.TopicName, "+#") {
		h.b.reject(cl.ID, pk.TopicName, "wildcard in PUBLISH topic (protocol violation)")
	}
	return pk, nil
}

func (h *hook) OnSubscribed(*mqtt.Client, packets.Packet, []byte) { h.b.touch() }
func (h *hook) OnUnsubscribed(*mqtt.Client, packets.Packet)       { h.b.touch() }

// OnPublish dispatches client publishes by topic. Handled $iothub requests
// are acknowledged but not forwarded to other subscribers.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	t := pk.TopicName
	var err error
	switch {
	case strings.HasPrefix(t, "devices/"):
		err = h.b.onTelemetry(cl, pk)
		if err == nil {
			return pk, packets.CodeSuccessIgnore
		}
	case strings.HasPrefix(t, "$iothub/twin/GET/"):
		err = h.b.onTwinGet(h.srv, cl, t)
	case strings.HasPrefix(t, "$iothub/twin/PATCH/properties/reported/"):
		err = h.b.onReportedPatch(h.srv, cl, t, pk.Payload)
	case strings.HasPrefix(t, "$iothub/methods/res/"):
		err = h.b.onMethodResponse(cl, t, pk.Payload)
	default:
		return pk, nil
	}
	if err != nil {
		h.b.reject(cl.ID, t, err.Error())
		cl.Stop(err)
		return pk, packets.ErrRejectPacket
	}
	return pk, packets.CodeSuccessIgnore
}

// touch wakes waiters after a change that has no state of its own.
func (b *Broker) touch() {
	b.mu.Lock()
	b.notifyLocked()
	b.mu.Unlock()
}

// Subscriptions returns the topic filters clientID is subscribed to now.
func (b *Broker) Subscriptions(clientID string) []string {
	b.mu.Lock()
	s := b.sessions[clientID]
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	var out []string
	for f := range s.cl.State.Subscriptions.GetAll() {
		out = append(out, f)
	}
	return out
}

// WaitSubscribed waits until clientID is connected and subscribed with
// exactly the topic filter (e.g. "$iothub/twin/PATCH/properties/desired/#").
func (b *Broker) WaitSubscribed(ctx context.Context, clientID, filter string) error {
	return b.waitFor(ctx, func() bool {
		s := b.sessions[clientID]
		if s == nil || !s.established || s.cl.Closed() {
			return false
		}
		_, ok := s.cl.State.Subscriptions.Get(filter)
		return ok
	})
}

// ridOf extracts $rid from "...?$rid=X[&...]".
func ridOf(topic string) string {
	_, q, ok := strings.Cut(topic, "?")
	if !ok {
		return ""
	}
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "$rid" {
			return v
		}
	}
	return ""
}
