//go:build !linux

package connection

import (
	"errors"
	"net/netip"
)

// peekSocket needs Linux's pidfd_getfd.
func peekSocket(int32, int) (netip.AddrPort, netip.AddrPort, string, error) {
	return netip.AddrPort{}, netip.AddrPort{}, "", errors.ErrUnsupported
}
