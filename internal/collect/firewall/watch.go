package firewall

import (
	"context"
	"reflect"
	"time"
)

// Changed reports whether the ruleset differs from the last snapshot
// Collect persisted. Before the first snapshot there is nothing to
// differ from, and it reports false. A legacy backend that cannot be
// read counts as unchanged (Collect reports that error).
func (c *Collector) Changed(ctx context.Context) (bool, error) {
	changed, _, err := c.changed(ctx)
	return changed, err
}

func (c *Collector) changed(ctx context.Context) (bool, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loadOnce()
	if c.last == nil {
		return false, "", nil
	}
	// No nftables commit since the snapshot: only the legacy rules,
	// usually none, can differ, and the ruleset is not dumped.
	if c.unchangedGen() {
		legacy, err := c.readLegacy(ctx)
		if err != nil || reflect.DeepEqual(legacy, rulesOf(c.last.Rules, FrameworkIptablesLegacy)) {
			return false, "", nil
		}
	}
	cur, _, failed, err := c.snapshot(ctx)
	if failed[FrameworkNftables] {
		return false, "", err
	}
	hash := hashRules(merge(c.last, cur, failed))
	return hash != c.last.Hash, hash, nil
}

// Watch implements collect.Watcher: every check interval it compares
// the ruleset with the last snapshot and calls changed once per new
// ruleset (the runner then takes an out-of-schedule snapshot, which
// marks the added and removed rules). It returns when ctx is done, or
// with the error of a ruleset that cannot be read (the runner restarts
// it).
func (c *Collector) Watch(ctx context.Context, changed func()) error {
	t := time.NewTimer(time.Duration(c.pollNS.Load()))
	defer t.Stop()
	var notified string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		diff, hash, err := c.changed(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		// Until the snapshot it triggers has run, the same change is
		// seen again; it is reported once.
		if diff && hash != notified {
			notified = hash
			changed()
		}
		t.Reset(time.Duration(c.pollNS.Load()))
	}
}
