package firewall

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func newTestCollector(t testing.TB, stateDir string) *Collector {
	t.Helper()
	c, err := New(collect.Deps{Root: "/", StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collectIn runs one Collect of c inside ns.
func collectIn(t testing.TB, ns *netns, c *Collector) ([]event.Event, error) {
	t.Helper()
	var evs []event.Event
	var err error
	ns.do(func() {
		err = c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) })
	})
	return evs, err
}

// collectOne wants exactly one valid event and returns its rules.
func collectOne(t testing.TB, ns *netns, c *Collector) []event.FirewallRule {
	t.Helper()
	evs, err := collectIn(t, ns, c)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || evs[0].Name != event.NameFirewallConfiguration || evs[0].Category != event.Periodic {
		t.Fatalf("got %d events %+v, want one periodic FirewallConfiguration", len(evs), evs)
	}
	collecttest.CheckMessage(t, evs)
	rules := make([]event.FirewallRule, len(evs[0].Payload))
	for i, p := range evs[0].Payload {
		rules[i] = *p.(*event.FirewallRule)
	}
	return rules
}

func goldenOf(t testing.TB, ns *netns, name string) {
	t.Helper()
	evs, err := collectIn(t, ns, newTestCollector(t, ""))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	collecttest.CheckMessage(t, evs)
	collecttest.CheckGolden(t, name, evs[0].Payload, *update)
}

// TestNftables loads a known ruleset (inet and ip6 tables, base chains
// with hooks, priorities and policies, sets, ct state, prefixes, ranges,
// reject, jump/return, IPv6) and wants it reported exactly.
func TestNftables(t *testing.T) {
	needTools(t, "nft")
	ns := newNetns(t)
	ns.run(t, "", "nft", "-f", "testdata/ruleset.nft")
	goldenOf(t, ns, "nftables.golden.json")
}

// TestIptablesNft adds rules with iptables and ip6tables (nf_tables
// backend): they are nftables rules, with xt compat matches decoded.
func TestIptablesNft(t *testing.T) {
	needTools(t, "iptables-nft", "ip6tables-nft")
	ns := newNetns(t)
	ns.applyRules(t, "iptables-nft", "testdata/iptables.rules")
	ns.applyRules(t, "ip6tables-nft", "testdata/ip6tables.rules")
	goldenOf(t, ns, "iptables-nft.golden.json")
}

// TestIptablesLegacy adds the same rules to the x_tables backend, which
// netlink cannot see: they come from iptables-legacy-save.
func TestIptablesLegacy(t *testing.T) {
	needTools(t, "iptables-legacy", "ip6tables-legacy", "iptables-legacy-save", "ip6tables-legacy-save")
	ns := newNetns(t)
	ns.applyRules(t, "iptables-legacy", "testdata/iptables.rules")
	ns.applyRules(t, "ip6tables-legacy", "testdata/ip6tables.rules")
	goldenOf(t, ns, "iptables-legacy.golden.json")
}

// TestLegacyWithoutTool: legacy tables exist, the native read fails and
// the fallback tool is missing (the scratch image). The nftables rules
// are still reported, with an error.
func TestLegacyWithoutTool(t *testing.T) {
	needTools(t, "iptables-legacy", "nft")
	ns := newNetns(t)
	ns.run(t, "", "iptables-legacy", "-A", "INPUT", "-j", "DROP")
	ns.run(t, "", "nft", "add table ip t; add chain ip t c { type filter hook input priority 0; }")
	c := newTestCollector(t, "")
	c.readXt = func(string, []string) ([]event.FirewallRule, error) { return nil, errors.ErrUnsupported }
	c.lookPath = func(string) (string, error) { return "", errors.New("not found") }
	evs, err := collectIn(t, ns, c)
	if !errors.Is(err, errLegacyUnreadable) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Collect error %v, want both causes", err)
	}
	if len(evs) != 1 || len(evs[0].Payload) != 1 {
		t.Fatalf("got %+v, want one event with the nft policy", evs)
	}
}

// schemaView is what an item says apart from its rendering.
func schemaView(it event.FirewallRule) string {
	d := it.ExtraDetails
	return strings.Join([]string{it.ChainName, itoa(*it.Priority), it.Direction, it.Action,
		it.Protocol, it.SourceAddress, it.DestinationAddress, it.SourcePort, it.DestinationPort,
		d["Framework"], d["Family"], d["Table"], d["Hook"], d["Verdict"],
		d["InInterface"], d["OutInterface"], d["ConntrackState"], d["Comment"]}, "|")
}

// TestLegacyToolFallback: when the native read fails, iptables-legacy-save
// reports the same rules with the same schema fields (only the Rule text
// differs: iptables-save syntax).
func TestLegacyToolFallback(t *testing.T) {
	needTools(t, "iptables-legacy", "ip6tables-legacy", "iptables-legacy-save", "ip6tables-legacy-save")
	ns := newNetns(t)
	ns.applyRules(t, "iptables-legacy", "testdata/iptables.rules")
	ns.applyRules(t, "ip6tables-legacy", "testdata/ip6tables.rules")
	native := collectOne(t, ns, newTestCollector(t, ""))
	c := newTestCollector(t, "")
	c.readXt = func(string, []string) ([]event.FirewallRule, error) { return nil, errors.ErrUnsupported }
	saved := collectOne(t, ns, c)
	if len(saved) != len(native) {
		t.Fatalf("tool reports %d items, native %d", len(saved), len(native))
	}
	for i := range native {
		if a, b := schemaView(native[i]), schemaView(saved[i]); a != b {
			t.Errorf("item %d:\nnative %s\ntool   %s", i, a, b)
		}
		if !strings.HasPrefix(saved[i].ExtraDetails["Rule"], "-") {
			t.Errorf("item %d: tool rendering %q", i, saved[i].ExtraDetails["Rule"])
		}
	}
}

func TestEmptyRuleset(t *testing.T) {
	ns := newNetns(t)
	evs, err := collectIn(t, ns, newTestCollector(t, ""))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || !evs[0].IsEmpty() || evs[0].Category != event.Periodic {
		t.Fatalf("got %+v, want one empty periodic event", evs)
	}
	collecttest.CheckMessage(t, evs)
}

func changes(rules []event.FirewallRule) map[string]string {
	out := map[string]string{}
	for _, r := range rules {
		if ch := r.ExtraDetails[event.ChangeKey]; ch != "" {
			out[r.ExtraDetails["Rule"]] = ch
		}
	}
	return out
}

// TestChanges: a change is marked once, and the persisted state carries
// the baseline across a restart.
func TestChanges(t *testing.T) {
	needTools(t, "nft")
	ns := newNetns(t)
	dir := t.TempDir()
	ns.run(t, "", "nft", "add table inet f; add chain inet f in { type filter hook input priority 0; policy drop; }; add rule inet f in tcp dport 22 accept")
	c := newTestCollector(t, dir)
	if got := changes(collectOne(t, ns, c)); len(got) != 0 {
		t.Errorf("first snapshot marks %v, want nothing (no baseline)", got)
	}
	changed := func() bool {
		var ch bool
		var err error
		ns.do(func() { ch, err = c.Changed(context.Background()) })
		if err != nil {
			t.Fatalf("Changed: %v", err)
		}
		return ch
	}
	if changed() {
		t.Error("Changed after a snapshot of the same ruleset")
	}
	ns.run(t, "", "nft", "flush chain inet f in; add rule inet f in tcp dport 443 accept")
	if !changed() {
		t.Error("Changed missed a new rule")
	}
	want := map[string]string{"tcp dport 443 accept": ChangeAdded, "tcp dport 22 accept": ChangeRemoved}
	if got := changes(collectOne(t, ns, c)); !equalMaps(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if got := changes(collectOne(t, ns, c)); len(got) != 0 {
		t.Errorf("second snapshot marks %v again", got)
	}
	// A restarted module diffs against the state on disk.
	ns.run(t, "", "nft", "add rule inet f in udp dport 53 accept")
	restarted := newTestCollector(t, dir)
	want = map[string]string{"udp dport 53 accept": ChangeAdded}
	if got := changes(collectOne(t, ns, restarted)); !equalMaps(got, want) {
		t.Errorf("after restart: changes %v, want %v", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestWatch: Watch asks for a snapshot once per changed ruleset.
func TestWatch(t *testing.T) {
	needTools(t, "nft")
	ns := newNetns(t)
	c := newTestCollector(t, "")
	c.SetCheckInterval(10 * time.Millisecond)
	collectOne(t, ns, c) // baseline
	watcher := ns.join(t)
	ctx, cancel := context.WithCancel(context.Background())
	triggers := make(chan struct{}, 16)
	done := make(chan error, 1)
	go watcher.do(func() { done <- c.Watch(ctx, func() { triggers <- struct{}{} }) })
	ns.run(t, "", "nft", "add table ip t")
	ns.run(t, "", "nft", "add chain ip t c { type filter hook output priority 0; }")
	select {
	case <-triggers:
	case <-time.After(30 * time.Second):
		t.Fatal("no trigger after a change")
	}
	collectOne(t, ns, c) // the out-of-schedule snapshot
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
	// The same change may be seen once more before the snapshot ran,
	// never more than that.
	if n := len(triggers); n > 1 {
		t.Errorf("%d extra triggers for one change", n)
	}
}

// TestCheckDumpsOnlyAfterCommit: Watch's check reads the generation and
// dumps the ruleset only when a commit happened since the snapshot.
func TestCheckDumpsOnlyAfterCommit(t *testing.T) {
	needTools(t, "nft")
	ns := newNetns(t)
	ns.run(t, "", "nft", "add table inet f; add chain inet f in { type filter hook input priority 0; }; add rule inet f in tcp dport 22 accept")
	c := newTestCollector(t, "")
	dumps := 0
	c.readNft = func() ([]event.FirewallRule, uint32, error) { dumps++; return readNftables() }
	collectOne(t, ns, c)
	check := func() bool {
		var ch bool
		var err error
		ns.do(func() { ch, err = c.Changed(context.Background()) })
		if err != nil {
			t.Fatalf("Changed: %v", err)
		}
		return ch
	}
	if check() || check() || dumps != 1 {
		t.Errorf("without a commit: %d dumps (want the snapshot's only), or a change seen", dumps)
	}
	ns.run(t, "", "nft", "add rule inet f in udp dport 53 accept")
	if !check() || dumps != 2 {
		t.Errorf("after a commit: %d dumps, want 2 and a change", dumps)
	}
}
