package connection

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// ExtraDetails keys; the process ones are spelled as the process
// collector spells them, so consumers can join the two.
const (
	xBackend       = "Backend"
	xUserName      = "UserName"
	xEntityID      = "EntityId"
	xContainerID   = "ContainerId"
	xContainerName = "ContainerName"
	xIoTEdgeModule = "IoTEdgeModule"
	xComm          = "Comm"
	xInProgress    = "InProgress"
	xIncomplete    = "Incomplete"
)

// handle filters one raw connection and emits its event.
func (e *engine) handle(c rawConn, emit func(event.Event)) {
	e.m.events.WithLabelValues(e.active, c.dir).Inc()
	if !c.remote.IsValid() {
		// The schema requires the remote address.
		e.m.drop(dropNoAddress)
		return
	}
	if !e.opts.IncludeLoopback && isLoopback(c) {
		e.m.filtered.WithLabelValues(filterLoopback).Inc()
		return
	}
	if c.pid == 0 && c.dir == dirIn && c.local.IsValid() {
		// Inbound without an owner: the process holding the listener.
		c.pid = e.own.listener(c.local, c.time)
	}
	if !e.opts.IncludeSelf && e.selfPID > 0 && c.pid == e.selfPID {
		e.m.filtered.WithLabelValues(filterSelf).Inc()
		return
	}
	emit(event.New(event.NameConnectionCreate, c.time, e.payload(c)))
}

// isLoopback: both ends on a loopback address (an unknown or wildcard
// local end counts as loopback when the remote is, since the kernel
// routes such traffic locally).
func isLoopback(c rawConn) bool {
	r := c.remote.Addr().Unmap()
	if !r.IsValid() || !r.IsLoopback() {
		return false
	}
	l := c.local.Addr().Unmap()
	return !l.IsValid() || l.IsUnspecified() || l.IsLoopback()
}

func (e *engine) payload(c rawConn) *event.ConnectionCreate {
	pl := &event.ConnectionCreate{
		RemoteAddress: addrString(c.remote), RemotePort: portString(c.remote),
		Direction: c.dir, Protocol: c.proto, ProcessID: int64(c.pid),
	}
	if c.local.IsValid() {
		pl.LocalAddress, pl.LocalPort = addrString(c.local), portString(c.local)
	}
	x := map[string]string{xBackend: e.active}
	missing := c.incomplete
	var o owner
	var known bool
	if c.pid > 0 {
		o, known = e.own.process(c.pid, c.time)
	} else {
		missing = append(missing, "owning process unknown")
	}
	pl.Executable = c.exe
	if known && o.exe != "" && !strings.HasPrefix(pl.Executable, "/") {
		pl.Executable = o.exe
	}
	switch {
	case len(c.argv) > 0 && !c.argvTruncated:
		pl.CommandLine = procfs.JoinArgv(c.argv)
	case known && o.commandLine != "" && prefixOf(c.argv, o.argv):
		pl.CommandLine = o.commandLine
	case len(c.argv) > 0:
		pl.CommandLine = procfs.JoinArgv(c.argv)
		missing = append(missing, "command line truncated: process gone before /proc could complete it")
	}
	if pl.Executable == "" && c.pid > 0 {
		missing = append(missing, "executable: process gone before /proc could be read")
	}
	if c.comm != "" && (pl.Executable == "" || !known) {
		x[xComm] = c.comm
	}
	uid, uidOK := c.uid, c.uidKnown
	if !uidOK && known {
		uid, uidOK = o.uid, true
	}
	if uidOK {
		pl.UserID = strconv.FormatUint(uint64(uid), 10)
		if n := e.own.userName(uid); n != "" {
			x[xUserName] = n
		}
	}
	if known {
		if o.entityID != "" {
			x[xEntityID] = o.entityID
		}
		if o.container.ID != "" {
			x[xContainerID] = o.container.ID
			setNonEmpty(x, xContainerName, o.container.Name)
			setNonEmpty(x, xIoTEdgeModule, o.container.Module)
		}
	}
	if c.inProgress {
		x[xInProgress] = "true"
	}
	if len(missing) > 0 {
		x[xIncomplete] = strings.Join(missing, "; ")
	}
	pl.ExtraDetails = x
	return pl
}

func setNonEmpty(x map[string]string, k, v string) {
	if v != "" {
		x[k] = v
	}
}

// addrString renders an address as the schema's ip format wants it:
// dotted IPv4 (also for v4-mapped IPv6), else RFC 5952 IPv6 without zone.
func addrString(ap netip.AddrPort) string {
	a := ap.Addr()
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

func portString(ap netip.AddrPort) string {
	if !ap.Addr().IsValid() {
		return ""
	}
	return strconv.FormatUint(uint64(ap.Port()), 10)
}

// prefixOf reports whether the (possibly truncated) argv from the kernel
// is a prefix of full, so /proc describes the same process image.
func prefixOf(part, full []string) bool {
	if len(part) == 0 {
		return true
	}
	if len(part) > len(full) {
		return false
	}
	for i, a := range part[:len(part)-1] {
		if full[i] != a {
			return false
		}
	}
	return strings.HasPrefix(full[len(part)-1], part[len(part)-1])
}
