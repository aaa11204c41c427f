package procfs

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"
)

// Stat holds the fields of /proc/<pid>/stat the agent uses.
type Stat struct {
	PID   int32
	Comm  string
	State byte // R, S, D, Z, T, t, X, I, …
	PPID  int32
	// StartTicks is field 22, starttime: clock ticks (UserHZ) after boot.
	StartTicks uint64
}

// statStartField is starttime's index among the fields after "(comm) ":
// field 3 (state) is index 0, so field 22 is index 19.
const statStartField = 19

// ParseStat parses one /proc/<pid>/stat line. The comm may itself hold
// spaces and parentheses ("(sd-pam)", "a) (b"), so it runs from the first
// '(' to the LAST ')'.
func ParseStat(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 1 || closing < open {
		return Stat{}, malformed("stat: no (comm)")
	}
	pid, err := strconv.ParseInt(string(bytes.TrimSpace(b[:open])), 10, 32)
	if err != nil || pid < 0 {
		return Stat{}, malformed("stat: pid %q", b[:open])
	}
	s := Stat{PID: int32(pid), Comm: string(b[open+1 : closing])}
	var fields [statStartField + 1][]byte
	rest := b[closing+1:]
	for i := range fields {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return Stat{}, malformed("stat: %d fields after comm, want at least %d", i, len(fields))
		}
		fields[i], rest = rest[:end], rest[end:]
	}
	if len(fields[0]) != 1 {
		return Stat{}, malformed("stat: state %q", fields[0])
	}
	s.State = fields[0][0]
	ppid, err := strconv.ParseInt(string(fields[1]), 10, 32)
	if err != nil || ppid < 0 {
		return Stat{}, malformed("stat: ppid %q", fields[1])
	}
	s.PPID = int32(ppid)
	if s.StartTicks, err = strconv.ParseUint(string(fields[statStartField]), 10, 64); err != nil {
		return Stat{}, malformed("stat: starttime %q", fields[statStartField])
	}
	return s, nil
}

// TicksToTime converts clock ticks after boot to wall-clock time.
func TicksToTime(boot time.Time, ticks uint64) time.Time {
	sec := ticks / UserHZ
	nsec := (ticks % UserHZ) * uint64(time.Second/UserHZ)
	return boot.Add(time.Duration(sec)*time.Second + time.Duration(nsec))
}

// ParseBootTime returns the boot time from /proc/stat's "btime" line
// (seconds since the epoch).
func ParseBootTime(r io.Reader) (time.Time, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	sc.Buffer(make([]byte, 0, 4096), 64<<10) // "intr" lines run to kilobytes
	for sc.Scan() {
		v, ok := bytes.CutPrefix(sc.Bytes(), []byte("btime "))
		if !ok {
			continue
		}
		sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil || sec <= 0 {
			return time.Time{}, malformed("stat: btime %q", v)
		}
		return time.Unix(sec, 0), nil
	}
	if err := sc.Err(); err != nil {
		return time.Time{}, err
	}
	return time.Time{}, malformed("stat: no btime line")
}
