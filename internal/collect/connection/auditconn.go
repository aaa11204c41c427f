package connection

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
)

// auditConn is a connect or accept event assembled from the SYSCALL,
// SOCKADDR and PROCTITLE records of one audit serial.
type auditConn struct {
	rawConn
	// fd is the socket in the process: connect's a0, accept's result;
	// listenFD is accept's a0, the listening socket, -1 for connect.
	fd, listenFD int
}

// einprogress is -EINPROGRESS as the audit exit field shows it: a
// non-blocking connect whose handshake is under way.
const einprogress = -115

// Errors of parseAuditConn. errNotConn is not a failure: the event is
// another syscall, a failed connect or a non-IP socket.
var (
	errNotConn     = errors.New("audit event: not a new IP connection")
	errAuditRecord = errors.New("malformed audit connection event")
)

// parseAuditConn assembles a connection from the records of one event.
// sys maps the audit arch (hex, as in the record) to its socket syscalls.
func parseAuditConn(ev audit.Event, sys map[string]audit.SocketSyscalls) (auditConn, error) {
	var c auditConn
	sc := ev.Find(audit.TypeSyscall)
	if sc == nil {
		return c, errNotConn
	}
	arch, _ := sc.Get("arch")
	nr, ok := sc.Int("syscall")
	if !ok {
		return c, fmt.Errorf("%w: syscall %q", errAuditRecord, field(sc, "syscall"))
	}
	abi, ok := sys[arch]
	switch {
	case !ok:
		return c, errNotConn
	case contains(abi.Connect, nr):
		c.dir = dirOut
	case contains(abi.Accept, nr):
		c.dir = dirIn
	default:
		return c, errNotConn
	}
	exit, ok := sc.Int("exit")
	if !ok {
		return c, fmt.Errorf("%w: exit %q", errAuditRecord, field(sc, "exit"))
	}
	switch {
	case c.dir == dirOut && exit == einprogress:
		c.inProgress = true
	case exit < 0:
		return c, errNotConn
	}
	pid, ok := sc.Int("pid")
	if !ok || pid <= 0 || pid > 1<<22 {
		return c, fmt.Errorf("%w: pid %q", errAuditRecord, field(sc, "pid"))
	}
	c.pid, c.time = int32(pid), sc.Time
	if uid, err := strconv.ParseUint(field(sc, "uid"), 10, 32); err == nil {
		c.uid, c.uidKnown = uint32(uid), true
	}
	c.exe, _ = sc.String("exe")
	c.comm, _ = sc.String("comm")
	a0, err := strconv.ParseUint(field(sc, "a0"), 16, 31)
	if err != nil {
		return c, fmt.Errorf("%w: a0 %q", errAuditRecord, field(sc, "a0"))
	}
	if c.dir == dirOut {
		c.fd, c.listenFD = int(a0), -1
	} else {
		c.fd, c.listenFD = int(min(exit, 1<<30)), int(a0)
	}
	if sa := ev.Find(audit.TypeSockaddr); sa != nil {
		ap, family, err := parseSaddr(field(sa, "saddr"))
		if err != nil {
			return c, err
		}
		if family != afInet && family != afInet6 {
			return c, errNotConn // unix, netlink, packet: not a network connection
		}
		c.remote = ap
	} else if c.dir == dirOut {
		return c, fmt.Errorf("%w: connect without SOCKADDR", errAuditRecord)
	}
	if pt := ev.Find(audit.TypeProctitle); pt != nil {
		if v, ok := pt.Get("proctitle"); ok {
			c.argv, c.argvTruncated = audit.DecodeProctitle(v), true
		}
	}
	return c, nil
}

func field(r *audit.Record, k string) string {
	v, _ := r.Get(k)
	return v
}

func contains(list []int, n int64) bool {
	for _, v := range list {
		if int64(v) == n {
			return true
		}
	}
	return false
}

// parseSaddr decodes a SOCKADDR record's saddr, the hex of the struct
// sockaddr the process passed (reference-agents.md §2.3): family in host
// order, then for AF_INET the port (big-endian) and address, for AF_INET6
// the port, flow info, address and scope id. Other families return their
// family number and no address.
func parseSaddr(h string) (netip.AddrPort, uint16, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return netip.AddrPort{}, 0, fmt.Errorf("%w: saddr not hex", errAuditRecord)
	}
	if len(b) < 2 {
		return netip.AddrPort{}, 0, fmt.Errorf("%w: saddr of %d bytes", errAuditRecord, len(b))
	}
	family := binary.NativeEndian.Uint16(b)
	switch family {
	case afInet:
		if len(b) < 8 {
			return netip.AddrPort{}, family, fmt.Errorf("%w: AF_INET saddr of %d bytes", errAuditRecord, len(b))
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:])), family, nil
	case afInet6:
		if len(b) < 24 {
			return netip.AddrPort{}, family, fmt.Errorf("%w: AF_INET6 saddr of %d bytes", errAuditRecord, len(b))
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), binary.BigEndian.Uint16(b[2:])), family, nil
	}
	return netip.AddrPort{}, family, nil
}

// auditArches indexes the socket syscalls by the audit record's arch.
func auditArches(list []audit.SocketSyscalls) map[string]audit.SocketSyscalls {
	m := make(map[string]audit.SocketSyscalls, len(list))
	for _, s := range list {
		m[strconv.FormatUint(uint64(s.Arch), 16)] = s
	}
	return m
}
