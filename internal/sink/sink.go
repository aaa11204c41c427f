// Package sink defines the finished security message handed to a
// transport, and the local sink that prints messages when the module runs
// outside IoT Edge.
package sink

import (
	"context"
	"errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// InterfaceID marks a message as a security message for IoT Hub ($.ifid).
const InterfaceID = "urn:azureiot:Security:SecurityAgent:1"

// Property is one application property; order is kept on the wire.
type Property struct {
	Key, Value string
}

// Message is one serialised security message and its properties.
type Message struct {
	// ID is unique per message and kept across retries ($.mid), so
	// consumers can de-duplicate an at-least-once delivery.
	ID              string
	Body            []byte
	ContentType     string // $.ct
	ContentEncoding string // $.ce
	InterfaceID     string // $.ifid
	// Priority is the queue whose timer or size triggered the send.
	Priority event.Priority
	// Properties are application properties: MessagePriority, HubResourceId.
	Properties []Property
	// Events is how many events the body holds (for statistics).
	Events int
}

// ErrRejected is wrapped by a Sink for a message it will never deliver
// (too large, not encodable): retrying it would block every message
// behind it, so the caller drops it and counts the loss.
var ErrRejected = errors.New("message rejected by the sink")

// Sink delivers messages. Send returns nil only once the message is
// delivered (for edgeHub: after PUBACK); on error the caller keeps the
// message and retries it, in order.
type Sink interface {
	Send(ctx context.Context, m Message) error
}
