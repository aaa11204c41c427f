package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// rawKind is what happened to a process.
type rawKind uint8

const (
	// rawReady is sent once by a backend when it is attached and
	// delivering; it carries nothing else.
	rawReady rawKind = iota + 1
	rawFork
	rawExec
	rawExit
)

// rawEvent is one kernel observation, as complete as the backend could
// make it. Zero values mean "unknown" unless a *Known flag says otherwise.
type rawEvent struct {
	kind rawKind
	time time.Time
	pid  int32
	ppid int32
	uid  uint32
	// uidKnown is false when the backend carries no uid.
	uidKnown  bool
	exe       string
	argv      []string
	argvKnown bool
	// argvTruncated: argv holds only a prefix (eBPF cap, audit
	// PROCTITLE); the full command line must come from /proc.
	argvTruncated bool
	// startTicks is the start time in USER_HZ ticks after boot, as in
	// /proc/<pid>/stat; 0 when unknown.
	startTicks uint64
	// lifetime is exact when the kernel measured it (eBPF).
	lifetime time.Duration
	// waitStatus is the kernel's exit_code: code<<8 | signal.
	waitStatus uint32
	exitKnown  bool
	cgroupID   uint64
	// proc is what a backend read from /proc right at the event (the
	// proc connector and the poller must, before the process is gone).
	proc *procfs.Process
}

// backend is one source of process events. Run sends rawReady once it is
// attached, then events, until ctx is done (nil) or it fails. A failure
// before rawReady is a refusal (missing capability, kernel feature, BTF)
// and is wrapped with refuse; the engine then tries the next backend.
// Run must never block on out for long: it drops and counts instead.
type backend interface {
	Name() string
	Run(ctx context.Context, out chan<- rawEvent) error
}

// Backend names, as in the processBackend setting.
const (
	BackendAuto   = "auto"
	BackendEBPF   = "ebpf"
	BackendProcCn = "proc-connector"
	BackendAudit  = "audit"
	BackendProcfs = "procfs"
)

// chainOrder is the automatic preference, best first.
var chainOrder = []string{BackendEBPF, BackendProcCn, BackendAudit, BackendProcfs}

// refusal is a backend's start-up failure.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuse(format string, args ...any) error {
	return &refusal{fmt.Errorf(format, args...)}
}

func isRefusal(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}

// send hands ev to the engine without ever blocking the kernel reader: a
// full queue drops the event and counts it.
func send(out chan<- rawEvent, ev rawEvent, m *metrics) {
	select {
	case out <- ev:
	default:
		m.drop(dropQueueFull)
	}
}

// ready tells the engine the backend is attached; this one send may wait,
// as nothing is lost yet.
func ready(ctx context.Context, out chan<- rawEvent) {
	select {
	case out <- rawEvent{kind: rawReady}:
	case <-ctx.Done():
	}
}

// exitStatus turns a wait status into the ExitStatus we report: the exit
// code, or 128+signal for a process killed by a signal (the shell's
// convention), and the signal number (0 if none).
func exitStatus(ws uint32) (status int64, signal int) {
	if sig := int(ws & 0x7f); sig != 0 {
		return 128 + int64(sig), sig
	}
	return int64(ws>>8) & 0xff, 0
}
