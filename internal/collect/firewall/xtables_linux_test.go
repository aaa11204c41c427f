package firewall

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// xtBuilder writes an x_tables entries blob in the layout of one family
// and ABI, as the kernel answers IPT_SO_GET_ENTRIES.
type xtBuilder struct {
	lay   xtLayout
	align int
	blob  []byte
	info  xtInfo
}

func (b *xtBuilder) ext(name string, data []byte) []byte {
	size := xtMatchHeader + (len(data)+b.align-1)/b.align*b.align
	out := make([]byte, size)
	binary.NativeEndian.PutUint16(out, uint16(size))
	copy(out[2:2+xtNameLen], name)
	copy(out[xtMatchHeader:], data)
	return out
}

func verdictData(v int32) []byte {
	d := make([]byte, 4)
	binary.NativeEndian.PutUint32(d, uint32(v))
	return d
}

// entry appends one entry and returns its offset. src is the first
// address byte and srcBits its prefix length; 0 matches any source.
func (b *xtBuilder) entry(src byte, srcBits int, matches [][]byte, target []byte) uint32 {
	e := make([]byte, b.lay.entrySize)
	if srcBits > 0 {
		e[b.lay.src] = src
		for i := 0; i < srcBits; i++ {
			e[b.lay.smsk+i/8] |= 0x80 >> (i % 8)
		}
	}
	for _, m := range matches {
		e = append(e, m...)
	}
	binary.NativeEndian.PutUint16(e[b.lay.targetOff:], uint16(len(e)))
	e = append(e, target...)
	binary.NativeEndian.PutUint16(e[b.lay.nextOff:], uint16(len(e)))
	off := uint32(len(b.blob))
	b.blob = append(b.blob, e...)
	return off
}

// sampleXtTable is INPUT (policy drop) with a rule jumping to the user
// chain U, which holds one rule with an unknown match; as iptables-save:
//
//	-A INPUT -s 10.0.0.0/8 -j U
//	-A INPUT -m frob -j ACCEPT
//	-A U -j RETURN
func sampleXtTable(family string, align int) *xtBuilder {
	b := &xtBuilder{lay: xtLayoutFor(family, align), align: align}
	std := func(v int32) []byte { return b.ext("", verdictData(v)) }
	// Offsets depend only on sizes, so lay out with placeholder jumps
	// and patch the one jump afterwards.
	jump := b.entry(10, 8, nil, std(0))
	b.entry(0, 0, [][]byte{b.ext("frob", []byte{1, 2, 3})}, std(xtVerdictAccept))
	policy := b.entry(0, 0, nil, std(xtVerdictDrop))
	b.entry(0, 0, nil, b.ext("ERROR", []byte("U")))
	uStart := b.entry(0, 0, nil, std(xtVerdictReturn))
	b.entry(0, 0, nil, std(xtVerdictReturn)) // the implicit RETURN
	b.entry(0, 0, nil, b.ext("ERROR", []byte("ERROR")))
	tOff := binary.NativeEndian.Uint16(b.blob[jump+uint32(b.lay.targetOff):])
	binary.NativeEndian.PutUint32(b.blob[jump+uint32(tOff)+xtMatchHeader:], uint32(uStart))
	b.info = xtInfo{validHooks: 1 << 1, numEntries: 7, size: uint32(len(b.blob))}
	b.info.underflow[1] = policy
	return b
}

func TestXtTableItems(t *testing.T) {
	for _, family := range []string{"ip", "ip6"} {
		for _, align := range []int{4, 8} {
			b := sampleXtTable(family, align)
			items, err := xtTableItems(b.lay, "filter", b.info, b.blob)
			if err != nil {
				t.Fatalf("%s/%d: %v", family, align, err)
			}
			src := "10.0.0.0/8"
			if family == "ip6" {
				src = "a00::/8"
			}
			want := []string{
				"INPUT 0 Other " + family + " saddr " + src + " jump U",
				`INPUT 1 Allow xt match "frob" accept`,
				"INPUT 2 Deny policy drop",
				"U 0 Other return",
			}
			var got []string
			for _, it := range items {
				got = append(got, it.ChainName+" "+itoa(*it.Priority)+" "+it.Action+" "+it.ExtraDetails["Rule"])
				if it.ExtraDetails["Framework"] != FrameworkIptablesLegacy || it.ExtraDetails["Family"] != family {
					t.Errorf("%s/%d: framework/family %v", family, align, it.ExtraDetails)
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s/%d:\n got %q\nwant %q", family, align, got, want)
			}
		}
	}
}

// TestXtMalformed: every corruption of the blob is a clear error.
func TestXtMalformed(t *testing.T) {
	base := sampleXtTable("ip", 8)
	lay := base.lay
	patch16 := func(at int, v uint16) []byte {
		b := append([]byte(nil), base.blob...)
		binary.NativeEndian.PutUint16(b[at:], v)
		return b
	}
	ents, err := splitXtEntries(lay, base.blob)
	if err != nil {
		t.Fatal(err)
	}
	lastOff := ents[len(ents)-1].off
	firstMatch := lay.entrySize + int(binary.NativeEndian.Uint16(base.blob[lay.nextOff:]))
	tests := []struct {
		name string
		blob []byte
		info *xtInfo
		want string
	}{
		{"truncated entry", base.blob[:50], nil, "entry at 0 truncated"},
		{"next offset zero", patch16(lay.nextOff, 0), nil, "next at 0"},
		{"target before the matches", patch16(lay.targetOff, 4), nil, "target at 4"},
		{"next past the end", patch16(lay.nextOff, 0xfff0), nil, "next at 65520"},
		{"match size zero", patch16(firstMatch, 0), nil, "match of entry"},
		{"no final ERROR", base.blob[:lastOff], nil, "no final ERROR"},
		{"entry outside a chain", base.blob, &xtInfo{}, "outside a chain"},
		{"getinfo short", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				if _, err := parseXtInfo(make([]byte, 10)); err == nil {
					t.Error("no error for a short getinfo")
				}
				return
			}
			in := base.info
			if tt.info != nil {
				in = *tt.info
			}
			_, err := xtTableItems(lay, "filter", in, tt.blob)
			if !errors.Is(err, errXtMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want errXtMalformed with %q", err, tt.want)
			}
		})
	}
}

// FuzzXtEntries: any blob decodes or fails with an error, never panics
// nor loops, in every layout.
func FuzzXtEntries(f *testing.F) {
	for _, fam := range []string{"ip", "ip6"} {
		for _, align := range []int{4, 8} {
			b := sampleXtTable(fam, align)
			f.Add(fam == "ip6", align == 4, b.info.underflow[1], b.blob)
		}
	}
	f.Fuzz(func(t *testing.T, ip6, align4 bool, underflow uint32, blob []byte) {
		fam, align := "ip", 8
		if ip6 {
			fam = "ip6"
		}
		if align4 {
			align = 4
		}
		in := xtInfo{validHooks: 1 << 1}
		in.underflow[1] = underflow
		items, err := xtTableItems(xtLayoutFor(fam, align), "filter", in, blob)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Action == "" || len(it.ExtraDetails["Rule"]) > maxRuleText {
				t.Fatalf("bad item %+v", it)
			}
		}
	})
}
