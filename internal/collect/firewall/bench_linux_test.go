package firewall

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// benchRules is the size of the ruleset the benchmarks snapshot.
const benchRules = 5000

// nftRuleset writes n rules over two families and a few chains, mixing
// addresses, ports, ranges, ct state and anonymous sets.
func nftRuleset(n int) string {
	var b strings.Builder
	b.WriteString("table inet bench {\n")
	for c := 0; c < 4; c++ {
		fmt.Fprintf(&b, "chain c%d {\n", c)
		if c == 0 {
			b.WriteString("type filter hook input priority 0; policy drop;\n")
		}
		for i := c; i < n; i += 4 {
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, "ip saddr 10.%d.%d.0/24 tcp dport %d accept\n", i/256%256, i%256, 1+i%65000)
			case 1:
				fmt.Fprintf(&b, "ip6 saddr 2001:db8::%x udp dport 1000-%d drop\n", i, 1000+i%60000)
			case 2:
				fmt.Fprintf(&b, "iifname \"eth%d\" ct state established,related counter accept\n", i%8)
			case 3:
				fmt.Fprintf(&b, "tcp dport { %d, %d, %d } reject with tcp reset\n", 1+i%60000, 2+i%60000, 3+i%60000)
			default:
				fmt.Fprintf(&b, "ip daddr != 192.168.%d.%d log prefix \"r%d \" drop\n", i/256%256, i%256, i)
			}
		}
		b.WriteString("}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// iptablesRestore writes n iptables-legacy rules for iptables-restore.
func iptablesRestore(n int) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "-A INPUT -s 10.%d.%d.0/24 -p tcp -m tcp --dport %d -j ACCEPT\n", i/256%256, i%256, 1+i%65000)
		case 1:
			fmt.Fprintf(&b, "-A INPUT -p udp -m multiport --dports %d,%d -m comment --comment \"r%d\" -j DROP\n", 1+i%60000, 2+i%60000, i)
		default:
			fmt.Fprintf(&b, "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -o eth%d -j ACCEPT\n", i%8)
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// benchCollect measures full snapshots (read, render, diff against the
// persisted state, save) of an unchanged ruleset of want items.
func benchCollect(b *testing.B, ns *netns, want int) {
	c := newTestCollector(b, b.TempDir())
	// Not collectOne: the event is over one message's 256 KiB (the
	// pipeline splits it), so CheckMessage would refuse it whole.
	evs, err := collectIn(b, ns, c)
	if err != nil || len(evs) != 1 || len(evs[0].Payload) != want {
		b.Fatalf("snapshot %d events, error %v; want one of %d items", len(evs), err, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	ns.do(func() {
		for i := 0; i < b.N && err == nil; i++ {
			err = c.Collect(context.Background(), func(event.Event) {})
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSnapshotNftables5000: 5,000 nftables rules over netlink.
func BenchmarkSnapshotNftables5000(b *testing.B) {
	needTools(b, "nft")
	ns := newNetns(b)
	ns.run(b, nftRuleset(benchRules), "nft", "-f", "-")
	benchCollect(b, ns, benchRules+1) // and the policy of c0
}

// BenchmarkReadNftables5000: the netlink dump and rendering alone.
func BenchmarkReadNftables5000(b *testing.B) {
	needTools(b, "nft")
	ns := newNetns(b)
	ns.run(b, nftRuleset(benchRules), "nft", "-f", "-")
	b.ReportAllocs()
	b.ResetTimer()
	var err error
	ns.do(func() {
		for i := 0; i < b.N && err == nil; i++ {
			_, _, err = readNftables()
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSnapshotIptablesLegacy5000: 5,000 iptables-legacy rules
// through iptables-legacy-save.
func BenchmarkSnapshotIptablesLegacy5000(b *testing.B) {
	needTools(b, "iptables-legacy-restore", "iptables-legacy-save")
	ns := newNetns(b)
	ns.run(b, iptablesRestore(benchRules), "iptables-legacy-restore")
	benchCollect(b, ns, benchRules+3) // and three policies
}

// BenchmarkCheckUnchanged5000: one Watch check of an unchanged ruleset
// of 5,000 nftables rules (the generation id only).
func BenchmarkCheckUnchanged5000(b *testing.B) {
	needTools(b, "nft")
	ns := newNetns(b)
	ns.run(b, nftRuleset(benchRules), "nft", "-f", "-")
	c := newTestCollector(b, "")
	if _, err := collectIn(b, ns, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var err error
	var changed bool
	ns.do(func() {
		for i := 0; i < b.N && err == nil && !changed; i++ {
			changed, err = c.Changed(context.Background())
		}
	})
	if err != nil || changed {
		b.Fatalf("changed %v, error %v", changed, err)
	}
}
