package firewall

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/statefile"
)

const (
	// stateFile holds the last reported ruleset in Deps.StateDir.
	stateFile = "firewallconfiguration.json"
	// maxStateBytes bounds reading it back (50,000 rules).
	maxStateBytes = 64 << 20
	// stateVersion changes when rule keys or renderings change meaning;
	// an old file is then no baseline, not a flood of changes.
	stateVersion = 2
)

// Values of ExtraDetails["Change"].
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
)

// state is the last reported ruleset and its hash.
type state struct {
	Version int                  `json:"version"`
	Hash    string               `json:"hash"`
	Rules   []event.FirewallRule `json:"rules"`
}

// hashRules fingerprints a ruleset, order included (rule order is
// firewall semantics). Counters are never rendered, so traffic alone
// does not change it.
func hashRules(items []event.FirewallRule) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for i := range items {
		_ = enc.Encode(&items[i]) // writes to a hash cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ruleKeys keys rules by framework, family, table, chain and rendering
// (not position nor handle: inserting a rule moves the others without
// changing them). Identical rules of a chain are told apart by count.
func ruleKeys(items []event.FirewallRule) []string {
	keys := make([]string, len(items))
	seen := make(map[string]int, len(items))
	for i, it := range items {
		d := it.ExtraDetails
		k := strings.Join([]string{d["Framework"], d["Family"], d["Table"], it.ChainName, d["Rule"]}, "\x00")
		seen[k]++
		keys[i] = k + "\x00" + strconv.Itoa(seen[k])
	}
	return keys
}

// diff marks the items of cur not in prev as added, and returns the items
// of prev not in cur, marked removed. A nil prev is no baseline.
func diff(prev *state, cur []event.FirewallRule) (marked, removed []event.FirewallRule) {
	if prev == nil {
		return cur, nil
	}
	prevKeys := ruleKeys(prev.Rules)
	had := make(map[string]bool, len(prevKeys))
	for _, k := range prevKeys {
		had[k] = true
	}
	curKeys := ruleKeys(cur)
	has := make(map[string]bool, len(curKeys))
	marked = make([]event.FirewallRule, len(cur))
	for i, k := range curKeys {
		has[k] = true
		marked[i] = cur[i]
		if !had[k] {
			marked[i] = withChange(cur[i], ChangeAdded)
		}
	}
	for i, k := range prevKeys {
		if !has[k] {
			removed = append(removed, withChange(prev.Rules[i], ChangeRemoved))
		}
	}
	return marked, removed
}

func withChange(it event.FirewallRule, change string) event.FirewallRule {
	d := maps.Clone(it.ExtraDetails)
	if d == nil {
		d = map[string]string{}
	}
	d[event.ChangeKey] = change
	it.ExtraDetails = d
	return it
}

// loadState reads the persisted ruleset: nil without one (first run, no
// state directory, or a file of another version).
func loadState(dir string) (*state, error) {
	var s state
	found, err := statefile.Load(dir, stateFile, maxStateBytes, &s)
	if err != nil || !found || s.Version != stateVersion {
		return nil, err
	}
	return &s, nil
}

// saveState replaces the persisted ruleset atomically.
func saveState(dir string, s *state) error {
	return statefile.Save(dir, stateFile, s)
}
