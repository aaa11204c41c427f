package firewall

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/google/nftables/expr"
)

// cmp, range and lookup on a loaded register become matches; a match
// feeds the schema field of its operand.

func (r *renderer) cmp(e *expr.Cmp) {
	op := r.regs[e.Register]
	if op.kind == kindCtState && op.mask != nil {
		// ct state established,related is (state & mask) != 0.
		neg := e.Op == expr.CmpOpEq && allZero(e.Data)
		v := ctStateText(op.mask)
		r.match(op, neg, v, "")
		return
	}
	v := formatValue(op, e.Data)
	neg := e.Op == expr.CmpOpNeq
	opText := ""
	switch e.Op {
	case expr.CmpOpLt:
		opText = "<"
	case expr.CmpOpLte:
		opText = "<="
	case expr.CmpOpGt:
		opText = ">"
	case expr.CmpOpGte:
		opText = ">="
	}
	if opText != "" {
		r.emit(op.name + " " + opText + " " + v)
		return
	}
	r.match(op, neg, v, "")
	if e.Op == expr.CmpOpEq {
		r.dependency(op, e.Data)
	}
}

// dependency notes a match that selects a protocol, which names the
// header loads that follow.
func (r *renderer) dependency(op operand, data []byte) {
	switch op.kind {
	case kindProto:
		if len(data) > 0 {
			r.l4 = protoName(data[0])
			r.depPart, r.depBase = len(r.parts)-1, expr.PayloadBaseTransportHeader
		}
	case kindNfproto:
		if len(data) > 0 {
			switch data[0] {
			case 2:
				r.l3 = "ip"
			case 10:
				r.l3 = "ip6"
			}
			r.depPart, r.depBase = len(r.parts)-1, expr.PayloadBaseNetworkHeader
		}
	}
}

func (r *renderer) rangeMatch(reg uint32, neg bool, from, to []byte) {
	op := r.regs[reg]
	r.match(op, neg, formatValue(op, from)+"-"+formatValue(op, to), "")
}

func (r *renderer) lookup(e *expr.Lookup) {
	op := r.regs[e.SourceRegister]
	ref := "@" + e.SetName
	values := ""
	if v, ok := r.sets(e.SetName); ok {
		values = v.render(op)
		if v.anonymous {
			ref = "{ " + strings.ReplaceAll(values, ",", ", ") + " }"
		}
	}
	if e.IsDestRegSet {
		kw := "map"
		if e.DestRegister == 0 {
			kw = "vmap"
			r.info.verdict = "vmap"
		}
		r.emit(op.name + " " + kw + " " + ref)
		return
	}
	r.match(op, e.Invert, values, ref)
}

// match emits "name [!=] value" and fills the schema field it feeds.
// shown, when set, replaces the value in the text (a set reference).
func (r *renderer) match(op operand, neg bool, value, shown string) {
	if shown == "" {
		shown = value
	}
	name := op.name
	if name == "" {
		name = "?"
	}
	if neg {
		r.emit(name + " != " + shown)
	} else {
		r.emit(name + " " + shown)
	}
	if value == "" {
		return
	}
	v := negate(value, neg)
	switch op.field {
	case "src":
		add(&r.info.src, v)
	case "dst":
		add(&r.info.dst, v)
	case "sport":
		add(&r.info.sport, v)
	case "dport":
		add(&r.info.dport, v)
	case "proto":
		add(&r.info.proto, v)
	case "iif":
		add(&r.info.iif, v)
	case "oif":
		add(&r.info.oif, v)
	case "ct":
		add(&r.info.ctState, v)
	}
	if r.info.proto == "" && (op.field == "sport" || op.field == "dport") && r.l4 != "" {
		r.info.proto = r.l4
	}
}

func (r *renderer) verdict(e *expr.Verdict) {
	var v string
	switch e.Kind {
	case expr.VerdictAccept:
		v = "accept"
	case expr.VerdictDrop:
		v = "drop"
	case expr.VerdictReturn:
		v = "return"
	case expr.VerdictContinue:
		v = "continue"
	case expr.VerdictJump:
		v = "jump " + e.Chain
	case expr.VerdictGoto:
		v = "goto " + e.Chain
	case expr.VerdictQueue:
		v = "queue"
	case expr.VerdictStolen:
		v = "stolen"
	case expr.VerdictBreak:
		v = "break"
	case expr.VerdictRepeat:
		v = "repeat"
	case expr.VerdictStop:
		v = "stop"
	default:
		v = fmt.Sprintf("verdict %d", e.Kind)
	}
	r.emit(v)
	r.info.verdict = v
}

// exprName is the lower-case type name of an expression the renderer has
// no text for, e.g. "fib", "dynset".
func exprName(e any) string {
	t := reflect.TypeOf(e)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.ToLower(t.Name())
}
