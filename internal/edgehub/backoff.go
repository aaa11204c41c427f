package edgehub

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with full jitter: attempt n waits
// a uniformly random duration in [min, min(max, base·2^n)].
type backoff struct {
	base, max time.Duration
}

func (b backoff) delay(attempt int) time.Duration {
	base, limit := b.base, b.max
	if base <= 0 {
		base = time.Millisecond
	}
	if limit < base {
		limit = base
	}
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	// Full jitter, but never below base/2 so a retry is never immediate.
	lo := base / 2
	return lo + rand.N(d-lo+1)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// afterTimer is time.After; garbage-collected timers make it leak-free.
func afterTimer(d time.Duration) <-chan time.Time { return time.After(d) }
