package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Message is a decoded security message.
type Message struct {
	AgentVersion string
	AgentID      string
	Events       []Event
}

// ErrInvalid wraps every reason a message is rejected.
var ErrInvalid = errors.New("invalid security message")

// maxDecodeBytes bounds what DecodeMessage accepts: IoT Hub's limit.
const maxDecodeBytes = 256 * 1024

var (
	envelopeKeys = []string{"AgentVersion", "AgentId", "MessageSchemaVersion", "Events"}
	eventKeys    = []string{"Id", "TimestampLocal", "TimestampUTC", "Category", "Name", "EventType", "IsEmpty", "PayloadSchemaVersion", "Payload"}
	// enums lists payload fields whose values the schema restricts.
	enums = map[string][]string{
		"Direction": {"In", "Out"},
		"Result":    nil, // per kind, below
		"Action":    {"Allow", "Deny", "Other"},
		"Queue":     {"High", "Low"},
		"ErrorType": {"TypeMismatch", "NotOptimal", "Conflict"},
	}
	kindEnums = map[string]map[string][]string{
		NameLogin:      {"Result": {"Fail", "Success"}},
		NameOSBaseline: {"Result": {"Pass", "Fail", "Err"}, "Severity": {"Critical", "Important", "Warning", "Informational"}},
		NameDiagnostic: {"Severity": {"Fatal", "Error", "Warning", "Information", "Debug"}},
	}
	ipFields = map[string]bool{"RemoteAddress": true, "LocalAddress": true}
)

// DecodeMessage parses and checks a security message as strictly as the
// v1.0 schema: unknown keys, missing required keys, wrong JSON types,
// enum violations and category/emptiness mismatches are all errors.
func DecodeMessage(data []byte) (*Message, error) {
	if len(data) > maxDecodeBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalid, len(data), maxDecodeBytes)
	}
	obj, err := object(data, envelopeKeys, envelopeKeys)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrInvalid, err)
	}
	var m Message
	var schemaVersion string
	var rawEvents []json.RawMessage
	if err := firstErr(
		strict(obj["AgentVersion"], &m.AgentVersion),
		strict(obj["AgentId"], &m.AgentID),
		strict(obj["MessageSchemaVersion"], &schemaVersion),
		strict(obj["Events"], &rawEvents),
	); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrInvalid, err)
	}
	if len(m.AgentID) != 36 {
		return nil, fmt.Errorf("%w: AgentId %q is not 36 characters", ErrInvalid, m.AgentID)
	}
	if schemaVersion != MessageSchemaVersion {
		return nil, fmt.Errorf("%w: MessageSchemaVersion %q", ErrInvalid, schemaVersion)
	}
	if len(rawEvents) == 0 {
		return nil, fmt.Errorf("%w: Events is empty", ErrInvalid)
	}
	for i, raw := range rawEvents {
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrInvalid, i, err)
		}
		m.Events = append(m.Events, ev)
	}
	return &m, nil
}

func decodeEvent(raw []byte) (Event, error) {
	obj, err := object(raw, eventKeys, eventKeys)
	if err != nil {
		return Event{}, err
	}
	var (
		ev              Event
		local, utc, psv string
		isEmpty         bool
		rawPayload      []json.RawMessage
	)
	if err := firstErr(
		strict(obj["Id"], &ev.ID),
		strict(obj["TimestampLocal"], &local),
		strict(obj["TimestampUTC"], &utc),
		strict(obj["Category"], &ev.Category),
		strict(obj["Name"], &ev.Name),
		strict(obj["EventType"], &ev.Type),
		strict(obj["IsEmpty"], &isEmpty),
		strict(obj["PayloadSchemaVersion"], &psv),
		strict(obj["Payload"], &rawPayload),
	); err != nil {
		return Event{}, err
	}
	if len(ev.ID) != 36 {
		return Event{}, fmt.Errorf("Id %q is not 36 characters", ev.ID)
	}
	if _, err := parseTime(local); err != nil {
		return Event{}, fmt.Errorf("TimestampLocal: %w", err)
	}
	t, err := parseTime(utc)
	if err != nil {
		return Event{}, fmt.Errorf("TimestampUTC: %w", err)
	}
	ev.Time = t
	k, ok := kinds[ev.Name]
	if !ok {
		return Event{}, fmt.Errorf("unknown event Name %q", ev.Name)
	}
	if ev.Category != k.Category || ev.Type != k.Type || psv != PayloadSchemaVersion {
		return Event{}, fmt.Errorf("%s: Category/EventType/PayloadSchemaVersion %s/%s/%s, want %s/%s/%s",
			ev.Name, ev.Category, ev.Type, psv, k.Category, k.Type, PayloadSchemaVersion)
	}
	if isEmpty != (len(rawPayload) == 0) {
		return Event{}, fmt.Errorf("%s: IsEmpty %v with %d payload items", ev.Name, isEmpty, len(rawPayload))
	}
	if isEmpty && ev.Category == Triggered {
		return Event{}, fmt.Errorf("%s: a Triggered event cannot be empty", ev.Name)
	}
	for i, item := range rawPayload {
		p, err := decodeItem(k, item)
		if err != nil {
			return Event{}, fmt.Errorf("%s payload %d: %w", ev.Name, i, err)
		}
		ev.Payload = append(ev.Payload, p)
	}
	return ev, nil
}

func decodeItem(k Kind, raw []byte) (any, error) {
	obj, err := object(raw, nil, k.required)
	if err != nil {
		return nil, err
	}
	if len(k.anyOf) > 0 && !slices.ContainsFunc(k.anyOf, func(key string) bool { _, ok := obj[key]; return ok }) {
		return nil, fmt.Errorf("needs one of %v", k.anyOf)
	}
	for key, v := range obj {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, fmt.Errorf("%s: null value", key)
		}
		allowed := enums[key]
		if ke, ok := kindEnums[k.Name][key]; ok {
			allowed = ke
		}
		var s string
		if allowed != nil || ipFields[key] {
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
		if allowed != nil && !slices.Contains(allowed, s) {
			return nil, fmt.Errorf("%s %q: want one of %v", key, s, allowed)
		}
		if ipFields[key] {
			if _, err := netip.ParseAddr(s); err != nil {
				return nil, fmt.Errorf("%s %q is not an IP address", key, s)
			}
		}
	}
	item := k.newItem()
	if err := strict(raw, item); err != nil {
		return nil, err
	}
	return item, nil
}

// object decodes a JSON object, rejecting keys outside allowed (nil allows
// any; the typed decode rejects unknown payload keys) and missing required.
func object(raw []byte, allowed, required []string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("not a JSON object: null")
	}
	for key := range obj {
		if allowed != nil && !slices.Contains(allowed, key) {
			return nil, fmt.Errorf("unknown key %q", key)
		}
	}
	for _, key := range required {
		if _, ok := obj[key]; !ok {
			return nil, fmt.Errorf("missing required key %q", key)
		}
	}
	return obj, nil
}

// strict decodes with unknown fields forbidden and null refused.
func strict(raw []byte, v any) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errors.New("null value")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parseTime accepts RFC 3339, including the space separator that section
// 5.6 allows and that Microsoft's own samples use.
func parseTime(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	return time.Parse(time.RFC3339Nano, s)
}
