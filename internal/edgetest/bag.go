package edgetest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Property is one decoded key/value pair of a telemetry property bag.
// NoValue is set for a key without '=' (or with an empty value), which .NET
// stores as a null value.
type Property struct {
	Key, Value string
	NoValue    bool
}

// SystemPropertyKeys are the on-the-wire system property names edgeHub maps
// (SystemProperties.OnTheWireSystemPropertyNames); every other key is an
// application property.
var SystemPropertyKeys = map[string]string{
	"$.mid":    "messageId",
	"$.cid":    "correlationId",
	"$.uid":    "userId",
	"$.to":     "to",
	"$.exp":    "absolute-expiry-time",
	"$.ct":     "contentType",
	"$.ce":     "contentEncoding",
	"$.ctime":  "creationTime",
	"$.on":     "outputName",
	"$.ifid":   "iothub-interface-id",
	"$.sub":    "dt-subject",
	"$.schema": "messageSchema",
}

// ErrPropertyBag is wrapped by every ParsePropertyBag error.
var ErrPropertyBag = errors.New("malformed property bag")

// ParsePropertyBag is a port of the .NET UrlEncodedDictionarySerializer.Deserialize
// tokenizer that edgeHub uses on the {params} segment of a telemetry topic:
//   - pairs are separated by '&', key and value by '=';
//   - keys and values are decoded with Uri.UnescapeDataString semantics
//     (see UnescapeDataString: '+' stays '+');
//   - an unescaped '/' ends the bag (the rest is ignored);
//   - '=' inside a value, a key starting with '=' or '&', and a trailing
//     '&' are errors;
//   - a repeated key overwrites the earlier value but keeps its position
//     (Dictionary semantics).
//
// The result is in first-occurrence order.
func ParsePropertyBag(bag string) ([]Property, error) {
	var out []Property
	idx := map[string]int{}
	put := func(key string, raw string, hasVal bool) {
		p := Property{Key: UnescapeDataString(key)}
		if hasVal && raw != "" {
			p.Value = UnescapeDataString(raw)
		} else {
			p.NoValue = true
		}
		if i, ok := idx[p.Key]; ok {
			out[i] = p
			return
		}
		idx[p.Key] = len(out)
		out = append(out, p)
	}
	const (
		readyKey = iota
		inKey
		inValue
	)
	state, start := readyKey, 0
	var key string
	for i := 0; i <= len(bag); i++ {
		end := i == len(bag)
		var c byte
		if !end {
			c = bag[i]
		}
		switch state {
		case readyKey:
			switch {
			case end:
				if i == 0 {
					return out, nil // empty bag
				}
				return out, fmt.Errorf("%w: unexpected end after '&'", ErrPropertyBag)
			case c == '=' || c == '&':
				return out, fmt.Errorf("%w: unexpected %q at %d", ErrPropertyBag, c, i)
			case c == '/':
				return out, nil
			default:
				state, start = inKey, i
			}
		case inKey:
			switch {
			case end || c == '/':
				put(bag[start:i], "", false)
				return out, nil
			case c == '=':
				key, state, start = bag[start:i], inValue, i+1
			case c == '&':
				put(bag[start:i], "", false)
				state = readyKey
			}
		case inValue:
			switch {
			case end || c == '/':
				put(key, bag[start:i], true)
				return out, nil
			case c == '=':
				return out, fmt.Errorf("%w: unexpected '=' in value at %d", ErrPropertyBag, i)
			case c == '&':
				put(key, bag[start:i], true)
				state = readyKey
			}
		}
	}
	return out, nil
}

// UnescapeDataString mirrors .NET Uri.UnescapeDataString: every valid %XX is
// decoded; runs of escaped bytes are decoded as UTF-8, and bytes that do not
// form valid UTF-8 stay in their escaped form; an invalid escape ("%zz",
// trailing "%") is kept literally; '+' is NOT turned into a space.
func UnescapeDataString(s string) string { return unescapeDataString(s) }

func unescapeDataString(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isEscape(s, i) {
			b.WriteByte(s[i])
			i++
			continue
		}
		var run []byte
		j := i
		for isEscape(s, j) {
			run = append(run, unhex(s[j+1])<<4|unhex(s[j+2]))
			j += 3
		}
		for k := 0; k < len(run); {
			if run[k] < utf8.RuneSelf {
				b.WriteByte(run[k])
				k++
				continue
			}
			r, n := utf8.DecodeRune(run[k:])
			if r == utf8.RuneError && n <= 1 {
				b.WriteString(s[i+3*k : i+3*k+3]) // keep the original escape
				k++
				continue
			}
			b.Write(run[k : k+n])
			k += n
		}
		i = j
	}
	return b.String()
}

func isEscape(s string, i int) bool {
	return i+2 < len(s) && s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitProperties separates system properties (SystemPropertyKeys) from
// application properties.
func splitProperties(props []Property) (sys map[string]string, app []Property) {
	sys = map[string]string{}
	for _, p := range props {
		if _, ok := SystemPropertyKeys[p.Key]; ok {
			sys[p.Key] = p.Value
			continue
		}
		app = append(app, p)
	}
	return sys, app
}
