package firewall

import (
	"fmt"
	"strings"

	"github.com/google/nftables/expr"
)

// opaqueExpr stands for an expression the nftables library cannot decode
// (an unknown name, or data it rejects): it is rendered by name, so that
// a rule never looks more permissive than it is.
type opaqueExpr struct{ name string }

// operand describes what a register holds: the nft name of the value
// loaded and how to print the data it is compared with.
type operand struct {
	name   string
	kind   valueKind
	field  string // schema field the value feeds: src, dst, sport, dport, proto, iif, oif, ct
	prefix int    // bits compared when fewer bytes than the address were loaded
	mask   []byte // from a bitwise and
}

// renderer turns one rule's expressions into a ruleInfo. It follows the
// registers as the kernel would: a load describes the register, a cmp,
// range or lookup on it becomes a match.
type renderer struct {
	family  string
	l3, l4  string // protocols a dependency match established
	regs    map[uint32]operand
	parts   []string
	depPart int // index of a protocol dependency nft would not print, or -1
	depBase expr.PayloadBase
	sets    setResolver
	info    ruleInfo
}

// renderNft renders the expressions of a rule of a table of family.
func renderNft(family string, exprs []any, sets setResolver) ruleInfo {
	r := &renderer{family: family, regs: map[uint32]operand{}, depPart: -1, sets: sets}
	switch family {
	case "ip", "ip6":
		r.l3 = family
	}
	for i := 0; i < len(exprs); i++ {
		// nft compiles a range match as cmp gte then cmp lte.
		if lo, ok := exprs[i].(*expr.Cmp); ok && lo.Op == expr.CmpOpGte && i+1 < len(exprs) {
			if hi, ok := exprs[i+1].(*expr.Cmp); ok && hi.Op == expr.CmpOpLte && hi.Register == lo.Register {
				r.rangeMatch(lo.Register, false, lo.Data, hi.Data)
				i++
				continue
			}
		}
		r.expr(exprs[i])
	}
	if r.info.verdict == "" {
		r.info.verdict = "continue"
	}
	r.info.text = strings.Join(r.parts, " ")
	return r.info
}

func (r *renderer) emit(s string) {
	r.parts = append(r.parts, s)
	r.depPart = -1
}

func (r *renderer) expr(e any) {
	switch e := e.(type) {
	case *expr.Meta:
		r.meta(e)
	case *expr.Ct:
		if e.SourceRegister {
			r.emit("ct " + ctKeyName(e.Key) + " set")
			return
		}
		r.regs[e.Register] = ctOperand(e.Key)
	case *expr.Payload:
		r.payload(e)
	case *expr.Bitwise:
		op := r.regs[e.SourceRegister]
		if allZero(e.Xor) {
			op.mask = e.Mask
		} else {
			op = operand{name: op.name + " (bitwise)", kind: kindHex}
		}
		r.regs[e.DestRegister] = op
	case *expr.Cmp:
		r.cmp(e)
	case *expr.Range:
		r.rangeMatch(e.Register, e.Op == expr.CmpOpNeq, e.FromData, e.ToData)
	case *expr.Lookup:
		r.lookup(e)
	case *expr.Immediate:
		r.regs[e.Register] = operand{name: "immediate", kind: kindHex}
	case *expr.Verdict:
		r.verdict(e)
	case *expr.Counter:
		// Counter values change with every packet; they are left out so
		// that an unchanged ruleset renders (and hashes) the same.
		r.emit("counter")
	case *expr.Log:
		s := "log"
		if len(e.Data) > 0 {
			s += fmt.Sprintf(" prefix %q", strings.TrimRight(string(e.Data), "\x00"))
		}
		if e.Group != 0 {
			s += fmt.Sprintf(" group %d", e.Group)
		}
		r.emit(s)
		r.setVerdict("log")
	case *expr.Reject:
		r.emit(rejectText(e, r.family, r.l3))
		r.info.verdict = "reject"
	case *expr.Match:
		r.xtMatch(e)
	case *expr.Target:
		r.xtTarget(e)
	case *expr.NAT:
		name := "snat"
		if e.Type == expr.NATTypeDestNAT {
			name = "dnat"
		}
		r.emit(name)
		r.info.verdict = name
	case *expr.Masq:
		r.emit("masquerade")
		r.info.verdict = "masquerade"
	case *expr.Redir:
		r.emit("redirect")
		r.info.verdict = "redirect"
	case *expr.Queue:
		r.emit(fmt.Sprintf("queue num %d", e.Num))
		r.info.verdict = "queue"
	case *expr.Limit:
		r.emit(limitText(e))
	case *opaqueExpr:
		r.emit(e.name)
	default:
		r.emit(exprName(e))
	}
}

// setVerdict records v unless a verdict is already known.
func (r *renderer) setVerdict(v string) {
	if r.info.verdict == "" || r.info.verdict == "log" {
		r.info.verdict = v
	}
}

func (r *renderer) meta(e *expr.Meta) {
	if e.SourceRegister {
		r.emit("meta " + metaKeyName(e.Key) + " set")
		return
	}
	r.regs[e.Register] = metaOperand(e.Key)
}

func (r *renderer) payload(e *expr.Payload) {
	if e.OperationType == expr.PayloadWrite {
		r.emit(fmt.Sprintf("payload write @%s,%d,%d", baseName(e.Base), e.Offset*8, e.Len*8))
		return
	}
	op := r.payloadOperand(e)
	// nft leaves out the dependency that selects the protocol whose
	// header is loaded next (meta l4proto tcp before tcp dport).
	if r.depPart >= 0 && r.depPart == len(r.parts)-1 && r.depBase == e.Base && op.field != "" {
		r.parts = r.parts[:r.depPart]
		r.depPart = -1
	}
	r.regs[e.DestRegister] = op
}

func (r *renderer) payloadOperand(e *expr.Payload) operand {
	raw := operand{name: fmt.Sprintf("@%s,%d,%d", baseName(e.Base), e.Offset*8, e.Len*8), kind: kindHex}
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		return networkOperand(r.l3, e.Offset, e.Len, raw)
	case expr.PayloadBaseTransportHeader:
		l4 := r.l4
		if l4 == "" {
			l4 = "th"
		}
		if e.Len == 2 && (e.Offset == 0 || e.Offset == 2) && portProto(l4) {
			if e.Offset == 0 {
				return operand{name: l4 + " sport", kind: kindPort, field: "sport"}
			}
			return operand{name: l4 + " dport", kind: kindPort, field: "dport"}
		}
		if l4 == "tcp" && e.Offset == 13 && e.Len == 1 {
			return operand{name: "tcp flags", kind: kindTCPFlags}
		}
	}
	return raw
}

func networkOperand(l3 string, off, n uint32, raw operand) operand {
	var addrOff, addrLen uint32
	switch l3 {
	case "ip":
		if off == 9 && n == 1 {
			return operand{name: "ip protocol", kind: kindProto, field: "proto"}
		}
		addrLen = 4
		addrOff = 12
	case "ip6":
		if off == 6 && n == 1 {
			return operand{name: "ip6 nexthdr", kind: kindProto, field: "proto"}
		}
		addrLen = 16
		addrOff = 8
	default:
		return raw
	}
	kind := kindAddr4
	if l3 == "ip6" {
		kind = kindAddr6
	}
	if n == 0 || n > addrLen {
		return raw
	}
	prefix := 0
	if n < addrLen {
		prefix = int(n) * 8 // iptables-nft loads only the prefix bytes
	}
	switch off {
	case addrOff:
		return operand{name: l3 + " saddr", kind: kind, field: "src", prefix: prefix}
	case addrOff + addrLen:
		return operand{name: l3 + " daddr", kind: kind, field: "dst", prefix: prefix}
	}
	return raw
}
