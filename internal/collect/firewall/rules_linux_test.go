package firewall

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ruleMsg builds an NFT_MSG_NEWRULE body as the kernel dumps it:
// nfgenmsg, then table, chain, handle and the expression list.
func ruleMsg(t testing.TB, fam byte, handle uint64, exprs ...expr.Any) []byte {
	t.Helper()
	elems := make([]netlink.Attribute, 0, len(exprs))
	for _, e := range exprs {
		b, err := expr.Marshal(fam, e)
		if err != nil {
			t.Fatal(err)
		}
		elems = append(elems, netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_LIST_ELEM, Data: b})
	}
	list, err := netlink.MarshalAttributes(elems)
	if err != nil {
		t.Fatal(err)
	}
	h := make([]byte, 8)
	binary.BigEndian.PutUint64(h, handle)
	body, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_RULE_TABLE, Data: []byte("filter\x00")},
		{Type: unix.NFTA_RULE_CHAIN, Data: []byte("input\x00")},
		{Type: unix.NFTA_RULE_HANDLE, Data: h},
		{Type: unix.NLA_F_NESTED | unix.NFTA_RULE_EXPRESSIONS, Data: list},
	})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{fam, unix.NFNETLINK_V0, 0, 0}, body...)
}

// tcpDport22Accept is "tcp dport 22 accept" as nft compiles it for the
// inet family.
func tcpDport22Accept() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0, 22}},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

func noSets(string) (*setView, bool) { return nil, false }

func TestParseRule(t *testing.T) {
	good := ruleMsg(t, unix.NFPROTO_INET, 7, tcpDport22Accept()...)
	// An expression the library does not know, by name.
	unknown, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_EXPR_NAME, Data: []byte("synproxy\x00")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A known expression whose data is not what it should be.
	badData, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_EXPR_NAME, Data: []byte("cmp\x00")},
		{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: []byte{0xff, 0xff, 0xff}},
	})
	if err != nil {
		t.Fatal(err)
	}
	withExprs := func(elems ...[]byte) []byte {
		attrs := make([]netlink.Attribute, 0, len(elems))
		for _, e := range elems {
			attrs = append(attrs, netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_LIST_ELEM, Data: e})
		}
		list, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			t.Fatal(err)
		}
		body, err := netlink.MarshalAttributes([]netlink.Attribute{
			{Type: unix.NFTA_RULE_CHAIN, Data: []byte("c\x00")},
			{Type: unix.NLA_F_NESTED | unix.NFTA_RULE_EXPRESSIONS, Data: list},
		})
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{unix.NFPROTO_IPV4, 0, 0, 0}, body...)
	}
	// SNAT info whose range count asks the library for gigabytes.
	hugeSNAT, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_EXPR_NAME, Data: []byte("match\x00")},
		{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: mustAttrs(t,
			netlink.Attribute{Type: unix.NFTA_MATCH_NAME, Data: []byte("SNAT\x00")},
			netlink.Attribute{Type: unix.NFTA_MATCH_REV, Data: []byte{0, 0, 0, 0}},
			netlink.Attribute{Type: unix.NFTA_MATCH_INFO, Data: []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}},
		)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rawList, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NLA_F_NESTED | unix.NFTA_RULE_EXPRESSIONS, Data: []byte{9, 0, 1}},
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		data     []byte
		wantErr  string // substring; empty for none
		wantText string
		chain    string
	}{
		{name: "inet tcp dport 22 accept", data: good, wantText: "tcp dport 22 accept", chain: "input"},
		{name: "empty", data: nil, wantErr: "rule message of 0 bytes"},
		{name: "header only", data: []byte{2, 0, 0}, wantErr: "rule message of 3 bytes"},
		{name: "truncated attribute", data: good[:len(good)-3], wantErr: "rule attributes: invalid attribute"},
		{name: "attribute length past the end", data: append([]byte{2, 0, 0, 0}, 0xff, 0, 1, 0, 'x'), wantErr: "rule attributes: invalid attribute"},
		{name: "unknown expression kept by name", data: withExprs(unknown), wantText: "synproxy", chain: "c"},
		{name: "undecodable expression data", data: withExprs(badData), wantText: "cmp <undecodable>", chain: "c"},
		{name: "xt info never trusted for a size", data: withExprs(hugeSNAT), wantText: `xt match "SNAT"`, chain: "c"},
		{name: "expression list not attributes", data: append([]byte{2, 0, 0, 0}, rawList...), wantText: "<undecodable expressions>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRule(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRule: %v", err)
			}
			if r.chain != tt.chain {
				t.Errorf("chain %q, want %q", r.chain, tt.chain)
			}
			got := renderNft(familyName(r.family), r.exprs, noSets)
			if got.text != tt.wantText {
				t.Errorf("rendered %q, want %q", got.text, tt.wantText)
			}
		})
	}
	r, _ := parseRule(good)
	if r.handle != 7 || r.table != "filter" {
		t.Errorf("handle %d table %q, want 7 filter", r.handle, r.table)
	}
}

// TestRenderNftFields: the schema fields come from the matches, a
// negated one written !(value), and an unknown verdict is not Allow.
func TestRenderNftFields(t *testing.T) {
	got := renderNft("ip", []any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{10, 0, 0, 1}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 9, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: []byte{0x04, 0}},
		&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: []byte{0xff, 0xff}},
		&opaqueExpr{name: "osf"},
	}, noSets)
	want := ruleInfo{
		text:    "ip saddr != 10.0.0.1 udp dport 1024-65535 osf",
		verdict: "continue", proto: "udp", src: "!(10.0.0.1)", dport: "1024-65535",
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if a := action(got.verdict); a != actionOther {
		t.Errorf("action %q, want Other", a)
	}
}

// FuzzParseRule: any message decodes or fails with an error, and what
// decodes renders without panicking into a bounded payload item.
func FuzzParseRule(f *testing.F) {
	f.Add(ruleMsg(f, unix.NFPROTO_INET, 7, tcpDport22Accept()...))
	f.Add(ruleMsg(f, unix.NFPROTO_IPV6, 1,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 24, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0xfe, 0x80}},
		&expr.Lookup{SourceRegister: 1, SetName: "s", Invert: true},
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
		&expr.Counter{},
		&expr.Log{Key: 1 << unix.NFTA_LOG_PREFIX, Data: []byte("p")},
		&expr.Reject{Type: 1},
	))
	f.Add([]byte{2, 0, 0, 0, 8, 0, 1, 0, 't', 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRule(data)
		if err != nil {
			return
		}
		ri := renderNft(familyName(r.family), r.exprs, noSets)
		if ri.verdict == "" {
			t.Fatalf("no verdict for %q", ri.text)
		}
		it := newItem(chainInfo{framework: FrameworkNftables, family: familyName(r.family), name: r.chain}, 0, ri)
		if len(it.ExtraDetails["Rule"]) > maxRuleText || it.Action == "" {
			t.Fatalf("unbounded or actionless item %+v", it)
		}
	})
}

func mustAttrs(t testing.TB, attrs ...netlink.Attribute) []byte {
	t.Helper()
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
