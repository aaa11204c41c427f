package firewall

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// rawRule is one rule of the kernel's dump, its expressions decoded.
type rawRule struct {
	family   nftables.TableFamily
	table    string
	chain    string
	handle   uint64
	exprs    []any
	userData []byte
}

// The library's own rule listing drops expressions it cannot decode, and
// lists one chain per request; this dump reads every rule of every
// family at once and keeps unknown expressions by name.

// parseRule decodes one NFT_MSG_NEWRULE message body (nfgenmsg and
// attributes).
func parseRule(data []byte) (rawRule, error) {
	if len(data) < 4 {
		return rawRule{}, fmt.Errorf("rule message of %d bytes", len(data))
	}
	r := rawRule{family: nftables.TableFamily(data[0])}
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return rawRule{}, fmt.Errorf("rule attributes: %w", err)
	}
	ad.ByteOrder = binary.BigEndian
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			r.table = ad.String()
		case unix.NFTA_RULE_CHAIN:
			r.chain = ad.String()
		case unix.NFTA_RULE_HANDLE:
			r.handle = ad.Uint64()
		case unix.NFTA_RULE_USERDATA:
			r.userData = ad.Bytes()
		case unix.NFTA_RULE_EXPRESSIONS:
			r.exprs = decodeExprs(byte(r.family), ad.Bytes())
		}
	}
	if err := ad.Err(); err != nil {
		return rawRule{}, fmt.Errorf("rule attributes: %w", err)
	}
	return r, nil
}

// decodeExprs decodes a list of expressions. It never fails: what cannot
// be decoded becomes an opaqueExpr, so the rendering shows it.
func decodeExprs(fam byte, b []byte) []any {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return []any{&opaqueExpr{name: "<undecodable expressions>"}}
	}
	var out []any
	for ad.Next() {
		out = append(out, decodeExpr(fam, ad.Bytes()))
	}
	if ad.Err() != nil {
		out = append(out, &opaqueExpr{name: "<undecodable expressions>"})
	}
	return out
}

func decodeExpr(fam byte, b []byte) any {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return &opaqueExpr{name: "<undecodable expression>"}
	}
	ad.ByteOrder = binary.BigEndian
	var name string
	var data []byte
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			name = ad.String()
		case unix.NFTA_EXPR_DATA:
			data = ad.Bytes()
		}
	}
	if ad.Err() != nil || name == "" {
		return &opaqueExpr{name: "<undecodable expression>"}
	}
	switch name {
	case "notrack":
		return &expr.Notrack{}
	case "target", "match":
		// The library's decoding of the info of SNAT, DNAT or MASQUERADE
		// (by name, whether match or target) trusts a count in it; only
		// the decoders the renderer needs are used, see xtDecoded.
		return decodeXt(fam, name, data)
	}
	e := newExpr(name)
	if e == nil {
		return &opaqueExpr{name: name}
	}
	if err := unmarshalExpr(fam, data, e); err != nil {
		return &opaqueExpr{name: name + " <undecodable>"}
	}
	// A verdict is an immediate into the verdict register; the library
	// decodes its data only as a Verdict.
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
		v := &expr.Verdict{}
		if err := unmarshalExpr(fam, data, v); err != nil {
			return &opaqueExpr{name: "verdict <undecodable>"}
		}
		return v
	}
	return e
}

// unmarshalExpr guards against the library panicking on hostile input
// (the fuzz target feeds it arbitrary bytes).
func unmarshalExpr(fam byte, data []byte, e expr.Any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decode expression: %v", p)
		}
	}()
	return expr.Unmarshal(fam, data, e)
}

// newExpr mirrors the library's (unexported) table of expression names.
func newExpr(name string) expr.Any {
	switch name {
	case "ct":
		return &expr.Ct{}
	case "range":
		return &expr.Range{}
	case "meta":
		return &expr.Meta{}
	case "cmp":
		return &expr.Cmp{}
	case "counter":
		return &expr.Counter{}
	case "objref":
		return &expr.Objref{}
	case "payload":
		return &expr.Payload{}
	case "lookup":
		return &expr.Lookup{}
	case "immediate":
		return &expr.Immediate{}
	case "bitwise":
		return &expr.Bitwise{}
	case "redir":
		return &expr.Redir{}
	case "nat":
		return &expr.NAT{}
	case "limit":
		return &expr.Limit{}
	case "quota":
		return &expr.Quota{}
	case "dynset":
		return &expr.Dynset{}
	case "log":
		return &expr.Log{}
	case "exthdr":
		return &expr.Exthdr{}
	case "connlimit":
		return &expr.Connlimit{}
	case "queue":
		return &expr.Queue{}
	case "flow_offload":
		return &expr.FlowOffload{}
	case "reject":
		return &expr.Reject{}
	case "masq":
		return &expr.Masq{}
	case "hash":
		return &expr.Hash{}
	case "fib":
		return &expr.Fib{}
	case "numgen":
		return &expr.Numgen{}
	}
	return nil
}

// decodeXt reads an xt compat match or target: name, revision and info
// (the NFTA_MATCH_* and NFTA_TARGET_* attributes are numbered alike).
func decodeXt(fam byte, kind string, data []byte) any {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return &opaqueExpr{name: kind + " <undecodable>"}
	}
	ad.ByteOrder = binary.BigEndian
	var x xtExt
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_MATCH_NAME:
			x.name = ad.String()
		case unix.NFTA_MATCH_REV:
			x.rev = uint8(ad.Uint32())
		case unix.NFTA_MATCH_INFO:
			x.data = ad.Bytes()
		}
	}
	if ad.Err() != nil || x.name == "" {
		return &opaqueExpr{name: kind + " <undecodable>"}
	}
	if kind == "target" {
		return &expr.Target{Name: x.name, Rev: uint32(x.rev)}
	}
	return &expr.Match{Name: x.name, Rev: uint32(x.rev), Info: xtInfoOf(x, xt.TableFamily(fam))}
}
