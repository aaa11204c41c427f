// Package procfs reads processes from the host's /proc through a
// hostfs.Root: pure parsers over bytes and readers, plus a Reader that
// assembles a Process tolerating per-field failures.
//
// PIDs are those of the root's /proc, which is the host's only when the
// module shares the host PID namespace (kernel-sources.md §1a).
package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"
)

// Bounds on reads. A command line is never truncated but is refused past
// MaxCmdlineBytes; the kernel's own ARG_MAX-like cap on one exec is far
// below it in practice (2 MiB split across argv and envp).
const (
	MaxCmdlineBytes = 1 << 20
	maxStatBytes    = 4 << 10  // one line, ~52 numbers and a 16-byte comm
	maxStatusBytes  = 1 << 20  // "Groups:" can list 65536 gids
	maxCgroupBytes  = 64 << 10 // one line per hierarchy
	maxSmallBytes   = 256      // loginuid, boot_id
	// UserHZ is the unit of /proc/<pid>/stat times. The kernel exports
	// clock_t in USER_HZ, fixed at 100 on every Linux architecture.
	UserHZ = 100
)

// Process is one process as the host sees it. Fields that could not be
// read are zero and listed in Incomplete with the reason.
type Process struct {
	PID  int32
	PPID int32
	// NSpid lists the pid in each nested pid namespace, outermost first;
	// NSpid[len-1] is the pid inside the process's own namespace.
	NSpid []int32
	// UID and GID are the real ids, EUID the effective uid.
	UID, EUID, GID uint32
	// LoginUID is the audit login uid; LoginUIDSet is false for processes
	// not descended from a login (the kernel's (uid_t)-1).
	LoginUID    uint32
	LoginUIDSet bool
	// UserName is UID's name in the host's /etc/passwd, "" if unknown.
	UserName string
	// Exe is the executable's path; ExeDeleted means the file was
	// unlinked or replaced after exec (the kernel's " (deleted)" suffix,
	// stripped from Exe).
	Exe        string
	ExeDeleted bool
	// Argv is the argument vector; CommandLine joins it with single
	// spaces, untruncated. Both are empty for kernel threads and zombies.
	Argv        []string
	CommandLine string
	// Comm is the kernel's 15-byte task name.
	Comm string
	// StartTicks is the start time in clock ticks after boot, StartTime
	// the same as a wall-clock time.
	StartTicks uint64
	StartTime  time.Time
	Cgroup     []CgroupLine
	// EntityID identifies this process across pid reuse and reboots
	// (see EntityID).
	EntityID string
	// Incomplete lists the fields that could not be read, and why.
	Incomplete []FieldError
}

// KernelThread reports whether p is a kernel thread: kthreadd (pid 2) or
// one of its children. Kernel threads have no command line or exe.
func (p *Process) KernelThread() bool { return p.PID == 2 || p.PPID == 2 }

// FieldError says why one field of a Process is missing, e.g. exe with
// EACCES for pid 1 inside a sandbox.
type FieldError struct {
	Field string // "exe", "cmdline", "status", "cgroup", "loginuid", "user"
	Err   error
}

func (e FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap exposes the cause, e.g. fs.ErrPermission.
func (e FieldError) Unwrap() error { return e.Err }

// ErrGone means the process exited (or never existed) before it could be
// read. It wraps fs.ErrNotExist.
var ErrGone = fmt.Errorf("process gone: %w", fs.ErrNotExist)

// ErrMalformed is wrapped by every parser error on bad input.
var ErrMalformed = errors.New("malformed")

func malformed(what string, args ...any) error {
	return fmt.Errorf("%w %s", ErrMalformed, fmt.Sprintf(what, args...))
}

// pidDir is the /proc element for pid.
func pidDir(pid int32) string { return strconv.FormatInt(int64(pid), 10) }
