package firewall

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The x_tables (iptables-legacy) kernel interface: getsockopt
// IPT_SO_GET_INFO then IPT_SO_GET_ENTRIES return a table as one blob of
// entries in the kernel's native layout. These offsets are those of
// struct ipt_entry / ip6t_entry (linux/netfilter_ipv{4,6}/ip*_tables.h).
const (
	xtTableMaxName = 32 // XT_TABLE_MAXNAMELEN
	xtNumHooks     = 5  // NF_INET_NUMHOOKS
	xtGetinfoSize  = xtTableMaxName + 4 + 4*xtNumHooks*2 + 4 + 4
	xtMatchHeader  = 32 // struct xt_entry_match / xt_entry_target before data
	xtNameLen      = 29 // XT_EXTENSION_MAXNAMELEN - 1 (revision follows)
	// maxXtEntries bounds one table: about 50,000 rules.
	maxXtEntries = 50000
	// maxXtTableBytes bounds one table's entries blob.
	maxXtTableBytes = 64 << 20
)

// Invert and flag bits of struct ipt_ip / ip6t_ip6.
const (
	xtInvIn    = 0x01
	xtInvOut   = 0x02
	xtInvSrc   = 0x08
	xtInvDst   = 0x10
	xtInvProto = 0x40
)

// Standard verdicts (the target with an empty name): a negative verdict
// is -NF_xxx-1, a non-negative one the offset of the entry jumped to.
const (
	xtVerdictDrop   = -1
	xtVerdictAccept = -2
	xtVerdictQueue  = -4
	xtVerdictReturn = -5 // XT_RETURN
)

// xtLayout is where the fields of an entry are for one family and one
// ABI: ip6t_entry's counters (and so its size) depend on how the C ABI
// aligns a 64-bit integer (4 bytes on i386, 8 on amd64, arm and arm64).
type xtLayout struct {
	family                 string // ip or ip6
	addrLen                int
	src, dst, smsk, dmsk   int
	iniface, outiface      int
	iniMask, outMask       int
	proto, flags, invflags int
	targetOff, nextOff     int
	entrySize              int
	gotoFlag               byte
}

func xtLayoutFor(family string, align int) xtLayout {
	if family == "ip6" {
		size := 168 // counters at 152
		if align == 4 {
			size = 164 // counters at 148
		}
		return xtLayout{family: "ip6", addrLen: 16, src: 0, dst: 16, smsk: 32, dmsk: 48,
			iniface: 64, outiface: 80, iniMask: 96, outMask: 112,
			proto: 128, flags: 131, invflags: 132, targetOff: 140, nextOff: 142,
			entrySize: size, gotoFlag: 0x04}
	}
	return xtLayout{family: "ip", addrLen: 4, src: 0, dst: 4, smsk: 8, dmsk: 12,
		iniface: 16, outiface: 32, iniMask: 48, outMask: 64,
		proto: 80, flags: 82, invflags: 83, targetOff: 88, nextOff: 90,
		entrySize: 112, gotoFlag: 0x02}
}

// xtInfo is the part of struct ipt_getinfo the reader needs.
type xtInfo struct {
	validHooks uint32
	hookEntry  [xtNumHooks]uint32
	underflow  [xtNumHooks]uint32
	numEntries uint32
	size       uint32
}

func parseXtInfo(b []byte) (xtInfo, error) {
	var in xtInfo
	if len(b) < xtGetinfoSize {
		return in, fmt.Errorf("getinfo of %d bytes, want %d", len(b), xtGetinfoSize)
	}
	ne := binary.NativeEndian
	in.validHooks = ne.Uint32(b[32:])
	for h := 0; h < xtNumHooks; h++ {
		in.hookEntry[h] = ne.Uint32(b[36+4*h:])
		in.underflow[h] = ne.Uint32(b[56+4*h:])
	}
	in.numEntries = ne.Uint32(b[76:])
	in.size = ne.Uint32(b[80:])
	return in, nil
}

// xtEntry is one entry of the blob, its matches and target still raw.
type xtEntry struct {
	off     uint32
	header  []byte // struct ipt_entry up to its matches
	matches []xtExt
	target  xtExt
	next    uint32 // offset of the following entry
}

// xtExt is a match or target: name, revision and data.
type xtExt struct {
	name string
	rev  uint8
	data []byte
}

var errXtMalformed = errors.New("malformed x_tables entries")

// splitXtEntries walks the entries blob; every length is checked against
// the blob, so a corrupt one is an error, never a panic or a loop.
func splitXtEntries(lay xtLayout, blob []byte) ([]xtEntry, error) {
	var out []xtEntry
	ne := binary.NativeEndian
	for off := 0; off < len(blob); {
		if len(out) == maxXtEntries {
			return nil, fmt.Errorf("%w: over %d entries", errXtMalformed, maxXtEntries)
		}
		if len(blob)-off < lay.entrySize {
			return nil, fmt.Errorf("%w: entry at %d truncated", errXtMalformed, off)
		}
		e := blob[off:]
		tOff, next := int(ne.Uint16(e[lay.targetOff:])), int(ne.Uint16(e[lay.nextOff:]))
		if tOff < lay.entrySize || next < tOff+xtMatchHeader || next > len(e) {
			return nil, fmt.Errorf("%w: entry at %d has target at %d, next at %d", errXtMalformed, off, tOff, next)
		}
		ent := xtEntry{off: uint32(off), header: e[:lay.entrySize], next: uint32(off + next)}
		for m := lay.entrySize; m < tOff; {
			ext, size, err := splitXtExt(e[m:tOff])
			if err != nil {
				return nil, fmt.Errorf("%w: match of entry at %d: %v", errXtMalformed, off, err)
			}
			ent.matches = append(ent.matches, ext)
			m += size
		}
		t, _, err := splitXtExt(e[tOff:next])
		if err != nil {
			return nil, fmt.Errorf("%w: target of entry at %d: %v", errXtMalformed, off, err)
		}
		ent.target = t
		out = append(out, ent)
		off += next
	}
	return out, nil
}

func splitXtExt(b []byte) (xtExt, int, error) {
	if len(b) < xtMatchHeader {
		return xtExt{}, 0, fmt.Errorf("%d bytes left", len(b))
	}
	size := int(binary.NativeEndian.Uint16(b))
	if size < xtMatchHeader || size > len(b) {
		return xtExt{}, 0, fmt.Errorf("size %d of %d", size, len(b))
	}
	name, _, _ := strings.Cut(string(b[2:2+xtNameLen]), "\x00")
	return xtExt{name: name, rev: b[2+xtNameLen], data: b[xtMatchHeader:size]}, size, nil
}

// xtChainRules is a chain of a legacy table as iptables-save shows it.
type xtChainRules struct {
	name    string
	hook    int // -1 for a user-defined chain
	policy  string
	entries []xtEntry
}

var xtHookNames = [xtNumHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// xtChains groups entries into chains as libiptc does: a built-in chain
// starts at its hook entry and ends with its policy (the underflow
// entry); a user chain starts after an ERROR target naming it and ends
// with an implicit RETURN, left out; a final ERROR entry ends the table.
func xtChains(in xtInfo, ents []xtEntry) ([]*xtChainRules, map[uint32]string, error) {
	var chains []*xtChainRules
	starts := map[uint32]string{} // offset of a user chain's first entry
	var cur *xtChainRules
	for i, e := range ents {
		for h := 0; h < xtNumHooks; h++ {
			if in.validHooks&(1<<h) != 0 && in.hookEntry[h] == e.off {
				cur = &xtChainRules{name: xtHookNames[h], hook: h}
				chains = append(chains, cur)
			}
		}
		if e.target.name == "ERROR" {
			name, _, _ := strings.Cut(string(e.target.data), "\x00")
			if name == "ERROR" || i == len(ents)-1 {
				return chains, starts, nil
			}
			cur = &xtChainRules{name: name, hook: -1}
			chains = append(chains, cur)
			starts[e.next] = name
			continue
		}
		if cur == nil {
			return nil, nil, fmt.Errorf("%w: entry at %d outside a chain", errXtMalformed, e.off)
		}
		if cur.hook >= 0 && in.underflow[cur.hook] == e.off {
			cur.policy = xtPolicy(e.target)
			cur = nil
			continue
		}
		if cur.hook < 0 && i+1 < len(ents) && ents[i+1].target.name == "ERROR" {
			continue // the implicit RETURN closing a user chain
		}
		cur.entries = append(cur.entries, e)
	}
	return nil, nil, fmt.Errorf("%w: no final ERROR entry", errXtMalformed)
}

func xtPolicy(t xtExt) string {
	if t.name == "" && len(t.data) >= 4 {
		switch int32(binary.NativeEndian.Uint32(t.data)) {
		case xtVerdictAccept:
			return "accept"
		case xtVerdictDrop:
			return "drop"
		}
	}
	return "" // unknown: reported as a rule-less chain, never guessed
}
