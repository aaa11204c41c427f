package listening

import (
	"context"
	"time"
)

// Watch re-lists the listening sockets every check interval, without
// attributing them (a kernel-filtered dump, well under a millisecond),
// and calls changed when the set differs from the last snapshot's. The
// runner answers with an out-of-schedule Collect, which reports and
// records the change, so one change calls changed once. A failed listing
// is retried at the next check and logged when it starts failing, not
// every minute.
func (c *Collector) Watch(ctx context.Context, changed func()) error {
	t := time.NewTimer(c.checkInterval())
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		differs, err := c.check()
		switch {
		case err != nil && !failing:
			c.log.WithError(err).Warn("listening ports check failing; retrying every check interval")
		case err == nil && failing:
			c.log.Info("listening ports check recovered")
		}
		failing = err != nil
		if differs {
			c.metrics.triggers.Inc()
			changed()
		}
		t.Reset(c.checkInterval())
	}
}

func (c *Collector) checkInterval() time.Duration { return time.Duration(c.checkNS.Load()) }

// check reports whether the listening set differs from the last
// snapshot's. Without a baseline it reports nothing: the first snapshot
// sets one.
func (c *Collector) check() (bool, error) {
	socks, _, err := c.sockets.list()
	if err != nil {
		return false, err
	}
	keys := make([]key, len(socks))
	for i, s := range socks {
		keys[i] = keyOf(s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loadLocked()
	return c.last != nil && !c.last.sameKeys(keys), nil
}
