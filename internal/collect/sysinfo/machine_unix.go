//go:build unix

package sysinfo

import "golang.org/x/sys/unix"

// unameMachine is uname(2)'s machine. Containers share the host's kernel,
// so inside one it still names the host's architecture.
func unameMachine() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Machine[:])
}
