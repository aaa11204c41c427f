package main

import "strings"

// commandLine turns the NUL-separated argv of /proc/<pid>/cmdline into one
// space-separated line. Trailing NULs are dropped; empty arguments in the
// middle are kept as empty words so nothing is silently merged; a line
// without any NUL (a process that rewrote its title) is returned as is.
func commandLine(raw []byte) string {
	for len(raw) > 0 && raw[len(raw)-1] == 0 {
		raw = raw[:len(raw)-1]
	}
	return strings.ReplaceAll(string(raw), "\x00", " ")
}
