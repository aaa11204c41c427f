package firewall

import (
	"fmt"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Names nft prints for meta and ct keys, payload bases, reject types and
// limits.

func metaOperand(k expr.MetaKey) operand {
	switch k {
	case expr.MetaKeyL4PROTO:
		return operand{name: "meta l4proto", kind: kindProto, field: "proto"}
	case expr.MetaKeyNFPROTO:
		return operand{name: "meta nfproto", kind: kindNfproto}
	case expr.MetaKeyPROTOCOL:
		return operand{name: "meta protocol", kind: kindEthertype}
	case expr.MetaKeyIIFNAME:
		return operand{name: "iifname", kind: kindIfname, field: "iif"}
	case expr.MetaKeyOIFNAME:
		return operand{name: "oifname", kind: kindIfname, field: "oif"}
	case expr.MetaKeyIIF:
		return operand{name: "iif", kind: kindUint}
	case expr.MetaKeyOIF:
		return operand{name: "oif", kind: kindUint}
	case expr.MetaKeyMARK, expr.MetaKeySKUID, expr.MetaKeySKGID:
		return operand{name: "meta " + metaKeyName(k), kind: kindUint}
	}
	return operand{name: "meta " + metaKeyName(k), kind: kindHex}
}

func metaKeyName(k expr.MetaKey) string {
	switch k {
	case expr.MetaKeyMARK:
		return "mark"
	case expr.MetaKeySKUID:
		return "skuid"
	case expr.MetaKeySKGID:
		return "skgid"
	case expr.MetaKeyPKTTYPE:
		return "pkttype"
	case expr.MetaKeyPRIORITY:
		return "priority"
	case expr.MetaKeyNFTRACE:
		return "nftrace"
	case expr.MetaKeyIIFTYPE:
		return "iiftype"
	case expr.MetaKeyOIFTYPE:
		return "oiftype"
	case expr.MetaKeyLEN:
		return "length"
	case expr.MetaKeyCGROUP:
		return "cgroup"
	}
	return fmt.Sprintf("key%d", k)
}

func ctOperand(k expr.CtKey) operand {
	switch k {
	case expr.CtKeySTATE:
		return operand{name: "ct state", kind: kindCtState, field: "ct"}
	case expr.CtKeyMARK:
		return operand{name: "ct mark", kind: kindUint}
	}
	return operand{name: "ct " + ctKeyName(k), kind: kindHex}
}

func ctKeyName(k expr.CtKey) string {
	switch k {
	case expr.CtKeySTATE:
		return "state"
	case expr.CtKeyDIRECTION:
		return "direction"
	case expr.CtKeySTATUS:
		return "status"
	case expr.CtKeyMARK:
		return "mark"
	case expr.CtKeyHELPER:
		return "helper"
	case expr.CtKeyZONE:
		return "zone"
	}
	return fmt.Sprintf("key%d", k)
}

func baseName(b expr.PayloadBase) string {
	switch b {
	case expr.PayloadBaseLLHeader:
		return "ll"
	case expr.PayloadBaseNetworkHeader:
		return "nh"
	case expr.PayloadBaseTransportHeader:
		return "th"
	}
	return fmt.Sprintf("base%d", b)
}

// rejectText follows nft: the table family's default reply (icmp
// port-unreachable for ip, icmpv6 for ip6, icmpx for inet) is plain
// "reject".
func rejectText(e *expr.Reject, family, l3 string) string {
	switch e.Type {
	case 1: // NFT_REJECT_TCP_RST
		return "reject with tcp reset"
	case 0: // NFT_REJECT_ICMP_UNREACH
		if l3 == "ip6" {
			if e.Code == 4 && family == "ip6" {
				return "reject"
			}
			return fmt.Sprintf("reject with icmpv6 code %d", e.Code)
		}
		if e.Code == 3 && family == "ip" {
			return "reject"
		}
		return "reject with icmp " + icmpUnreachName(e.Code)
	case 2: // NFT_REJECT_ICMPX_UNREACH
		if e.Code == 1 {
			return "reject"
		}
		return fmt.Sprintf("reject with icmpx code %d", e.Code)
	}
	return fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
}

func icmpUnreachName(c uint8) string {
	switch c {
	case 0:
		return "net-unreachable"
	case 1:
		return "host-unreachable"
	case 2:
		return "prot-unreachable"
	case 3:
		return "port-unreachable"
	case 9:
		return "net-prohibited"
	case 10:
		return "host-prohibited"
	case 13:
		return "admin-prohibited"
	}
	return "code " + strconv.Itoa(int(c))
}

func limitText(e *expr.Limit) string {
	unit := map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute",
		expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day"}[e.Unit]
	s := "limit rate "
	if e.Over {
		s += "over "
	}
	s += fmt.Sprintf("%d", e.Rate)
	if e.Type == expr.LimitTypePktBytes {
		s += " bytes"
	}
	return s + "/" + unit
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return "family" + strconv.Itoa(int(f))
}

func hookName(f nftables.TableFamily, h nftables.ChainHook) string {
	if f == nftables.TableFamilyNetdev {
		switch h {
		case unix.NF_NETDEV_INGRESS:
			return "ingress"
		case unix.NF_NETDEV_EGRESS:
			return "egress"
		}
	}
	if f == nftables.TableFamilyARP {
		switch h {
		case 0:
			return "input"
		case 1:
			return "output"
		}
	}
	switch h {
	case unix.NF_INET_PRE_ROUTING:
		return "prerouting"
	case unix.NF_INET_LOCAL_IN:
		return "input"
	case unix.NF_INET_FORWARD:
		return "forward"
	case unix.NF_INET_LOCAL_OUT:
		return "output"
	case unix.NF_INET_POST_ROUTING:
		return "postrouting"
	case 5: // NF_INET_INGRESS (inet family, kernel 5.10+)
		return "ingress"
	}
	return "hook" + strconv.Itoa(int(h))
}
