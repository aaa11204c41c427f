package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ErrMalformed marks input that is not a JSON object at all; nothing of
// it was applied.
var ErrMalformed = errors.New("malformed desired properties")

// maxDocumentSize bounds what is parsed or read back from disk. IoT Hub
// allows 32 KB of desired properties, so 1 MiB is generous.
const maxDocumentSize = 1 << 20

// objects are the desired objects the store keeps; other modules' keys
// and $metadata are dropped.
var objects = []string{ObjectName, ModuleObjectName}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(b []byte) (map[string]any, error) {
	if len(b) > maxDocumentSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), maxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: null instead of an object", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return m, nil
}

// desiredSection steps into "properties" and "desired" when given a whole
// twin (as the twin GET and the schema's default file have it) rather
// than its desired section.
func desiredSection(m map[string]any) map[string]any {
	for _, name := range []string{"properties", "desired"} {
		if _, ok := m["$version"]; ok {
			return m
		}
		for _, o := range objects {
			if _, ok := m[o]; ok {
				return m
			}
		}
		if inner, ok := m[name].(map[string]any); ok {
			m = inner
		}
	}
	return m
}

// version reads $version; -1 when absent or not an integer.
func version(m map[string]any) int64 { return parseVersion(m["$version"]) }

func parseVersion(v any) int64 {
	if n, ok := v.(json.Number); ok {
		if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return v
		}
	}
	return -1
}

// mergePatch applies an RFC 7386 JSON merge patch: objects merge member by
// member, null deletes, anything else replaces. target is not modified.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, _ := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = mergePatch(out[k], v)
		}
	}
	return out
}

// evaluate computes the effective configuration of doc. A key that is
// absent takes its default; a key that fails keeps good[name], its last
// good value. It returns the new good values: what each key parsed to
// before the cross-key rules, so a later error falls back to what the
// operator asked for rather than to an adjustment.
func evaluate(doc map[string]any, good map[string]any) (Config, map[string]any, []KeyError) {
	var cfg Config
	next := make(map[string]any, len(registry))
	var errs []KeyError
	for _, o := range objects {
		obj, isObj := doc[o].(map[string]any)
		if doc[o] != nil && !isObj {
			errs = append(errs, KeyError{Key: o, Type: TypeMismatch,
				Message: fmt.Sprintf("Couldn't parse the following configuration: %s: want an object, got %s", o, jsonType(doc[o]))})
		}
		for _, k := range registry {
			if k.object != o {
				continue
			}
			v, kerr := k.value(obj, isObj || doc[o] == nil, good)
			if kerr != nil {
				kerr.Used = formatValue(v)
				errs = append(errs, *kerr)
			}
			next[k.name] = v
			k.set(&cfg, v)
		}
		if o == ModuleObjectName {
			errs = append(errs, unknownKeys(o, obj)...)
		}
	}
	errs = append(errs, crossCheck(&cfg)...)
	return cfg, next, errs
}

// unknownKeys reports keys of our own object that no registry entry
// knows, as a typo there would otherwise pass silently. Unknown keys of
// Microsoft's object are ignored, as the agents did: the service may add
// keys there.
func unknownKeys(object string, obj map[string]any) []KeyError {
	var errs []KeyError
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if _, ok := lookupKey(object, name); !ok && !strings.HasPrefix(name, "$") {
			errs = append(errs, KeyError{Key: name, Type: TypeMismatch,
				Message: fmt.Sprintf("Couldn't parse the following configuration: %s: unknown key in %s, ignored", name, object)})
		}
	}
	return errs
}

// value is one key's effective value in obj. When the object itself is
// unusable (usable false) every key keeps its last good value.
func (k key) value(obj map[string]any, usable bool, good map[string]any) (any, *KeyError) {
	last, ok := good[k.name]
	if !ok {
		last = k.def
	}
	if !usable {
		return last, nil
	}
	raw, err := k.unwrap(obj[k.name])
	if errors.Is(err, errAbsent) {
		return k.def, nil
	}
	if err != nil {
		return last, k.mismatch(err)
	}
	v, kerr := k.parse(raw)
	if kerr != nil && kerr.Type == TypeMismatch {
		return last, kerr
	}
	return v, kerr
}
