package login

import (
	"context"
	"errors"
	"fmt"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
)

// auditRcvBuf is our multicast socket's receive buffer. Login records are
// few, but the group also carries every exec record when the process
// collector's audit backend runs, and a burst of those must not push the
// logins out.
const auditRcvBuf = 1 << 20

// multicastAudit reads the kernel's audit multicast group (needs
// CAP_AUDIT_READ). It installs no rule and never registers as the audit
// daemon: PAM and sshd write their USER_* records through libaudit
// whenever auditing is enabled, and auditd, if any, keeps working.
type multicastAudit struct{ m *metrics }

func defaultAuditSource(m *metrics) AuditSource { return multicastAudit{m: m} }

func (a multicastAudit) UserRecords(ctx context.Context, deliver func(AuditRecord)) error {
	rd, err := audit.OpenReader(auditRcvBuf)
	if err != nil {
		return err
	}
	defer rd.Close()
	for ctx.Err() == nil {
		msgs, err := rd.Receive() // returns every 250 ms when quiet
		switch {
		case errors.Is(err, audit.ErrOverrun):
			a.m.auditOverruns.Inc()
			continue
		case err != nil:
			return fmt.Errorf("audit multicast: %w", err)
		}
		for _, msg := range msgs {
			if !isLoginType(msg.Type) {
				continue
			}
			r, err := splitAuditRecord(msg.Type, msg.Data)
			if err != nil {
				a.m.malformed.WithLabelValues(string(srcAudit)).Inc()
				continue
			}
			deliver(r)
		}
	}
	return nil
}
