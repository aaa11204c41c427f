package edgetest

import (
	"context"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Captured is one telemetry message accepted (and PUBACKed) by the broker.
type Captured struct {
	ClientID    string
	Topic       string            // exactly as received
	Bag         string            // raw property-bag segment ("" if none)
	Properties  []Property        // decoded bag, in order
	SystemProps map[string]string // "$.ifid" -> value, ... (SystemPropertyKeys)
	AppProps    []Property        // the rest, in order
	Body        []byte
	QoS         byte
	Dup         bool // DUP flag (a resend after reconnect)
	Time        time.Time
}

// App returns the value of application property key.
func (c Captured) App(key string) (string, bool) {
	for _, p := range c.AppProps {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Rejected is a publish the broker refused; the client was disconnected.
type Rejected struct {
	ClientID string
	Topic    string
	Reason   string
	Time     time.Time
}

// onTelemetry handles devices/{d}/modules/{m}/messages/events[/{bag}][/].
// It is stricter than edgeHub in one way: a topic that matches none of
// edgeHub's inbound templates, or names another identity, is rejected.
func (b *Broker) onTelemetry(cl *mqtt.Client, pk packets.Packet) error {
	seg := strings.Split(pk.TopicName, "/")
	if len(seg) < 6 || seg[0] != "devices" || seg[2] != "modules" || seg[4] != "messages" || seg[5] != "events" {
		return fmt.Errorf("topic %q matches no edgeHub template", pk.TopicName)
	}
	var bag string
	switch {
	case len(seg) == 6:
	case len(seg) == 7:
		bag = seg[6]
	case len(seg) == 8 && seg[7] == "":
		bag = seg[6]
	default:
		return fmt.Errorf("topic %q matches no edgeHub template (extra segments)", pk.TopicName)
	}
	if seg[1]+"/"+seg[3] != cl.ID {
		return fmt.Errorf("topic identity %s/%s is not the connected client %s", seg[1], seg[3], cl.ID)
	}
	var props []Property
	if strings.TrimSpace(bag) != "" {
		var err error
		if props, err = ParsePropertyBag(bag); err != nil {
			return err
		}
	}
	sys, app := splitProperties(props)
	c := Captured{ClientID: cl.ID, Topic: pk.TopicName, Bag: bag, Properties: props, SystemProps: sys,
		AppProps: app, Body: append([]byte(nil), pk.Payload...), QoS: pk.FixedHeader.Qos,
		Dup: pk.FixedHeader.Dup, Time: b.now()}
	b.mu.Lock()
	b.messages = append(b.messages, c)
	b.notifyLocked()
	b.mu.Unlock()
	b.log.WithField("topic", pk.TopicName).WithField("bytes", len(pk.Payload)).Debug("telemetry captured")
	return nil
}

func (b *Broker) reject(clientID, topic, reason string) {
	b.log.WithField("client", clientID).WithField("topic", topic).Debug("rejected: " + reason)
	b.mu.Lock()
	b.rejected = append(b.rejected, Rejected{ClientID: clientID, Topic: topic, Reason: reason, Time: b.now()})
	b.notifyLocked()
	b.mu.Unlock()
}

// Messages returns the captured telemetry, oldest first.
func (b *Broker) Messages() []Captured {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Captured(nil), b.messages...)
}

// WaitMessages waits until at least n messages were captured and returns them all.
func (b *Broker) WaitMessages(ctx context.Context, n int) ([]Captured, error) {
	err := b.waitFor(ctx, func() bool { return len(b.messages) >= n })
	return b.Messages(), err
}

// Rejections returns refused publishes, oldest first.
func (b *Broker) Rejections() []Rejected {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Rejected(nil), b.rejected...)
}

// WaitRejections waits until at least n publishes were refused.
func (b *Broker) WaitRejections(ctx context.Context, n int) ([]Rejected, error) {
	err := b.waitFor(ctx, func() bool { return len(b.rejected) >= n })
	return b.Rejections(), err
}

// ResetMessages forgets captured telemetry and rejections.
func (b *Broker) ResetMessages() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.messages, b.rejected = nil, nil
}
