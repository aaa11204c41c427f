package login

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// utmpSize is the size of glibc's struct utmp as written to utmp, wtmp and
// btmp. The on-disk layout is the same on every glibc target we ship
// (amd64, arm64, 386, arm/v7), little-endian on all of them:
//
//	off  size field
//	  0     2 ut_type (short) + 2 padding
//	  4     4 ut_pid
//	  8    32 ut_line
//	 40     4 ut_id
//	 44    32 ut_user
//	 76   256 ut_host
//	332     4 ut_exit (two shorts)
//	336     4 ut_session
//	340     8 ut_tv (32-bit seconds, 32-bit microseconds)
//	348    16 ut_addr_v6
//	364    20 reserved
//
// 64-bit glibc keeps ut_session and ut_tv at 32 bits
// (__WORDSIZE_TIME64_COMPAT32) precisely so that 32- and 64-bit programs
// share these files; on 32-bit targets long and time_t are 32 bits, giving
// the same offsets (checked with offsetof under gcc and gcc -m32 on
// Debian 12). glibc 2.39+ pins ut_tv to 32 bits even with _TIME_BITS=64 and
// reads the seconds as unsigned, which we do too so dates after 2038 work.
const utmpSize = 384

// Record types of ut_type that we use.
const (
	utBootTime    = 2
	utUserProcess = 7
	utDeadProcess = 8
	utMaxType     = 9 // ACCOUNTING, the largest defined type
)

// utmpRecord is one decoded struct utmp.
type utmpRecord struct {
	Type    int16
	PID     int32
	Line    string
	ID      string
	User    string
	Host    string
	Exit    [2]int16 // e_termination, e_exit
	Session int32
	Time    time.Time
	Addr    netip.Addr // zero when ut_addr_v6 is all zero
}

// errMalformed is wrapped by every utmp decoding error.
var errMalformed = errors.New("malformed utmp record")

// parseUtmp decodes one record. off is the record's offset in its file and
// only names it in errors.
func parseUtmp(b []byte, off int64) (utmpRecord, error) {
	if len(b) != utmpSize {
		return utmpRecord{}, fmt.Errorf("offset %d: %w: %d bytes, want %d", off, errMalformed, len(b), utmpSize)
	}
	le := binary.LittleEndian
	r := utmpRecord{
		Type:    int16(le.Uint16(b[0:])),
		PID:     int32(le.Uint32(b[4:])),
		Line:    cString(b[8:40]),
		ID:      cString(b[40:44]),
		User:    cString(b[44:76]),
		Host:    cString(b[76:332]),
		Exit:    [2]int16{int16(le.Uint16(b[332:])), int16(le.Uint16(b[334:]))},
		Session: int32(le.Uint32(b[336:])),
	}
	if r.Type < 0 || r.Type > utMaxType {
		return utmpRecord{}, fmt.Errorf("offset %d: %w: ut_type %d", off, errMalformed, r.Type)
	}
	if r.PID < 0 {
		return utmpRecord{}, fmt.Errorf("offset %d: %w: ut_pid %d", off, errMalformed, r.PID)
	}
	usec := le.Uint32(b[344:])
	if usec >= 1_000_000 {
		return utmpRecord{}, fmt.Errorf("offset %d: %w: ut_tv.tv_usec %d", off, errMalformed, usec)
	}
	r.Time = time.Unix(int64(le.Uint32(b[340:])), int64(usec)*1000).UTC()
	r.Addr = utmpAddr(b[348:364])
	return r, nil
}

// parseUtmpRecords decodes the whole records of b (a read starting at file
// offset off) and returns them with per-record errors; a trailing partial
// record is left to the next read and not counted in consumed.
func parseUtmpRecords(b []byte, off int64) (recs []utmpRecord, consumed int, errs []error) {
	for len(b)-consumed >= utmpSize {
		r, err := parseUtmp(b[consumed:consumed+utmpSize], off+int64(consumed))
		consumed += utmpSize
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	return recs, consumed, errs
}

// cString returns the bytes of a fixed-size field up to the first NUL.
// The fields are not NUL-terminated when full. Invalid UTF-8 is replaced
// so the event stays valid JSON text.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// utmpAddr decodes ut_addr_v6: an IPv4 address is in the first word only
// (network byte order), an IPv6 address fills all four.
func utmpAddr(b []byte) netip.Addr {
	var a [16]byte
	copy(a[:], b)
	if a == ([16]byte{}) {
		return netip.Addr{}
	}
	if [12]byte(a[4:]) == ([12]byte{}) {
		return netip.AddrFrom4([4]byte(a[:4]))
	}
	return netip.AddrFrom16(a)
}

// Executables we name for utmp records, which carry no executable. The
// rule, in order: a line "ssh:..." (sshd's btmp entries) or a pseudo
// terminal with a remote host is sshd, by far the most common remote login
// that writes utmp (telnetd and rlogind would look the same and are
// misnamed sshd); a console, tty or serial line is login(1); anything else
// (X displays ":0", pts without a host from terminal emulators) is
// "unknown". The raw line is always in ExtraDetails Terminal.
const (
	exeSSHD    = "/usr/sbin/sshd"
	exeLogin   = "/bin/login"
	exeUnknown = "unknown"
)

func utmpExecutable(line, host string) string {
	switch {
	case strings.HasPrefix(line, "ssh:"):
		return exeSSHD
	case strings.HasPrefix(line, "pts/") && host != "":
		return exeSSHD
	case line == "console" || strings.HasPrefix(line, "tty"):
		return exeLogin
	}
	return exeUnknown
}

// fromUtmp maps a wtmp or btmp record to a login attempt. ok is false for
// records that are not logins (boot, runlevel, init and empty records).
// btmp holds only failures, whatever their ut_type (6 LOGIN_PROCESS from
// sshd, 7 from login(1)).
func fromUtmp(r utmpRecord, src source) (a attempt, ok bool) {
	a = attempt{
		Source:   src,
		Time:     r.Time,
		PID:      int64(r.PID),
		User:     r.User,
		Terminal: r.Line,
		Result:   resultSuccess,
	}
	switch {
	case src == srcBtmp:
		if r.User == "" {
			return attempt{}, false
		}
		a.Op, a.Result = opLogin, resultFail
	case r.Type == utUserProcess && r.User != "":
		a.Op = opLogin
	case r.Type == utDeadProcess && r.Line != "" && r.PID > 0:
		a.Op = opLogout
	default:
		return attempt{}, false
	}
	a.Executable = utmpExecutable(r.Line, r.Host)
	a.setHost(r.Host)
	if !a.Addr.IsValid() && r.Addr.IsValid() {
		a.Addr = r.Addr
	}
	return a, true
}

// setHost fills Addr from a host field holding an address (sshd writes the
// address, or a name with UseDNS) and keeps anything else as RemoteHost.
func (a *attempt) setHost(host string) {
	if host == "" {
		return
	}
	// login(1) writes "host:display" for X; zone ids are not valid in the
	// schema's ipv6 format.
	if ip, err := netip.ParseAddr(host); err == nil {
		a.Addr = ip.WithZone("")
		return
	}
	a.RemoteHost = host
}
