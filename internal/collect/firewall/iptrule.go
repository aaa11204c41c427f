package firewall

import (
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// iptablesItems turns parsed iptables-save tables of family (ip or ip6)
// into payload items.
func iptablesItems(family string, tables []*iptTable) []event.FirewallRule {
	var items []event.FirewallRule
	for _, t := range tables {
		isChain := make(map[string]bool, len(t.chains))
		for _, ch := range t.chains {
			isChain[ch.name] = true
		}
		for _, ch := range t.chains {
			info := chainInfo{framework: FrameworkIptablesLegacy, family: family, table: t.name, name: ch.name}
			if ch.policy != "-" {
				info.hook = lower(ch.name) // built-in chains are named after their hook
				info.policy = lower(ch.policy)
			}
			rules := make([]ruleInfo, 0, len(ch.rules))
			for _, args := range ch.rules {
				rules = append(rules, iptRule(ch.name, args, isChain))
			}
			items = append(items, chainItems(info, rules, "-P "+ch.name+" "+ch.policy)...)
		}
	}
	return items
}

// iptRule reads the options of one -A line. "! -s x" negates the
// option that follows; every option's values run to the next option.
func iptRule(chain string, args []string, isChain map[string]bool) ruleInfo {
	r := ruleInfo{text: "-A " + chain + " " + quoteArgs(args)}
	neg := false
	for i := 0; i < len(args); i++ {
		opt := args[i]
		if opt == "!" {
			neg = true
			continue
		}
		var vals []string
		for i+1 < len(args) && args[i+1] != "!" && !isOption(args[i+1]) {
			i++
			vals = append(vals, args[i])
		}
		val := strings.Join(vals, " ")
		switch opt {
		case "-p", "--protocol":
			add(&r.proto, negate(lower(val), neg))
		case "-s", "--source", "--src-range":
			add(&r.src, negate(hostAddr(val), neg))
		case "-d", "--destination", "--dst-range":
			add(&r.dst, negate(hostAddr(val), neg))
		case "--sport", "--source-port", "--sports", "--source-ports":
			add(&r.sport, negate(ports(val), neg))
		case "--dport", "--destination-port", "--dports", "--destination-ports":
			add(&r.dport, negate(ports(val), neg))
		case "--ports":
			add(&r.sport, negate(ports(val), neg))
			add(&r.dport, negate(ports(val), neg))
		case "-i", "--in-interface":
			add(&r.iif, negate(ifPrefix(val), neg))
		case "-o", "--out-interface":
			add(&r.oif, negate(ifPrefix(val), neg))
		case "--ctstate", "--state":
			add(&r.ctState, negate(ctStates(val), neg))
		case "--comment":
			r.comment = val
		case "-j", "--jump":
			r.verdict = iptVerdict(val, "jump", isChain)
		case "-g", "--goto":
			r.verdict = iptVerdict(val, "goto", isChain)
		}
		neg = false
	}
	if r.verdict == "" {
		r.verdict = "continue"
	}
	return r
}

// isOption tells an option from a value; negative numbers are values.
func isOption(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	_, err := strconv.Atoi(s)
	return err != nil
}

// iptVerdict names a target as nft would: a user chain is jumped to,
// built-in targets are lower-cased (ACCEPT → accept, LOG → log).
func iptVerdict(target, kw string, isChain map[string]bool) string {
	if isChain[target] || kw == "goto" {
		return kw + " " + target
	}
	return lower(target)
}

// The fields read the same as those of the native readers: a host
// address without its /32 or /128, an interface prefix as eth*, and
// conntrack states in nft's order.

func hostAddr(v string) string {
	if strings.Contains(v, ":") {
		return strings.TrimSuffix(v, "/128")
	}
	return strings.TrimSuffix(v, "/32")
}

func ifPrefix(v string) string {
	if p, ok := strings.CutSuffix(v, "+"); ok {
		return p + "*"
	}
	return v
}

var ctStateBit = map[string]uint32{"INVALID": 1, "ESTABLISHED": 2, "RELATED": 4, "NEW": 8, "UNTRACKED": 64}

func ctStates(v string) string {
	var bits uint32
	var other []string
	for _, s := range strings.Split(v, ",") {
		if b, ok := ctStateBit[strings.ToUpper(s)]; ok {
			bits |= b
		} else {
			other = append(other, lower(s)) // snat, dnat: not state bits
		}
	}
	return strings.Join(append(splitNonEmpty(ctStateBits(bits)), other...), ",")
}

func splitNonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// ports writes iptables port ranges (1024:65535) as the schema's 1024-65535.
func ports(v string) string { return strings.ReplaceAll(v, ":", "-") }

// quoteArgs joins arguments, quoting those iptables-save would quote.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"\\") {
			a = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
