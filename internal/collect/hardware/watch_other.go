//go:build !linux

package hardware

import (
	"context"
	"errors"
	"fmt"
)

// ActionResync is the Action of a Change sent when uevents were lost.
const ActionResync = "resync"

// Watch needs the Linux uevent netlink socket.
func (c *Collector) WatchChanges(ctx context.Context, trigger func(Change)) error {
	return fmt.Errorf("hot-plug uevents: %w", errors.ErrUnsupported)
}
