package login

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// source names where an attempt was seen; it is a metric label and appears
// in ExtraDetails Sources.
type source string

// Sources, a closed set.
const (
	srcWtmp    source = "wtmp"
	srcBtmp    source = "btmp"
	srcUtmp    source = "utmp"
	srcAuthLog source = "authlog"
	srcAudit   source = "audit"
)

var allSources = []source{srcWtmp, srcBtmp, srcUtmp, srcAuthLog, srcAudit}

// Operations and results as sent. Every source maps to these two
// operations so that the same login seen by several sources compares
// equal; source-specific detail (audit op, ssh method) goes to
// ExtraDetails.
const (
	opLogin       = "login"
	opLogout      = "logout"
	resultSuccess = "Success"
	resultFail    = "Fail"
)

// attempt is one login, logout or failed login as one source saw it.
type attempt struct {
	Source     source
	Time       time.Time
	Op         string
	Result     string
	User       string
	UID        string
	PID        int64
	Executable string
	Terminal   string
	Addr       netip.Addr
	Port       string
	LocalPort  string
	RemoteHost string // a host that is not an address
	// Details are source-specific extra details (AuthMethod, Reason, …).
	Details map[string]string
	// Weak marks a record that another record of the same source usually
	// repeats for the same attempt (sshd's "Invalid user" before "Failed
	// password", PAM session lines after "Accepted", audit USER_AUTH before
	// USER_LOGIN): it may merge with a record of its own source, but not
	// with another weak record of the same Kind, which is another attempt
	// (three wrong passwords are three USER_AUTH records).
	Weak bool
	Kind string
	// LoosePID marks a pid that is a helper's, not the session's: sshd
	// runs PAM authentication in a child, whose pid no other source
	// names. Such a record matches on user and address alone.
	LoosePID bool
}

// payload is the event's payload item. sources lists every source that
// reported the attempt.
func (a *attempt) payload(sources []source) *event.Login {
	l := &event.Login{
		ProcessID:  a.PID,
		UserID:     a.UID,
		UserName:   a.User,
		Operation:  a.Op,
		Executable: a.Executable,
		RemotePort: a.Port,
		LocalPort:  a.LocalPort,
		Result:     a.Result,
	}
	if l.Executable == "" {
		l.Executable = exeUnknown
	}
	if a.Addr.IsValid() {
		l.RemoteAddress = a.Addr.Unmap().String()
	}
	d := make(map[string]string, len(a.Details)+3)
	for k, v := range a.Details {
		d[k] = v
	}
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = string(s)
	}
	sort.Strings(names)
	d["Sources"] = strings.Join(names, ",")
	if a.Terminal != "" {
		d["Terminal"] = a.Terminal
	}
	if a.RemoteHost != "" {
		d["RemoteHost"] = a.RemoteHost
	}
	l.ExtraDetails = d
	return l
}

// merge fills the fields of a that b knows and a does not: sources differ
// in what they carry (wtmp has the terminal, auth.log the port and
// method, audit the uid).
func (a *attempt) merge(b *attempt) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&a.User, b.User)
	fill(&a.UID, b.UID)
	fill(&a.Terminal, b.Terminal)
	fill(&a.Port, b.Port)
	fill(&a.LocalPort, b.LocalPort)
	fill(&a.RemoteHost, b.RemoteHost)
	if a.Executable == "" || a.Executable == exeUnknown {
		a.Executable = b.Executable
	}
	if a.PID == 0 || (a.LoosePID && !b.LoosePID && b.PID != 0) {
		a.PID, a.LoosePID = b.PID, b.LoosePID
	}
	if !a.Addr.IsValid() {
		a.Addr = b.Addr
	}
	for k, v := range b.Details {
		if a.Details == nil {
			a.Details = map[string]string{}
		}
		if _, ok := a.Details[k]; !ok {
			a.Details[k] = v
		}
	}
}
