package config

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Calendar units have no fixed length, so the twin's durations use the
// fixed lengths the retired C agent used for months (30 days) and a
// 365-day year (the C agent ignored years altogether, W-C2).
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
	year  = 365 * day
)

// MaxDuration bounds every duration ParseDuration accepts: 100 years of
// 365 days, well inside time.Duration's ±292 years, so sums never overflow.
const MaxDuration = 100 * year

// maxFracDigits keeps 10^digits inside a uint64 for exact fraction maths.
const maxFracDigits = 18

var (
	errDuration = errors.New("want an ISO 8601 duration such as PT7M")
	errTooLong  = errors.New("longer than the maximum " + FormatDuration(MaxDuration))
)

type durationUnit struct {
	letter byte
	size   time.Duration
}

// The designators in the only order ISO 8601 allows them.
var (
	dateUnits = []durationUnit{{'Y', year}, {'M', month}, {'W', week}, {'D', day}}
	timeUnits = []durationUnit{{'H', time.Hour}, {'M', time.Minute}, {'S', time.Second}}
)

// ParseDuration parses an ISO 8601 duration, PnYnMnWnDTnHnMnS, as the twin
// schema's pattern allows it: every part optional but at least one present,
// parts in that order, a decimal fraction ("." only) on the last part only.
// Y is 365 days, M before T is 30 days, W is 7 days, D is 24 hours.
// Negative, signed, lower-case and empty ("P", "PT") durations are rejected,
// as is anything longer than MaxDuration. Digits beyond the nanosecond are
// truncated.
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 || s[0] != 'P' {
		return 0, fmt.Errorf("%q: %w", s, errDuration)
	}
	rest := s[1:]
	datePart, timePart, hasT := strings.Cut(rest, "T")
	if hasT && timePart == "" {
		return 0, fmt.Errorf("%q: no time part after T: %w", s, errDuration)
	}
	var total time.Duration
	parts := 0
	fraction := false // a fraction must end the whole duration
	for _, sec := range []struct {
		text  string
		units []durationUnit
	}{{datePart, dateUnits}, {timePart, timeUnits}} {
		text, next := sec.text, 0
		for text != "" {
			if fraction {
				return 0, fmt.Errorf("%q: a fraction is allowed on the last part only: %w", s, errDuration)
			}
			n := 0
			for n < len(text) && (text[n] >= '0' && text[n] <= '9' || text[n] == '.') {
				n++
			}
			if n == 0 || n == len(text) {
				return 0, fmt.Errorf("%q: want a number followed by a designator: %w", s, errDuration)
			}
			i := next
			for i < len(sec.units) && sec.units[i].letter != text[n] {
				i++
			}
			if i == len(sec.units) {
				return 0, fmt.Errorf("%q: designator %q unknown or out of order: %w", s, text[n], errDuration)
			}
			v, frac, err := durationPart(text[:n], sec.units[i].size)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			if total += v; total > MaxDuration {
				return 0, fmt.Errorf("%q: %w", s, errTooLong)
			}
			fraction = frac
			parts++
			next = i + 1
			text = text[n+1:]
		}
	}
	if parts == 0 {
		return 0, fmt.Errorf("%q: no parts: %w", s, errDuration)
	}
	return total, nil
}

// durationPart converts "12" or "1.5" of a unit into a duration. It
// multiplies in 128 bits, so any input up to MaxDuration is exact and a
// longer one is an error, never a wrapped value.
func durationPart(num string, unit time.Duration) (time.Duration, bool, error) {
	intText, fracText, hasFrac := strings.Cut(num, ".")
	if intText == "" || (hasFrac && fracText == "") || strings.Contains(fracText, ".") {
		return 0, false, fmt.Errorf("malformed number %q: %w", num, errDuration)
	}
	limit := uint64(MaxDuration / unit)
	intText = strings.TrimLeft(intText, "0")
	if len(intText) > 19 {
		return 0, false, errTooLong
	}
	n := uint64(0)
	if intText != "" {
		var err error
		if n, err = strconv.ParseUint(intText, 10, 64); err != nil || n > limit {
			return 0, false, errTooLong
		}
	}
	d := time.Duration(n) * unit
	if hasFrac {
		fracText = strings.TrimRight(fracText, "0")
		if len(fracText) > maxFracDigits {
			fracText = fracText[:maxFracDigits]
		}
		if fracText != "" {
			f, err := strconv.ParseUint(fracText, 10, 64)
			if err != nil {
				return 0, false, fmt.Errorf("malformed fraction %q: %w", num, errDuration)
			}
			scale := uint64(1)
			for range fracText {
				scale *= 10
			}
			// unit*f/scale < unit, so the quotient fits and hi < scale.
			hi, lo := bits.Mul64(uint64(unit), f)
			q, _ := bits.Div64(hi, lo, scale)
			d += time.Duration(q)
		}
	}
	return d, hasFrac, nil
}

// FormatDuration writes d in the canonical form used for reporting: days
// and a time part, never the ambiguous Y, M or W ("P1DT2H", "PT7M",
// "PT1.5S", "PT0S"). A negative d gets a leading "-", which ParseDuration
// rejects; the registry never holds one.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u // two's complement: exact even for the minimum value
	}
	b.WriteByte('P')
	if days := u / uint64(day); days > 0 {
		b.WriteString(strconv.FormatUint(days, 10))
		b.WriteByte('D')
		u %= uint64(day)
	}
	if u == 0 {
		return b.String()
	}
	b.WriteByte('T')
	for _, p := range []struct {
		size   uint64
		letter byte
	}{{uint64(time.Hour), 'H'}, {uint64(time.Minute), 'M'}} {
		if n := u / p.size; n > 0 {
			b.WriteString(strconv.FormatUint(n, 10))
			b.WriteByte(p.letter)
			u %= p.size
		}
	}
	if u > 0 {
		sec := uint64(time.Second)
		b.WriteString(strconv.FormatUint(u/sec, 10))
		if ns := u % sec; ns > 0 {
			frac := strconv.FormatUint(ns+sec, 10)[1:] // zero-padded to 9 digits
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(frac, "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}
