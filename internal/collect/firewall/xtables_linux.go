package firewall

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

const (
	xtSoGetInfo    = 64 // IPT_SO_GET_INFO, IP6T_SO_GET_INFO
	xtSoGetEntries = 65 // IPT_SO_GET_ENTRIES, IP6T_SO_GET_ENTRIES
	// xtRetries bounds re-reads of a table that changed between the two
	// getsockopt calls (the kernel then answers EAGAIN).
	xtRetries = 3
)

// xtAlign is how this ABI aligns a 64-bit integer, which moves fields of
// the entries (a 32-bit process on a 64-bit kernel gets its own layout).
var xtAlign = map[bool]int{true: 4, false: 8}[runtime.GOARCH == "386"]

// readXtables reads the named legacy tables of family (ip or ip6) from
// the kernel, as iptables-legacy-save does but without the tool: any
// AF_INET/AF_INET6 socket answers the x_tables getsockopts (a UDP one
// needs no CAP_NET_RAW), which need CAP_NET_ADMIN. Only tables the
// kernel already lists are asked for, so none is instantiated.
func readXtables(family string, tables []string) ([]event.FirewallRule, error) {
	lay := xtLayoutFor(family, xtAlign)
	domain, level := unix.AF_INET, unix.SOL_IP
	if family == "ip6" {
		domain, level = unix.AF_INET6, unix.SOL_IPV6
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("x_tables socket: %w", err)
	}
	defer unix.Close(fd)
	var items []event.FirewallRule
	var errs []error
	for _, t := range tables {
		in, blob, err := getXtTable(fd, level, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s table %s: %w", family, t, err))
			continue
		}
		its, err := xtTableItems(lay, t, in, blob)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s table %s: %w", family, t, err))
			continue
		}
		items = append(items, its...)
	}
	return items, needsNetAdmin(errors.Join(errs...))
}

func getXtTable(fd, level int, table string) (xtInfo, []byte, error) {
	if len(table) >= xtTableMaxName {
		return xtInfo{}, nil, fmt.Errorf("table name of %d bytes", len(table))
	}
	// struct ipt_get_entries: name, size, then the entries aligned as a
	// 64-bit integer.
	hdr := (xtTableMaxName + 4 + xtAlign - 1) / xtAlign * xtAlign
	for try := 0; ; try++ {
		ib := make([]byte, xtGetinfoSize)
		copy(ib, table)
		if err := getsockopt(fd, level, xtSoGetInfo, ib); err != nil {
			return xtInfo{}, nil, fmt.Errorf("get info: %w", err)
		}
		in, err := parseXtInfo(ib)
		if err != nil {
			return xtInfo{}, nil, err
		}
		if in.size > maxXtTableBytes {
			return xtInfo{}, nil, fmt.Errorf("table of %d bytes exceeds %d", in.size, maxXtTableBytes)
		}
		eb := make([]byte, hdr+int(in.size))
		copy(eb, table)
		binary.NativeEndian.PutUint32(eb[xtTableMaxName:], in.size)
		err = getsockopt(fd, level, xtSoGetEntries, eb)
		if errors.Is(err, unix.EAGAIN) && try < xtRetries {
			continue // the table changed size since get info
		}
		if err != nil {
			return xtInfo{}, nil, fmt.Errorf("get entries: %w", err)
		}
		return in, eb[hdr:], nil
	}
}

// getsockopt with a caller's buffer, which x/sys/unix does not offer for
// arbitrary options (SYS_GETSOCKOPT exists on i386 since Linux 4.3).
func getsockopt(fd, level, opt int, buf []byte) error {
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// xtTableItems decodes one table's entries into payload items.
func xtTableItems(lay xtLayout, table string, in xtInfo, blob []byte) ([]event.FirewallRule, error) {
	ents, err := splitXtEntries(lay, blob)
	if err != nil {
		return nil, err
	}
	chains, starts, err := xtChains(in, ents)
	if err != nil {
		return nil, err
	}
	var items []event.FirewallRule
	for _, ch := range chains {
		info := chainInfo{framework: FrameworkIptablesLegacy, family: lay.family, table: table, name: ch.name, policy: ch.policy}
		if ch.hook >= 0 {
			info.hook = lower(ch.name) // built-in chains are named after their hook
		}
		rules := make([]ruleInfo, 0, len(ch.entries))
		for _, e := range ch.entries {
			rules = append(rules, renderXtEntry(lay, e, starts))
		}
		items = append(items, chainItems(info, rules, "policy "+info.policy)...)
	}
	return items, nil
}

// renderXtEntry renders a legacy rule with the renderer of iptables-nft
// rules, so that both backends read alike.
func renderXtEntry(lay xtLayout, e xtEntry, starts map[uint32]string) ruleInfo {
	r := &renderer{family: lay.family, l3: lay.family, regs: map[uint32]operand{}, depPart: -1,
		sets: func(string) (*setView, bool) { return nil, false }}
	h := e.header
	inv := h[lay.invflags]
	r.xtIface("iifname", "iif", h[lay.iniface:lay.iniface+16], h[lay.iniMask:lay.iniMask+16], inv&xtInvIn != 0)
	r.xtIface("oifname", "oif", h[lay.outiface:lay.outiface+16], h[lay.outMask:lay.outMask+16], inv&xtInvOut != 0)
	kind := kindAddr4
	if lay.family == "ip6" {
		kind = kindAddr6
	}
	for _, a := range []struct {
		name, field string
		addr, mask  int
		inv         bool
	}{{"saddr", "src", lay.src, lay.smsk, inv&xtInvSrc != 0}, {"daddr", "dst", lay.dst, lay.dmsk, inv&xtInvDst != 0}} {
		mask := h[a.mask : a.mask+lay.addrLen]
		if allZero(mask) && !a.inv {
			continue
		}
		op := operand{name: lay.family + " " + a.name, kind: kind, field: a.field, mask: mask}
		r.match(op, a.inv, formatAddr(op, h[a.addr:a.addr+lay.addrLen]), "")
	}
	proto := binary.NativeEndian.Uint16(h[lay.proto:])
	if lay.family == "ip6" && h[lay.flags]&0x01 == 0 { // IP6T_F_PROTO
		proto = 0
	}
	if proto != 0 && proto < 256 {
		p := protoName(byte(proto))
		neg := inv&xtInvProto != 0
		if !neg && hasMatch(e, p) {
			add(&r.info.proto, p) // "-p tcp -m tcp --dport 22" reads "tcp dport 22"
		} else {
			r.match(operand{name: "meta l4proto", kind: kindProto, field: "proto"}, neg, p, "")
		}
		if !neg {
			r.l4 = p
		}
	}
	fam := xt.TableFamily(unix.NFPROTO_IPV4)
	if lay.family == "ip6" {
		fam = unix.NFPROTO_IPV6
	}
	for _, m := range e.matches {
		r.xtMatch(&expr.Match{Name: m.name, Rev: uint32(m.rev), Info: xtInfoOf(m, fam)})
	}
	r.xtStandard(e, starts, h[lay.flags]&lay.gotoFlag != 0)
	if e.target.name != "" {
		r.xtTarget(&expr.Target{Name: e.target.name, Rev: uint32(e.target.rev), Info: xtInfoOf(e.target, fam)})
	}
	if r.info.verdict == "" {
		r.info.verdict = "continue"
	}
	r.info.text = strings.Join(r.parts, " ")
	return r.info
}

// xtIface matches an interface: the mask covers the name and its NUL
// for an exact name, the prefix only for "eth+" (shown as eth*).
func (r *renderer) xtIface(name, field string, iface, mask []byte, neg bool) {
	n := bytes.IndexByte(iface, 0)
	if n < 0 {
		n = len(iface)
	}
	m := bytes.IndexByte(mask, 0)
	if m < 0 {
		m = len(mask)
	}
	if n == 0 || m == 0 {
		return // any interface
	}
	data := iface[:min(n, m)]
	if m > n {
		data = iface[:n+1] // the NUL too: the exact name
	}
	op := operand{name: name, kind: kindIfname, field: field}
	r.match(op, neg, formatValue(op, data), "")
}

func hasMatch(e xtEntry, name string) bool {
	for _, m := range e.matches {
		if m.name == name {
			return true
		}
	}
	return false
}

// xtStandard renders the verdict of the standard target (empty name).
func (r *renderer) xtStandard(e xtEntry, starts map[uint32]string, isGoto bool) {
	if e.target.name != "" {
		return
	}
	if len(e.target.data) < 4 {
		r.emit("verdict <undecodable>")
		r.info.verdict = "unknown"
		return
	}
	v := int32(binary.NativeEndian.Uint32(e.target.data))
	var k expr.VerdictKind
	var chain string
	switch {
	case v >= 0 && uint32(v) == e.next:
		return // falls through: a rule without a target
	case v >= 0:
		chain = starts[uint32(v)]
		if chain == "" {
			chain = fmt.Sprintf("@%d", v)
		}
		k = expr.VerdictJump
		if isGoto {
			k = expr.VerdictGoto
		}
	case v == xtVerdictAccept:
		k = expr.VerdictAccept
	case v == xtVerdictDrop:
		k = expr.VerdictDrop
	case v == xtVerdictReturn:
		k = expr.VerdictReturn
	case v == xtVerdictQueue:
		k = expr.VerdictQueue
	default:
		r.emit(fmt.Sprintf("verdict %d", v))
		r.info.verdict = "unknown"
		return
	}
	r.verdict(&expr.Verdict{Kind: k, Chain: chain})
}

// xtDecoded are the extensions whose data the renderer reads through
// the library's decoders. Others stay raw: the library's SNAT/DNAT/
// MASQUERADE decoders size a slice from a count in the data, which a
// corrupt table (or the fuzzer) turns into a many-gigabyte allocation.
var xtDecoded = map[string]bool{"tcp": true, "udp": true, "conntrack": true, "comment": true}

// xtInfoOf decodes a match's data with the library's decoders, keeping
// the bytes when it has none or they do not decode.
func xtInfoOf(x xtExt, fam xt.TableFamily) (info xt.InfoAny) {
	raw := xt.Unknown(x.data)
	if !xtDecoded[x.name] {
		return &raw
	}
	defer func() {
		if recover() != nil {
			info = &raw // the library panicking on hostile bytes
		}
	}()
	info, err := xt.Unmarshal(x.name, fam, uint32(x.rev), x.data)
	if err != nil || info == nil {
		return &raw
	}
	return info
}
