//go:build !linux

package sockdiag

import "errors"

// Dump needs Linux's NETLINK_SOCK_DIAG.
func Dump(req Request, dst []Socket) ([]Socket, error) { return dst, errors.ErrUnsupported }
