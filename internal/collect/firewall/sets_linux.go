package firewall

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// maxSetElements bounds how many elements of one set are printed; the
// rest are counted ("…+N").
const maxSetElements = 256

// setResolver finds a set of the rule's table by name.
type setResolver func(name string) (*setView, bool)

// setElem is one element as the kernel dumps it: interval sets hold a
// start element and an end element (exclusive, flagged) per range.
type setElem struct {
	key []byte
	end bool
}

// setView is what the renderer needs of a set.
type setView struct {
	anonymous bool
	interval  bool
	elems     []setElem
	omitted   int // elements beyond maxSetElemsRead, not read
}

// render prints the elements as values of op's type, comma-joined:
// single values, a-b ranges, and prefixes where a range is one.
func (s *setView) render(op operand) string {
	var out []string
	if s.interval {
		out = s.intervals(op)
	} else {
		elems := slices.Clone(s.elems)
		slices.SortFunc(elems, func(a, b setElem) int { return bytes.Compare(a.key, b.key) })
		out = make([]string, 0, len(elems))
		for _, e := range elems {
			out = append(out, formatValue(op, e.key))
		}
	}
	if more := max(len(out)-maxSetElements, 0) + s.omitted; more > 0 {
		out = append(out[:min(len(out), maxSetElements)], "…+"+strconv.Itoa(more))
	}
	return strings.Join(out, ",")
}

func (s *setView) intervals(op operand) []string {
	elems := slices.Clone(s.elems)
	// Ascending keys; at equal keys an end comes first, so a range that
	// starts where the previous one ends pairs correctly.
	slices.SortStableFunc(elems, func(a, b setElem) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		switch {
		case a.end && !b.end:
			return -1
		case !a.end && b.end:
			return 1
		}
		return 0
	})
	var out []string
	for i := 0; i < len(elems); i++ {
		if elems[i].end {
			continue // the sentinel or an unpaired end
		}
		lo := elems[i].key
		var hi []byte
		if i+1 < len(elems) && elems[i+1].end {
			hi = decrement(elems[i+1].key)
			i++
		} else {
			hi = bytes.Repeat([]byte{0xff}, len(lo)) // open to the top
		}
		out = append(out, formatRange(op, lo, hi))
	}
	return out
}

// formatRange prints lo-hi inclusive, as one value or a prefix when it
// is one.
func formatRange(op operand, lo, hi []byte) string {
	if bytes.Equal(lo, hi) {
		return formatValue(op, lo)
	}
	if op.kind == kindAddr4 || op.kind == kindAddr6 {
		if a, ok := netip.AddrFromSlice(lo); ok {
			for bits := a.BitLen() - 1; bits >= 0; bits-- {
				p := netip.PrefixFrom(a, bits)
				if p.Masked().Addr() != a {
					break
				}
				if last := lastAddr(p); bytes.Equal(last.AsSlice(), hi) {
					return p.String()
				}
			}
		}
	}
	return formatValue(op, lo) + "-" + formatValue(op, hi)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// decrement returns k-1 as a big-endian number (interval ends are
// exclusive).
func decrement(k []byte) []byte {
	out := slices.Clone(k)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}
