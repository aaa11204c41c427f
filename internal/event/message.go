package event

import (
	"encoding/json"
	"fmt"
	"slices"
)

// MessageSchemaVersion is the only envelope version of the schema.
const MessageSchemaVersion = "1.0"

// Envelope identifies the agent in every message.
type Envelope struct {
	AgentVersion string
	AgentID      string
}

// prefix is the serialised envelope up to the opening bracket of Events.
func (e Envelope) prefix() []byte {
	v, _ := json.Marshal(e.AgentVersion) // strings always marshal
	id, _ := json.Marshal(e.AgentID)
	b := make([]byte, 0, 96+len(v)+len(id))
	b = append(b, `{"AgentVersion":`...)
	b = append(b, v...)
	b = append(b, `,"AgentId":`...)
	b = append(b, id...)
	b = append(b, `,"MessageSchemaVersion":"1.0","Events":[`...)
	return b
}

const suffix = "]}"

// Overhead is the number of bytes a message with no events would take;
// each further event adds its encoded length plus one comma (none for the
// first).
func (e Envelope) Overhead() int { return len(e.prefix()) + len(suffix) }

// MessageSize is the exact UTF-8 size of a message holding events whose
// encodings have the given total length.
func (e Envelope) MessageSize(count, eventBytes int) int {
	if count == 0 {
		return e.Overhead()
	}
	return e.Overhead() + eventBytes + count - 1
}

// Encode serialises one event. The result is what the queue holds, so an
// event is serialised once however often its size is asked for.
func Encode(ev Event) ([]byte, error) {
	// Marshal the wire form directly: going through MarshalJSON would
	// make encoding/json re-scan and compact the output.
	b, err := json.Marshal(ev.wire())
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.Name, err)
	}
	return b, nil
}

// AppendMessage writes the envelope around already encoded events.
func (e Envelope) AppendMessage(dst []byte, events [][]byte) []byte {
	n := 0
	for _, ev := range events {
		n += len(ev) + 1
	}
	prefix := e.prefix()
	dst = slices.Grow(dst, len(prefix)+n+len(suffix))
	dst = append(dst, prefix...)
	for i, ev := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, ev...)
	}
	return append(dst, suffix...)
}
