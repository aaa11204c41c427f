package firewall

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// maxGenRetries bounds re-reads when the ruleset changes mid-dump.
const maxGenRetries = 3

// readNftables lists every table, chain and rule of every family in the
// calling thread's network namespace (the host's: the module runs with
// host networking). It needs CAP_NET_ADMIN. The dump is retried when
// the ruleset generation changes while it is read, so a snapshot is
// never half of an update.
func readNftables() ([]event.FirewallRule, uint32, error) {
	items, gen, err := readNftablesOnce()
	return items, gen, needsNetAdmin(err)
}

// nftGeneration reads the ruleset generation alone: one small message,
// so that Watch dumps the ruleset only after a commit.
func nftGeneration() (uint32, error) {
	nl, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return 0, needsNetAdmin(fmt.Errorf("dial nfnetlink: %w", err))
	}
	defer nl.Close()
	gen, err := generation(nl)
	return gen, needsNetAdmin(err)
}

// needsNetAdmin names the missing capability behind EPERM, the usual
// cause: a manifest without CAP_NET_ADMIN.
func needsNetAdmin(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (CAP_NET_ADMIN is needed)", err)
	}
	return err
}

func readNftablesOnce() ([]event.FirewallRule, uint32, error) {
	nl, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("dial nfnetlink: %w", err)
	}
	defer nl.Close()
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, 0, fmt.Errorf("open nftables: %w", err)
	}
	defer conn.CloseLasting()
	for try := 0; ; try++ {
		before, err := generation(nl)
		if err != nil {
			return nil, 0, err
		}
		items, err := readRuleset(conn, nl)
		if err != nil {
			return nil, 0, err
		}
		after, err := generation(nl)
		if err != nil {
			return nil, 0, err
		}
		if before == after || try == maxGenRetries {
			return items, after, nil
		}
	}
}

func nfgen(typ uint16, flags netlink.HeaderFlags) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: netlink.Request | flags},
		Data:   []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0},
	}
}

// generation reads the ruleset generation id, bumped by every commit.
func generation(nl *netlink.Conn) (uint32, error) {
	msgs, err := nl.Execute(nfgen(unix.NFT_MSG_GETGEN, 0))
	if err != nil {
		return 0, fmt.Errorf("get nftables generation: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, fmt.Errorf("get nftables generation: %w", err)
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				return ad.Uint32(), nil
			}
		}
	}
	return 0, errors.New("get nftables generation: no id in reply")
}

type chainKey struct {
	family nftables.TableFamily
	table  string
	chain  string
}

func readRuleset(conn *nftables.Conn, nl *netlink.Conn) ([]event.FirewallRule, error) {
	chains, err := conn.ListChains()
	if err != nil {
		return nil, fmt.Errorf("list nftables chains: %w", err)
	}
	rules, err := dumpRules(nl)
	if err != nil {
		return nil, err
	}
	byChain := map[chainKey][]rawRule{}
	for _, r := range rules {
		k := chainKey{r.family, r.table, r.chain}
		byChain[k] = append(byChain[k], r)
	}
	tables := map[chainKey]*tableSets{}
	// Tables, then chains, in a stable order: by family, table, and base
	// chains by hook priority before regular chains, by name.
	slices.SortStableFunc(chains, compareChains)
	var items []event.FirewallRule
	for _, ch := range chains {
		tk := chainKey{family: ch.Table.Family, table: ch.Table.Name}
		ts, ok := tables[tk]
		if !ok {
			ts = &tableSets{conn: conn, nl: nl, table: ch.Table}
			tables[tk] = ts
		}
		info := nftChainInfo(ch)
		raws := byChain[chainKey{ch.Table.Family, ch.Table.Name, ch.Name}]
		rendered := make([]ruleInfo, 0, len(raws))
		for _, raw := range raws {
			ri := renderNft(info.family, raw.exprs, ts.resolve)
			ri.handle = strconv.FormatUint(raw.handle, 10)
			if c, ok := userdata.GetString(raw.userData, userdata.TypeComment); ok && c != "" {
				ri.comment = c
				ri.text += fmt.Sprintf(" comment %q", c)
			}
			rendered = append(rendered, ri)
		}
		items = append(items, chainItems(info, rendered, "policy "+info.policy)...)
	}
	return items, nil
}

func compareChains(a, b *nftables.Chain) int {
	if a.Table.Family != b.Table.Family {
		return int(a.Table.Family) - int(b.Table.Family)
	}
	if a.Table.Name != b.Table.Name {
		if a.Table.Name < b.Table.Name {
			return -1
		}
		return 1
	}
	switch {
	case a.Hooknum != nil && b.Hooknum == nil:
		return -1
	case a.Hooknum == nil && b.Hooknum != nil:
		return 1
	case a.Hooknum != nil && *a.Hooknum != *b.Hooknum:
		return int(*a.Hooknum) - int(*b.Hooknum)
	case a.Priority != nil && b.Priority != nil && *a.Priority != *b.Priority:
		if *a.Priority < *b.Priority {
			return -1
		}
		return 1
	}
	if a.Name < b.Name {
		return -1
	} else if a.Name > b.Name {
		return 1
	}
	return 0
}

func nftChainInfo(ch *nftables.Chain) chainInfo {
	info := chainInfo{
		framework: FrameworkNftables,
		family:    familyName(ch.Table.Family),
		table:     ch.Table.Name,
		name:      ch.Name,
	}
	if ch.Hooknum == nil {
		return info // a regular chain: reached by jump or goto only
	}
	info.hook = hookName(ch.Table.Family, *ch.Hooknum)
	info.chainType = string(ch.Type)
	if ch.Priority != nil {
		info.priority = strconv.Itoa(int(*ch.Priority))
	}
	info.policy = "accept" // the kernel's default for a base chain
	if ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
		info.policy = "drop"
	}
	return info
}

// tableSets loads a table's sets and their elements when a rule first
// looks one up.
type tableSets struct {
	conn   *nftables.Conn
	nl     *netlink.Conn
	table  *nftables.Table
	sets   map[string]*nftables.Set
	views  map[string]*setView
	failed bool
}

func (t *tableSets) resolve(name string) (*setView, bool) {
	if v, ok := t.views[name]; ok {
		return v, true
	}
	if t.sets == nil && !t.failed {
		sets, err := t.conn.GetSets(t.table)
		if err != nil {
			t.failed = true // rendered as @name without elements
			return nil, false
		}
		t.sets = make(map[string]*nftables.Set, len(sets))
		t.views = map[string]*setView{}
		for _, s := range sets {
			t.sets[s.Name] = s
		}
	}
	s, ok := t.sets[name]
	if !ok {
		return nil, false
	}
	elems, omitted, err := getSetElems(t.nl, byte(t.table.Family), t.table.Name, s.Name)
	if err != nil {
		return nil, false // rendered as @name without elements
	}
	v := &setView{anonymous: s.Anonymous, interval: s.Interval, elems: elems, omitted: omitted}
	t.views[name] = v
	return v, true
}

// dumpRules reads every rule of every family in one dump.
func dumpRules(nl *netlink.Conn) ([]rawRule, error) {
	msgs, err := nl.Execute(nfgen(unix.NFT_MSG_GETRULE, netlink.Dump))
	if err != nil {
		return nil, fmt.Errorf("dump nftables rules: %w", err)
	}
	rules := make([]rawRule, 0, len(msgs))
	for _, m := range msgs {
		r, err := parseRule(m.Data)
		if err != nil {
			return nil, fmt.Errorf("dump nftables rules: %w", err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}
