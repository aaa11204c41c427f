package firewall

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// valueKind says how the bytes a register is compared with are printed.
type valueKind uint8

const (
	kindHex       valueKind = iota // unknown: 0x…
	kindAddr4                      // IPv4 address (or its first bytes)
	kindAddr6                      // IPv6 address
	kindPort                       // big-endian 16-bit port
	kindProto                      // one byte, an IP protocol number
	kindNfproto                    // one byte, NFPROTO_*
	kindEthertype                  // big-endian 16-bit
	kindIfname                     // NUL-padded interface name
	kindUint                       // host-endian 32-bit number
	kindCtState                    // host-endian conntrack state bits
	kindTCPFlags                   // one byte of TCP flags
)

// formatValue prints data as the operand's type, applying its prefix or
// mask for addresses.
func formatValue(op operand, data []byte) string {
	switch op.kind {
	case kindAddr4, kindAddr6:
		return formatAddr(op, data)
	case kindPort, kindEthertype:
		if len(data) < 2 {
			break
		}
		v := binary.BigEndian.Uint16(data)
		if op.kind == kindEthertype {
			return ethertypeName(v)
		}
		return strconv.Itoa(int(v))
	case kindProto:
		if len(data) > 0 {
			return protoName(data[0])
		}
	case kindNfproto:
		if len(data) > 0 {
			return nfprotoName(data[0])
		}
	case kindIfname:
		name, _, terminated := strings.Cut(string(data), "\x00")
		if !terminated {
			return name + "*" // iptables-nft's "eth+" compares the prefix only
		}
		return name
	case kindUint:
		if len(data) >= 4 {
			return strconv.FormatUint(uint64(binary.NativeEndian.Uint32(data)), 10)
		}
	case kindCtState:
		return ctStateText(data)
	case kindTCPFlags:
		if len(data) > 0 {
			return tcpFlagsText(data[0])
		}
	}
	return "0x" + hex.EncodeToString(data)
}

func formatAddr(op operand, data []byte) string {
	size := 4
	if op.kind == kindAddr6 {
		size = 16
	}
	if len(data) > size {
		return "0x" + hex.EncodeToString(data)
	}
	full := make([]byte, size)
	copy(full, data)
	addr, _ := netip.AddrFromSlice(full)
	bits := size * 8
	if op.prefix > 0 {
		bits = op.prefix
	}
	if len(op.mask) == size {
		bits = maskBits(op.mask)
	}
	if bits == size*8 {
		return addr.String()
	}
	return netip.PrefixFrom(addr, bits).String()
}

// maskBits counts the leading one bits of a netmask.
func maskBits(mask []byte) int {
	n := 0
	for _, b := range mask {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) == 0 {
				return n
			}
			n++
		}
	}
	return n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var protoNames = map[byte]string{
	1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
	50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp", 136: "udplite",
}

// protoName is the lower-case name of an IP protocol, as in
// /etc/protocols, or its number.
func protoName(p byte) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

func portProto(l4 string) bool {
	switch l4 {
	case "tcp", "udp", "udplite", "sctp", "dccp", "th":
		return true
	}
	return false
}

func nfprotoName(p byte) string {
	switch p {
	case 2:
		return "ipv4"
	case 10:
		return "ipv6"
	}
	return strconv.Itoa(int(p))
}

func ethertypeName(v uint16) string {
	switch v {
	case 0x0800:
		return "ip"
	case 0x86dd:
		return "ip6"
	case 0x0806:
		return "arp"
	case 0x8100:
		return "vlan"
	}
	return fmt.Sprintf("0x%04x", v)
}

// ctStateText prints conntrack state bits as nft does; data is the
// host-endian mask (nft) or state mask (xt_conntrack), which share bits.
func ctStateText(data []byte) string {
	var v uint32
	switch {
	case len(data) >= 4:
		v = binary.NativeEndian.Uint32(data)
	case len(data) == 2:
		v = uint32(binary.NativeEndian.Uint16(data))
	case len(data) == 1:
		v = uint32(data[0])
	}
	return ctStateBits(v)
}

func tcpFlagsText(f byte) string {
	names := []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}
