package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// errAbsent says a key is not set, so it takes its default.
var errAbsent = errors.New("absent")

// unwrap returns the value of a key as it appears in its object: inside
// {"value": …} for ObjectName, plain for ModuleObjectName. An empty
// wrapper or a null value counts as absent: that is what the twin holds
// after someone sets "value" to null.
func (k key) unwrap(raw any) (any, error) {
	if raw == nil {
		return nil, errAbsent
	}
	if k.object != ObjectName {
		return raw, nil
	}
	w, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want {\"value\": …}, got %s", jsonType(raw))
	}
	v, ok := w["value"]
	if !ok && len(w) > 0 {
		return nil, errors.New("want {\"value\": …}, the \"value\" member is missing")
	}
	if v == nil {
		return nil, errAbsent
	}
	return v, nil
}

// parse converts a JSON value (decoded with UseNumber) to the key's Go
// type. An out-of-range value is clamped and returned with a NotOptimal
// error; a value that cannot be used is a TypeMismatch error.
func (k key) parse(v any) (any, *KeyError) {
	switch k.kind {
	case kindDuration:
		s, ok := v.(string)
		if !ok {
			return nil, k.mismatch(fmt.Errorf("want an ISO 8601 duration string, got %s", jsonType(v)))
		}
		d, err := ParseDuration(s)
		if errors.Is(err, errTooLong) {
			d = MaxDuration + 1 // a well-formed duration, only too long: clamp it
		} else if err != nil {
			return nil, k.mismatch(err)
		}
		return k.clamp(int64(d), s)
	case kindInt:
		num, ok := v.(json.Number)
		if !ok {
			return nil, k.mismatch(fmt.Errorf("want an integer, got %s", jsonType(v)))
		}
		n, err := parseInt(num)
		if err != nil {
			return nil, k.mismatch(err)
		}
		return k.clamp(n, string(num))
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, k.mismatch(fmt.Errorf("want true or false, got %s", jsonType(v)))
		}
		return b, nil
	case kindPriority:
		s, ok := v.(string)
		if !ok {
			return nil, k.mismatch(fmt.Errorf("want High, Low or Off, got %s", jsonType(v)))
		}
		p, err := event.ParsePriority(s)
		if err != nil {
			return nil, k.mismatch(err)
		}
		return p, nil
	default:
		s, ok := v.(string)
		if !ok {
			return nil, k.mismatch(fmt.Errorf("want a string, got %s", jsonType(v)))
		}
		return k.parseString(s)
	}
}

func (k key) parseString(s string) (any, *KeyError) {
	if k.enum != nil {
		l := strings.ToLower(s)
		if to, ok := k.aliases[l]; ok {
			return to, nil
		}
		for _, e := range k.enum {
			if strings.ToLower(e) == l {
				return e, nil
			}
		}
		return nil, k.mismatch(fmt.Errorf("%q is not one of %s", s, strings.Join(k.enum, ", ")))
	}
	if k.check != nil {
		if err := k.check(s); err != nil {
			return nil, k.mismatch(err)
		}
	}
	return s, nil
}

// parseInt accepts any JSON number with an integral value ("8192",
// "8192.0", "1e4"); huge magnitudes saturate so that clamping reports them
// as out of range instead of wrapping (the C agent wrapped, W-C2).
func parseInt(num json.Number) (int64, error) {
	if n, err := strconv.ParseInt(string(num), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("malformed number %s", num)
	}
	switch {
	case f >= math.MaxInt64 || math.IsInf(f, 1):
		return math.MaxInt64, nil
	case f <= math.MinInt64 || math.IsInf(f, -1):
		return math.MinInt64, nil
	case f != math.Trunc(f):
		return 0, fmt.Errorf("want an integer, got %s", num)
	}
	return int64(f), nil
}

// clamp bounds n, parsed from given, to the key's range. The result has
// the key's Go type.
func (k key) clamp(n int64, given string) (any, *KeyError) {
	hi := k.max
	if k.kind == kindDuration && hi == 0 {
		hi = int64(MaxDuration)
	}
	c := max(n, k.min)
	if hi != 0 {
		c = min(c, hi)
	}
	var v any = c
	if k.kind == kindDuration {
		v = time.Duration(c)
	}
	if c == n {
		return v, nil
	}
	limits := "at least " + formatValue(k.boundValue(k.min))
	if hi != 0 {
		limits += " and at most " + formatValue(k.boundValue(hi))
	}
	return v, &KeyError{Key: k.name, Type: NotOptimal, Used: formatValue(v),
		Message: fmt.Sprintf("%s is out of range: %s must be %s", given, k.name, limits)}
}

func (k key) boundValue(n int64) any {
	if k.kind == kindDuration {
		return time.Duration(n)
	}
	return n
}

// formatValue writes a registry value as text: durations ISO 8601,
// priorities in canonical casing.
func formatValue(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return FormatDuration(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case event.Priority:
		return x.String()
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func checkAbsPath(s string) error {
	if s != "" && !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q is not an absolute path", s)
	}
	return checkPrintable(4096)(s)
}

func checkSHA256(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 64 || strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		return fmt.Errorf("%q is not a SHA-256 in hex", s)
	}
	return nil
}

// checkPrintable rejects control characters: these strings end up in file
// names and message properties.
func checkPrintable(maxLen int) func(string) error {
	return func(s string) error {
		if len(s) > maxLen {
			return fmt.Errorf("longer than %d bytes", maxLen)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) {
			return fmt.Errorf("%q holds control or invalid characters", s)
		}
		return nil
	}
}

func checkOutputName(s string) error {
	if len(s) > 100 {
		return errors.New("longer than 100 bytes")
	}
	for _, r := range s {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("_-.", r)) {
			return fmt.Errorf("%q may hold only letters, digits, '_', '-' and '.'", s)
		}
	}
	return nil
}
