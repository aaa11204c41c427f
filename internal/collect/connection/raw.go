package connection

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Direction of a connection, as the schema spells it.
const (
	dirIn  = "In"
	dirOut = "Out"
)

// Protocols, as the schema's examples spell them.
const (
	protoTCP = "TCP"
	protoUDP = "UDP"
)

// rawConn is one new connection as a backend saw it. Zero values mean
// unknown: a backend fills what it has, the engine completes the owner
// from /proc.
type rawConn struct {
	// ready marks the one message a backend sends once it is attached.
	ready    bool
	time     time.Time
	dir      string
	proto    string
	local    netip.AddrPort // invalid when the backend does not know it
	remote   netip.AddrPort
	pid      int32 // 0: owner unknown
	uid      uint32
	uidKnown bool
	// comm is the kernel's 15-byte task name (eBPF), the last resort for
	// Executable when the process is gone before /proc is read.
	comm string
	exe  string
	// argv from the kernel event; argvTruncated when it is only a prefix
	// (audit PROCTITLE is capped at 128 bytes).
	argv          []string
	argvTruncated bool
	// inProgress marks a non-blocking connect() that returned
	// EINPROGRESS (audit): the handshake had not finished.
	inProgress bool
	// incomplete lists what the backend could not learn, for ExtraDetails.
	incomplete []string
}

// backend is one source of connection events. Run sends the ready message
// once it is attached, then connections, until ctx is done (nil) or it
// fails. A failure before ready is a refusal (missing capability, kernel
// feature, configuration), wrapped with refuse; the engine then tries the
// next backend. Run never blocks on out: it drops and counts instead.
type backend interface {
	Name() string
	Run(ctx context.Context, out chan<- rawConn) error
}

// Backend names, as in the connectionBackend setting.
const (
	BackendAuto  = "auto"
	BackendEBPF  = "ebpf"
	BackendAudit = "audit"
	BackendPoll  = "poll"
)

// chainOrder is the automatic preference, best first.
var chainOrder = []string{BackendEBPF, BackendAudit, BackendPoll}

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

// send hands c to the engine without ever blocking the kernel reader: a
// full queue drops the connection and counts it.
func send(out chan<- rawConn, c rawConn, m *metrics) {
	select {
	case out <- c:
	default:
		m.drop(dropQueueFull)
	}
}

// ready tells the engine the backend is attached; this one send may wait,
// as nothing is lost yet.
func ready(ctx context.Context, out chan<- rawConn) {
	select {
	case out <- rawConn{ready: true}:
	case <-ctx.Done():
	}
}
