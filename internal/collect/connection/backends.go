package connection

import (
	"context"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

// newBackend builds the named backend.
func (e *engine) newBackend(name string) backend {
	switch name {
	case BackendEBPF:
		return &ebpfBackend{m: e.m}
	case BackendAudit:
		allow := e.opts.AuditRules || e.opts.Backend == BackendAudit
		return &auditBackend{m: e.m, log: e.log, allowRules: allow, peek: peekSocket}
	case BackendPoll:
		return &pollBackend{m: e.m, own: e.own, every: e.opts.PollInterval, dump: sockdiag.Dump}
	}
	return unknownBackend(name)
}

type unknownBackend string

func (u unknownBackend) Name() string { return string(u) }
func (u unknownBackend) Run(context.Context, chan<- rawConn) error {
	return refuse("unknown backend %q", string(u))
}
