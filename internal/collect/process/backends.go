package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// newBackend builds the named backend.
func (e *engine) newBackend(name string) backend {
	switch name {
	case BackendEBPF:
		return &ebpfBackend{m: e.m}
	case BackendProcCn:
		return &cnBackend{m: e.m, enr: e.enr}
	case BackendAudit:
		allow := e.opts.AuditRules || e.opts.Backend == BackendAudit
		return &auditBackend{m: e.m, allowRules: allow, log: e.log}
	case BackendProcfs:
		return &pollBackend{m: e.m, root: e.root, enr: e.enr, every: e.opts.PollInterval}
	}
	return unknownBackend(name)
}

type unknownBackend string

func (u unknownBackend) Name() string { return string(u) }
func (u unknownBackend) Run(context.Context, chan<- rawEvent) error {
	return refuse("unknown backend %q", string(u))
}

// auditRuleKey marks the exec rules this module installs.
const auditRuleKey = "azureiotsecurity"

// auditBackend reads exec events from the audit multicast group. It never
// registers as the audit daemon, so a running auditd keeps working.
type auditBackend struct {
	m          *metrics
	log        *logrus.Entry
	allowRules bool
}

func (b *auditBackend) Name() string { return BackendAudit }

func (b *auditBackend) Run(ctx context.Context, out chan<- rawEvent) error {
	if !b.allowRules {
		return refuse("needs exec audit rules, which are not allowed (set processAuditRules or processBackend=audit)")
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
	undo, err := ctl.ExecRules(auditRuleKey)
	if err != nil {
		return refuse("install exec audit rules: %w", err)
	}
	defer func() {
		if err := undo(); err != nil {
			b.log.WithError(err).Warn("cannot remove exec audit rules")
		}
	}()
	ready(ctx, out)
	g := audit.NewGrouper()
	onEvent := func(ev audit.Event) {
		x, err := audit.ParseExec(ev)
		switch {
		case errors.Is(err, audit.ErrNotExec):
			return
		case err != nil:
			b.m.drop(dropMalformed)
			return
		case !x.Success:
			return
		}
		send(out, rawEvent{
			kind: rawExec, time: x.Time, pid: int32(x.PID), ppid: int32(x.PPID),
			uid: x.UID, uidKnown: true, exe: x.Exe,
			argv: x.Argv, argvKnown: len(x.Argv) > 0, argvTruncated: x.ArgvTruncated,
		}, b.m)
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

// pollBackend diffs the /proc pid set: the last resort, lossy (a 100 ms
// poll catches well under 1 % of short-lived processes) and without exit
// statuses.
type pollBackend struct {
	m     *metrics
	root  hostfs.Root
	enr   enricher
	every time.Duration
}

func (b *pollBackend) Name() string { return BackendProcfs }

func (b *pollBackend) Run(ctx context.Context, out chan<- rawEvent) error {
	prev, err := b.pids()
	if err != nil {
		return refuse("%w", err)
	}
	ready(ctx, out)
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cur, err := b.pids()
		if err != nil {
			return err
		}
		now := time.Now()
		for pid := range cur {
			if _, ok := prev[pid]; ok {
				continue
			}
			p, err := b.enr.readProcess(pid)
			if err != nil || p.KernelThread() {
				continue
			}
			send(out, rawEvent{
				kind: rawExec, time: now, pid: pid, ppid: p.PPID, proc: p,
				uid: p.UID, uidKnown: true, exe: p.Exe, argv: p.Argv, argvKnown: true,
				startTicks: p.StartTicks,
			}, b.m)
		}
		for pid := range prev {
			if _, ok := cur[pid]; !ok {
				send(out, rawEvent{kind: rawExit, time: now, pid: pid}, b.m)
			}
		}
		prev = cur
	}
}

func (b *pollBackend) pids() (map[int32]struct{}, error) {
	list, err := procfs.ListPIDs(b.root)
	if err != nil {
		return nil, err
	}
	m := make(map[int32]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m, nil
}
