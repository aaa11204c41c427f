package connection

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
)

// auditRuleKey marks the connect/accept rules this module installs.
const auditRuleKey = "azureiotsecurity-connection"

// auditBackend reads connect/accept events from the audit multicast
// group. It never registers as the audit daemon, so a running auditd
// keeps working; it installs its keyed rules only when allowed and
// removes them on exit.
type auditBackend struct {
	m          *metrics
	log        *logrus.Entry
	allowRules bool
	peek       func(pid int32, fd int) (local, remote netip.AddrPort, proto string, err error)
}

func (b *auditBackend) Name() string { return BackendAudit }

// auditRules encodes, per ABI of the kernel, one connect rule (every
// result: failures are dropped later, EINPROGRESS is kept) and one
// accept/accept4 rule on success only, since a non-blocking server's
// accept fails with EAGAIN far more often than it succeeds.
func auditRules(abis []audit.SocketSyscalls) ([][]byte, error) {
	var rules [][]byte
	for _, a := range abis {
		c, err := audit.SyscallRule(a.Arch, a.Connect, auditRuleKey)
		if err != nil {
			return nil, err
		}
		acc, err := audit.SyscallRule(a.Arch, a.Accept, auditRuleKey, audit.RuleField{Field: audit.FieldSuccess, Op: audit.OpEqual, Value: 1})
		if err != nil {
			return nil, err
		}
		rules = append(rules, c, acc)
	}
	return rules, nil
}

func (b *auditBackend) Run(ctx context.Context, out chan<- rawConn) error {
	if !b.allowRules {
		return refuse("needs connect/accept audit rules, which are not allowed (set connectionAuditRules or connectionBackend=audit)")
	}
	machine, err := audit.KernelMachine()
	if err != nil {
		return refuse("%w", err)
	}
	abis := audit.SocketArches(machine)
	if len(abis) == 0 {
		return refuse("no audit socket syscalls known for machine %q", machine)
	}
	rules, err := auditRules(abis)
	if err != nil {
		return refuse("%w", err)
	}
	rd, err := audit.OpenReader(8 << 20)
	if err != nil {
		return refuse("%w", err)
	}
	defer rd.Close()
	ctl, err := audit.OpenControl()
	if err != nil {
		return refuse("%w", err)
	}
	defer ctl.Close()
	undo, err := ctl.InstallRules(rules)
	if err != nil {
		return refuse("install connect/accept audit rules: %w", err)
	}
	defer func() {
		if err := undo(); err != nil {
			b.log.WithError(err).Warn("cannot remove connect/accept audit rules")
		}
	}()
	ready(ctx, out)
	sys := auditArches(abis)
	g := audit.NewGrouper()
	onEvent := func(ev audit.Event) {
		c, err := parseAuditConn(ev, sys)
		switch {
		case errors.Is(err, errNotConn):
			return
		case err != nil:
			b.m.drop(dropMalformed)
			return
		}
		if b.complete(&c) {
			send(out, c.rawConn, b.m)
		}
	}
	for ctx.Err() == nil {
		msgs, err := rd.Receive()
		now := time.Now()
		switch {
		case errors.Is(err, audit.ErrOverrun):
			b.m.drop(dropSocket)
		case err != nil:
			return fmt.Errorf("audit: %w", err)
		}
		for _, msg := range msgs {
			if msg.Type < 1100 {
				continue // control replies
			}
			rec, err := audit.ParseRecord(msg.Type, msg.Data)
			if err != nil {
				b.m.drop(dropMalformed)
				continue
			}
			g.Add(rec, now, onEvent)
		}
		g.Flush(now, onEvent)
	}
	return nil
}

// complete fills what the records lack (local end, accept's peer,
// protocol) from the live socket; false drops a socket that turns out
// not to be TCP or UDP.
func (b *auditBackend) complete(c *auditConn) bool {
	local, remote, proto, err := b.peek(c.pid, c.fd)
	switch {
	case errors.Is(err, errNotConn):
		return false
	case err != nil && c.listenFD >= 0:
		// An accepted socket closed at once: the listener, which lives
		// on, has the local port (and address, unless it is a wildcard).
		c.proto = protoTCP
		if l, _, _, lerr := b.peek(c.pid, c.listenFD); lerr == nil && l.IsValid() {
			c.local = l
			if l.Addr().IsUnspecified() {
				c.incomplete = append(c.incomplete, "local address: the listener's wildcard (accepted socket gone before it could be read)")
			}
			return true
		}
		c.incomplete = append(c.incomplete, "local address: socket gone before it could be read")
		return true
	case err != nil:
		// Gone already, or no CAP_SYS_PTRACE: EINPROGRESS is TCP for
		// sure; a completed connect is TCP far more often.
		c.proto = protoTCP
		if !c.inProgress {
			c.incomplete = append(c.incomplete, "protocol assumed TCP: socket gone before it could be read")
		}
		c.incomplete = append(c.incomplete, "local address: socket gone before it could be read")
		return true
	}
	c.proto, c.local = proto, local
	if !c.remote.IsValid() {
		c.remote = remote
	}
	return true
}
