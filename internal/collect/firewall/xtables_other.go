//go:build !linux

package firewall

import (
	"errors"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// readXtables is Linux-only.
func readXtables(string, []string) ([]event.FirewallRule, error) {
	return nil, errors.ErrUnsupported
}
