//go:build !linux

package firewall

import (
	"errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// readNftables is Linux-only.
func readNftables() ([]event.FirewallRule, uint32, error) {
	return nil, 0, errors.ErrUnsupported
}

func nftGeneration() (uint32, error) { return 0, errors.ErrUnsupported }
