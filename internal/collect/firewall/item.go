package firewall

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Frameworks, the values of ExtraDetails["Framework"].
const (
	FrameworkNftables       = "nftables"
	FrameworkIptablesLegacy = "iptables-legacy"
)

// Schema actions.
const (
	actionAllow = "Allow"
	actionDeny  = "Deny"
	actionOther = "Other"
)

// maxRuleText bounds one rule's rendering (and so one payload item): a
// rule over a huge anonymous set must still fit in a message.
const maxRuleText = 2048

// chainInfo is what every rule of a chain shares.
type chainInfo struct {
	framework string
	family    string // ip, ip6, inet, arp, bridge, netdev
	table     string
	name      string
	hook      string // empty for a regular (non-base) chain
	priority  string // base chains of nftables only
	chainType string
	policy    string // accept or drop; empty when the chain has none
}

// ruleInfo is one rule rendered: the text, its verdict and the parts of
// it that have schema fields. Fields holding several matches are
// comma-joined; a negated match is written !(value).
type ruleInfo struct {
	text, verdict                 string
	proto, src, dst, sport, dport string
	iif, oif, ctState, comment    string
	handle                        string
}

// add appends v to a comma-joined field.
func add(field *string, v string) {
	if v == "" {
		return
	}
	if *field != "" {
		*field += ","
	}
	*field += v
}

func negate(v string, neg bool) string {
	if neg {
		return "!(" + v + ")"
	}
	return v
}

// action maps a verdict to the schema's Action: accepting is Allow,
// dropping or rejecting is Deny, anything else (a jump, return, log,
// NAT, or no verdict at all) is Other.
func action(verdict string) string {
	switch verdict {
	case "accept":
		return actionAllow
	case "drop", "reject":
		return actionDeny
	}
	return actionOther
}

// direction is In for the hooks a packet to this host passes, Out for
// those of packets it sends; forwarding and routing hooks have none.
func direction(hook string) string {
	switch hook {
	case "input", "ingress":
		return "In"
	case "output", "egress":
		return "Out"
	}
	return ""
}

// newItem builds the payload item of the rule at index prio of ch.
func newItem(ch chainInfo, prio int, r ruleInfo) event.FirewallRule {
	p := int64(prio)
	d := map[string]string{
		"Framework": ch.framework,
		"Family":    ch.family,
		"Table":     ch.table,
		"Rule":      truncate(r.text, maxRuleText),
		"Verdict":   r.verdict,
	}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("Hook", ch.hook)
	set("ChainPriority", ch.priority)
	set("ChainType", ch.chainType)
	set("Handle", r.handle)
	set("InInterface", r.iif)
	set("OutInterface", r.oif)
	set("ConntrackState", r.ctState)
	set("Comment", r.comment)
	return event.FirewallRule{
		Priority:           &p,
		Direction:          direction(ch.hook),
		ChainName:          ch.name,
		Enabled:            true,
		Action:             action(r.verdict),
		SourceAddress:      truncate(r.src, maxRuleText/4),
		SourcePort:         truncate(r.sport, maxRuleText/4),
		DestinationAddress: truncate(r.dst, maxRuleText/4),
		DestinationPort:    truncate(r.dport, maxRuleText/4),
		Protocol:           r.proto,
		ExtraDetails:       d,
	}
}

// chainItems turns a chain's rules into payload items, the policy of a
// base chain last, with Priority = number of rules (as both agents did).
func chainItems(ch chainInfo, rules []ruleInfo, policyText string) []event.FirewallRule {
	items := make([]event.FirewallRule, 0, len(rules)+1)
	for i, r := range rules {
		items = append(items, newItem(ch, i, r))
	}
	if ch.policy != "" {
		items = append(items, newItem(ch, len(rules), ruleInfo{text: policyText, verdict: ch.policy}))
	}
	return items
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func lower(s string) string { return strings.ToLower(s) }

// ctStateBits names conntrack state bits as nft does (xt_conntrack and
// xt_state use the same bits).
func ctStateBits(v uint32) string {
	names := []struct {
		bit  uint32
		name string
	}{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}}
	var out []string
	for _, n := range names {
		if v&n.bit != 0 {
			out = append(out, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("0x%x", v))
	}
	return strings.Join(out, ",")
}
