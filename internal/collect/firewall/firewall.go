// Package firewall collects FirewallConfiguration: every rule of every
// nftables family, read over netlink (iptables-nft rules included, their
// compat matches decoded), and the rules of the iptables-legacy
// (x_tables) backend where its tables exist, read natively with the
// x_tables getsockopts (iptables-legacy-save, when installed, is the
// fallback). Both need CAP_NET_ADMIN only. One payload item per rule,
// plus one per base chain's policy, last in its chain; ExtraDetails say
// which framework, family, table and hook each comes from and hold the
// rule rendered as nft would print it.
//
// Each snapshot is compared with the last one, persisted in the state
// directory: rules added since are marked ExtraDetails["Change"]="added",
// rules gone are reported once more, marked "removed". Watch polls a
// hash of the ruleset and asks for an out-of-schedule snapshot when it
// changes. An empty ruleset is an event with no payload (IsEmpty), never
// invented "allow" rules.
package firewall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

func init() {
	collect.Register(event.NameFirewallConfiguration, func(d collect.Deps) (collect.Collector, error) {
		c, err := New(d)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return c, nil
	})
}

// DefaultCheckInterval is how often Watch compares the ruleset with the
// last snapshot's. While nothing is committed a check is one nftables
// generation query (and the legacy tables, when there are any); the
// twin's listeningPortsCheckInterval overrides it (SetCheckInterval).
const DefaultCheckInterval = 30 * time.Second

// Collector snapshots the host's firewall. It is safe for concurrent
// use: Watch and Collect are serialised.
type Collector struct {
	log      *logrus.Entry
	stateDir string
	metrics  *metrics
	pollNS   atomic.Int64 // Watch's period; SetCheckInterval changes it
	lookPath func(string) (string, error)
	readNft  func() ([]event.FirewallRule, uint32, error)
	nftGen   func() (uint32, error)
	readXt   func(family string, tables []string) ([]event.FirewallRule, error)

	mu     sync.Mutex
	loaded bool
	last   *state
	// lastGen is the nftables generation of last's nftables rules, when
	// known (not across restarts: generations restart with the kernel).
	lastGen  uint32
	knownGen bool
}

var (
	_ collect.Collector      = (*Collector)(nil)
	_ collect.Watcher        = (*Collector)(nil)
	_ collect.IntervalSetter = (*Collector)(nil)
)

// New returns a FirewallConfiguration collector reading the network
// namespace of the calling thread (the host's, as the module runs with
// host networking) and keeping its last snapshot in d.StateDir (in
// memory only when that is empty).
func New(d collect.Deps) (*Collector, error) {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Collector{
		log:      log.WithField("collector", event.NameFirewallConfiguration),
		stateDir: d.StateDir,
		metrics:  m,
		lookPath: exec.LookPath,
		readNft:  readNftables,
		nftGen:   nftGeneration,
		readXt:   readXtables,
	}
	c.pollNS.Store(int64(DefaultCheckInterval))
	return c, nil
}

// SetCheckInterval implements collect.IntervalSetter: the runner applies
// the twin's check interval (listeningPortsCheckInterval, which governs
// every watching collector). It takes effect after the current wait;
// d <= 0 keeps the interval.
func (c *Collector) SetCheckInterval(d time.Duration) {
	if d > 0 {
		c.pollNS.Store(int64(d))
	}
}

// snapshot reads both backends. A backend that failed is in failed, and
// its error in err; the other's rules are still returned.
func (c *Collector) snapshot(ctx context.Context) (items []event.FirewallRule, gen uint32, failed map[string]bool, err error) {
	failed = map[string]bool{}
	nft, gen, nftErr := c.readNft()
	if nftErr != nil {
		failed[FrameworkNftables] = true
		nftErr = fmt.Errorf("read nftables: %w", nftErr)
	}
	legacy, legacyErr := c.readLegacy(ctx)
	if legacyErr != nil {
		failed[FrameworkIptablesLegacy] = true
	}
	return append(nft, legacy...), gen, failed, errors.Join(nftErr, legacyErr)
}

// unchangedGen is whether no nftables commit happened since the last
// snapshot (an error reading the generation means: read the rules).
func (c *Collector) unchangedGen() bool {
	if !c.knownGen || c.last == nil {
		return false
	}
	g, err := c.nftGen()
	return err == nil && g == c.lastGen
}

func rulesOf(items []event.FirewallRule, framework string) []event.FirewallRule {
	var out []event.FirewallRule
	for _, it := range items {
		if it.ExtraDetails["Framework"] == framework {
			out = append(out, it)
		}
	}
	return out
}

// merge completes cur with the last known rules of the backends that
// could not be read: unseen is not removed.
func merge(last *state, cur []event.FirewallRule, failed map[string]bool) []event.FirewallRule {
	if last == nil || len(failed) == 0 {
		return cur
	}
	out := cur
	for _, it := range last.Rules {
		if failed[it.ExtraDetails["Framework"]] {
			out = append(out, it)
		}
	}
	return out
}

func (c *Collector) loadOnce() {
	if c.loaded {
		return
	}
	last, err := loadState(c.stateDir)
	if err != nil {
		c.log.WithError(err).Warn("last firewall state unreadable; starting a new baseline")
	}
	c.last, c.loaded = last, true
}

// Collect emits one FirewallConfiguration event: every rule now, marked
// added where new, then the rules removed since the last snapshot. A
// backend that cannot be read is left out (its rules are not reported as
// removed) and its error returned after the rest has been emitted.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	c.loadOnce()
	cur, gen, failed, readErr := c.snapshot(ctx)
	if len(failed) > 0 && len(cur) == 0 {
		return readErr // no event rather than a false "empty firewall"
	}
	if !failed[FrameworkNftables] {
		c.lastGen, c.knownGen = gen, true
	}
	marked, removed := diff(c.last, cur)
	removed = keepSeen(removed, failed)
	next := merge(c.last, cur, failed)
	hash := hashRules(next)
	var saveErr error
	if c.last == nil || c.last.Hash != hash {
		s := &state{Version: stateVersion, Hash: hash, Rules: next}
		if err := saveState(c.stateDir, s); err != nil {
			saveErr = fmt.Errorf("save firewall state: %w", err)
		}
		c.last = s
	}
	c.metrics.observe(cur, failed, append(marked, removed...))

	payload := make([]any, 0, len(marked)+len(removed))
	for _, it := range append(marked, removed...) {
		payload = append(payload, &it)
	}
	emit(event.New(event.NameFirewallConfiguration, time.Now(), payload...))
	return errors.Join(readErr, saveErr)
}

// keepSeen drops, from removed, the rules of backends that could not be
// read this time.
func keepSeen(removed []event.FirewallRule, failed map[string]bool) []event.FirewallRule {
	out := removed[:0]
	for _, it := range removed {
		if !failed[it.ExtraDetails["Framework"]] {
			out = append(out, it)
		}
	}
	return out
}
