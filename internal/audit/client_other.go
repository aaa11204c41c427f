//go:build !linux

package audit

import "errors"

var errUnsupported = errors.New("audit: netlink audit needs Linux")

// ErrOverrun means the kernel dropped records.
var ErrOverrun = errors.New("audit: socket receive buffer overrun")

// Reader is unavailable off Linux.
type Reader struct{}

// OpenReader fails off Linux.
func OpenReader(int) (*Reader, error) { return nil, errUnsupported }

// Receive fails off Linux.
func (*Reader) Receive() ([]Message, error) { return nil, errUnsupported }

// Close does nothing.
func (*Reader) Close() error { return nil }

// Control is unavailable off Linux.
type Control struct{}

// OpenControl fails off Linux.
func OpenControl() (*Control, error) { return nil, errUnsupported }

// Close does nothing.
func (*Control) Close() error { return nil }

// Status fails off Linux.
func (*Control) Status() (Status, error) { return Status{}, errUnsupported }

// ExecRules fails off Linux.
func (*Control) ExecRules(string) (func() error, error) { return nil, errUnsupported }

// IsPermission is false off Linux.
func IsPermission(error) bool { return false }
