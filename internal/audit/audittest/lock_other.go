//go:build !linux

package audittest

import "testing"

// Lock skips: audit exists only on Linux.
func Lock(t testing.TB) { t.Skip("audit needs Linux") }
