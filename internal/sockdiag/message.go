package sockdiag

import (
	"encoding/binary"
	"net/netip"
	"syscall"
)

// Wire sizes and constants of netlink and inet_diag (linux/netlink.h,
// linux/inet_diag.h). Multi-byte fields are in host byte order except the
// ports and addresses of inet_diag_sockid, which are in network order.
const (
	nlmsgHdrLen    = 16 // struct nlmsghdr
	inetDiagReqLen = 56 // struct inet_diag_req_v2
	inetDiagMsgLen = 72 // struct inet_diag_msg

	nlmsgNoop        = 1
	nlmsgError       = 2
	nlmsgDone        = 3
	nlmsgOverrun     = 4
	sockDiagByFamily = 20

	nlmFRequest = 0x1
	nlmFDump    = 0x300 // NLM_F_ROOT | NLM_F_MATCH
)

// Offsets inside struct inet_diag_msg.
const (
	offFamily = 0
	offState  = 1
	offSport  = 4 // id.idiag_sport, __be16
	offDport  = 6
	offSrc    = 8  // id.idiag_src, 16 bytes
	offDst    = 24 // id.idiag_dst, 16 bytes
	offIf     = 40
	offCookie = 44 // two __u32, low word first
	offUID    = 64
	offInode  = 68
)

// marshalRequest builds the SOCK_DIAG_BY_FAMILY dump request for req.
func marshalRequest(req Request, seq uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0] = byte(req.Family)
	r[1] = byte(req.Protocol)
	ne.PutUint32(r[4:], uint32(req.States))
	// The zero sockid with a dump flag means "all sockets".
	return b
}

// ParseInetDiagMsg parses one struct inet_diag_msg, the payload of a
// SOCK_DIAG_BY_FAMILY reply; the attributes after it are ignored. The
// message does not carry the protocol, which the request chose.
func ParseInetDiagMsg(b []byte, proto Protocol) (Socket, error) {
	if len(b) < inetDiagMsgLen {
		return Socket{}, malformed("inet_diag_msg: %d bytes, want %d", len(b), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	s := Socket{
		Family:    Family(b[offFamily]),
		Protocol:  proto,
		State:     State(b[offState]),
		Interface: ne.Uint32(b[offIf:]),
		Cookie:    uint64(ne.Uint32(b[offCookie:])) | uint64(ne.Uint32(b[offCookie+4:]))<<32,
		UID:       ne.Uint32(b[offUID:]),
		Inode:     uint64(ne.Uint32(b[offInode:])),
	}
	sport := binary.BigEndian.Uint16(b[offSport:])
	dport := binary.BigEndian.Uint16(b[offDport:])
	switch s.Family {
	case IPv4:
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[offSrc:offSrc+4])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[offDst:offDst+4])), dport)
	case IPv6:
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[offSrc:offSrc+16])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[offDst:offDst+16])), dport)
	default:
		return Socket{}, malformed("inet_diag_msg: family %d", b[offFamily])
	}
	return s, nil
}

// parseDump parses one datagram of a dump reply, appending its sockets to
// dst. done is true once NLMSG_DONE was read. A message of another
// sequence number is an error: the socket is used for one dump at a time.
func parseDump(b []byte, seq uint32, proto Protocol, dst []Socket) (_ []Socket, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return dst, false, malformed("netlink header: %d bytes left", len(b))
		}
		n := ne.Uint32(b[0:])
		typ := ne.Uint16(b[4:])
		if n < nlmsgHdrLen || uint64(n) > uint64(len(b)) {
			return dst, false, malformed("netlink message length %d of %d bytes", n, len(b))
		}
		if got := ne.Uint32(b[8:]); got != seq {
			return dst, false, malformed("netlink sequence %d, want %d", got, seq)
		}
		payload := b[nlmsgHdrLen:n]
		switch typ {
		case sockDiagByFamily:
			if len(dst) >= MaxSockets {
				return dst, false, ErrTooMany
			}
			s, err := ParseInetDiagMsg(payload, proto)
			if err != nil {
				return dst, false, err
			}
			dst = append(dst, s)
		case nlmsgDone:
			// Since Linux 4.x the done message carries the dump's error.
			if len(payload) >= 4 {
				if e := int32(ne.Uint32(payload)); e < 0 {
					return dst, true, syscall.Errno(-e)
				}
			}
			return dst, true, nil
		case nlmsgError:
			if len(payload) < 4 {
				return dst, false, malformed("netlink error: %d bytes", len(payload))
			}
			if e := int32(ne.Uint32(payload)); e < 0 {
				return dst, true, syscall.Errno(-e)
			}
			return dst, true, nil // an ack ends the exchange too
		case nlmsgOverrun:
			return dst, false, malformed("netlink overrun")
		case nlmsgNoop:
		default:
			return dst, false, malformed("netlink message type %d", typ)
		}
		// Messages are 4-byte aligned.
		adv := (int(n) + 3) &^ 3
		if adv > len(b) {
			adv = len(b)
		}
		b = b[adv:]
	}
	return dst, false, nil
}
