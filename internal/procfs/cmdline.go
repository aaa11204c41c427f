package procfs

import (
	"bytes"
	"strconv"
	"strings"
)

// ParseCmdline splits /proc/<pid>/cmdline into argv. Arguments are
// NUL-terminated; empty arguments are kept ("" is a real argument). A
// process that rewrote its argv area (setproctitle) may leave a single
// space-separated string without NULs: that is returned as one argument.
// Kernel threads and zombies have an empty cmdline and yield nil.
func ParseCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte{0})
	return strings.Split(string(b), "\x00")
}

// JoinArgv renders argv as a command line: joined with single spaces,
// never truncated, as the reference agents render audit EXECVE records.
// Arguments are not quoted, so the rendering is for people, not shells.
func JoinArgv(argv []string) string { return strings.Join(argv, " ") }

// ParseExeLink interprets the target of /proc/<pid>/exe. The kernel
// appends " (deleted)" when the file was unlinked or replaced after exec;
// it is stripped and reported.
func ParseExeLink(target string) (path string, deleted bool) {
	if p, ok := strings.CutSuffix(target, " (deleted)"); ok {
		return p, true
	}
	return target, false
}

// LoginUIDUnset is the kernel's (uid_t)-1: no login session.
const LoginUIDUnset = 1<<32 - 1

// ParseLoginUID parses /proc/<pid>/loginuid. ok is false when the value
// is LoginUIDUnset.
func ParseLoginUID(b []byte) (uid uint32, ok bool, err error) {
	v, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 32)
	if err != nil {
		return 0, false, malformed("loginuid %q", b)
	}
	return uint32(v), v != LoginUIDUnset, nil
}

// ParseBootID parses /proc/sys/kernel/random/boot_id, a UUID that is new
// on every boot.
func ParseBootID(b []byte) (string, error) {
	id := string(bytes.TrimSpace(b))
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		return "", malformed("boot_id %q", id)
	}
	return id, nil
}
