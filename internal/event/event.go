// Package event holds the security-message model of Microsoft's v1.0
// schema: events, their payloads, and the message envelope.
package event

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Category is the schema's event category.
type Category string

// The categories the v1.0 schema allows. The retired agents also sent
// "Aggregated"; we never do (aggregation details go into ExtraDetails).
const (
	Periodic  Category = "Periodic"
	Triggered Category = "Triggered"
)

// Type is the schema's EventType.
type Type string

// Event types of the v1.0 schema.
const (
	Security    Type = "Security"
	Operational Type = "Operational"
	Diagnostic  Type = "Diagnostic"
)

// Priority selects the queue an event goes to; Off disables its collector.
type Priority uint8

// Priorities, ordered so that a larger value is more important.
const (
	Off Priority = iota
	Low
	High
)

func (p Priority) String() string {
	switch p {
	case Off:
		return "Off"
	case Low:
		return "Low"
	case High:
		return "High"
	}
	return fmt.Sprintf("Priority(%d)", uint8(p))
}

// ParsePriority accepts High, Low and Off in any letter case, as both
// retired agents did.
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(s) {
	case "off":
		return Off, nil
	case "low":
		return Low, nil
	case "high":
		return High, nil
	}
	return Off, fmt.Errorf("priority %q: want High, Low or Off", s)
}

// MarshalText writes the canonical casing.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses like ParsePriority.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// PayloadSchemaVersion is "1.0" for every event we send.
const PayloadSchemaVersion = "1.0"

// Event is one security, operational or diagnostic event. Payload holds
// pointers or values of the payload types in payload.go.
type Event struct {
	ID       string
	Time     time.Time
	Name     string
	Category Category
	Type     Type
	Payload  []any
}

// New returns an event of the named kind with a fresh id. It panics on an
// unknown name: names are constants of this package.
func New(name string, t time.Time, payload ...any) Event {
	k, ok := kinds[name]
	if !ok {
		panic("event: unknown event name " + name)
	}
	return Event{
		ID:       uuid.NewString(),
		Time:     t,
		Name:     name,
		Category: k.Category,
		Type:     k.Type,
		Payload:  payload,
	}
}

// IsEmpty reports whether the event carries no payload.
func (e Event) IsEmpty() bool { return len(e.Payload) == 0 }

// Timestamp layouts: the schema's own example forms, RFC 3339 with
// milliseconds, real offset for local time and Z for UTC.
const (
	LocalLayout = "2006-01-02T15:04:05.000-07:00"
	UTCLayout   = "2006-01-02T15:04:05.000Z"
)

type wireEvent struct {
	ID                   string   `json:"Id"`
	TimestampLocal       string   `json:"TimestampLocal"`
	TimestampUTC         string   `json:"TimestampUTC"`
	Category             Category `json:"Category"`
	Name                 string   `json:"Name"`
	EventType            Type     `json:"EventType"`
	IsEmpty              bool     `json:"IsEmpty"`
	PayloadSchemaVersion string   `json:"PayloadSchemaVersion"`
	Payload              []any    `json:"Payload"`
}

// MarshalJSON writes the event in the schema's shape. An empty payload is
// written as [] (never null).
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.wire()) }

func (e Event) wire() wireEvent {
	payload := e.Payload
	if payload == nil {
		payload = []any{}
	}
	return wireEvent{
		ID:                   e.ID,
		TimestampLocal:       e.Time.Local().Format(LocalLayout),
		TimestampUTC:         e.Time.UTC().Format(UTCLayout),
		Category:             e.Category,
		Name:                 e.Name,
		EventType:            e.Type,
		IsEmpty:              len(e.Payload) == 0,
		PayloadSchemaVersion: PayloadSchemaVersion,
		Payload:              payload,
	}
}

// ChangeKey is the ExtraDetails key that marks an item of an
// out-of-schedule snapshot as added or removed since the last one.
const ChangeKey = "Change"

// IsChange reports whether the event is an out-of-schedule snapshot that
// marks changes (a new listener, a firewall rule, a device). Such events
// go out with the next High-priority send whatever their configured
// priority, so an attacker's bind shell does not wait for the Low timer.
func (e Event) IsChange() bool {
	for _, item := range e.Payload {
		var details map[string]string
		switch p := item.(type) {
		case ListeningPort:
			details = p.ExtraDetails
		case *ListeningPort:
			details = p.ExtraDetails
		case FirewallRule:
			details = p.ExtraDetails
		case *FirewallRule:
			details = p.ExtraDetails
		case ConnectedHardware:
			details = p.ExtraDetails
		case *ConnectedHardware:
			details = p.ExtraDetails
		}
		if details[ChangeKey] != "" {
			return true
		}
	}
	return false
}
