package firewall

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// xtMatch renders an iptables-nft compat match. The common ones are
// rendered like their native equivalents and fill the schema fields;
// others keep their name so nothing is hidden.
func (r *renderer) xtMatch(e *expr.Match) {
	switch info := e.Info.(type) {
	case *xt.ConntrackMtinfo1:
		r.xtConntrack(info.MatchFlags, info.InvertFlags, uint32(info.StateMask))
		return
	case *xt.ConntrackMtinfo2:
		r.xtConntrack(info.MatchFlags, info.InvertFlags, uint32(info.StateMask))
		return
	case *xt.ConntrackMtinfo3:
		r.xtConntrack(info.MatchFlags, info.InvertFlags, uint32(info.StateMask))
		return
	case *xt.Tcp:
		r.xtPorts("tcp", info.SrcPorts, info.DstPorts, info.InvFlags&xt.TcpInvSrcPorts != 0, info.InvFlags&xt.TcpInvDestPorts != 0)
		return
	case *xt.Udp:
		r.xtPorts("udp", info.SrcPorts, info.DstPorts, info.InvFlags&xt.UdpInvSrcPorts != 0, info.InvFlags&xt.UdpInvDestPorts != 0)
		return
	case *xt.Comment:
		r.info.comment = string(*info)
		r.emit(fmt.Sprintf("comment %q", string(*info)))
		return
	case *xt.Unknown:
		switch {
		case e.Name == "multiport" && r.xtMultiport(e.Rev, []byte(*info)):
			return
		case e.Name == "state" && len(*info) >= 4:
			// struct xt_state_info: the conntrack state bits, as nft's.
			r.match(operand{name: "ct state", kind: kindCtState, field: "ct"}, false, ctStateBits(binary.NativeEndian.Uint32(*info)), "")
			return
		}
	}
	r.emit(fmt.Sprintf("xt match %q", e.Name))
}

func (r *renderer) xtConntrack(flags, inv uint16, states uint32) {
	if flags&uint16(xt.ConntrackState) == 0 {
		r.emit(`xt match "conntrack"`)
		return
	}
	r.match(operand{name: "ct state", kind: kindCtState, field: "ct"}, inv&uint16(xt.ConntrackState) != 0, ctStateBits(states), "")
}

func (r *renderer) xtPorts(l4 string, src, dst [2]uint16, invSrc, invDst bool) {
	if r.l4 == "" {
		r.l4 = l4
	}
	if s := portRange(src); s != "" {
		r.match(operand{name: l4 + " sport", kind: kindPort, field: "sport"}, invSrc, s, "")
	}
	if s := portRange(dst); s != "" {
		r.match(operand{name: l4 + " dport", kind: kindPort, field: "dport"}, invDst, s, "")
	}
}

// portRange prints an xt port range; the full range matches anything.
func portRange(p [2]uint16) string {
	switch {
	case p[0] == 0 && p[1] == 0xffff:
		return ""
	case p[0] == p[1]:
		return strconv.Itoa(int(p[0]))
	}
	return fmt.Sprintf("%d-%d", p[0], p[1])
}

// Layout of struct xt_multiport_v1: flags, count, ports[15] (host
// order), pflags[15] (range starts), invert. Revision 0 lacks the last
// two fields.
const (
	multiportMax    = 15
	multiportPorts  = 2
	multiportPflags = multiportPorts + 2*multiportMax
	multiportV1Size = multiportPflags + multiportMax + 1
	multiportV0Size = multiportPorts + 2*multiportMax
	multiportSource = 0
	multiportDest   = 1
)

// xtMultiport decodes the multiport match (the library has no decoder).
func (r *renderer) xtMultiport(rev uint32, b []byte) bool {
	if (rev == 0 && len(b) < multiportV0Size) || (rev >= 1 && len(b) < multiportV1Size) {
		return false
	}
	count := int(b[1])
	if count > multiportMax {
		return false
	}
	var ports []string
	for i := 0; i < count; i++ {
		p := binary.NativeEndian.Uint16(b[multiportPorts+2*i:])
		if rev >= 1 && b[multiportPflags+i] != 0 && i+1 < count {
			i++
			ports = append(ports, fmt.Sprintf("%d-%d", p, binary.NativeEndian.Uint16(b[multiportPorts+2*i:])))
			continue
		}
		ports = append(ports, strconv.Itoa(int(p)))
	}
	inv := rev >= 1 && b[multiportV1Size-1] != 0
	l4 := r.l4
	if l4 == "" {
		l4 = "th"
	}
	v := strings.Join(ports, ",")
	shown := "{ " + strings.Join(ports, ", ") + " }"
	switch b[0] {
	case multiportSource:
		r.match(operand{name: l4 + " sport", kind: kindPort, field: "sport"}, inv, v, shown)
	case multiportDest:
		r.match(operand{name: l4 + " dport", kind: kindPort, field: "dport"}, inv, v, shown)
	default: // either direction
		r.match(operand{name: l4 + " sport . dport", kind: kindPort}, inv, v, shown)
		add(&r.info.sport, negate(v, inv))
		add(&r.info.dport, negate(v, inv))
	}
	return true
}

// xtTarget renders an iptables-nft compat target; its name is the
// verdict (REJECT → reject, LOG → log, MASQUERADE → masquerade).
func (r *renderer) xtTarget(e *expr.Target) {
	name := lower(e.Name)
	if name == "reject" {
		r.emit("reject")
	} else {
		r.emit(fmt.Sprintf("xt target %q", e.Name))
	}
	r.info.verdict = name
}
