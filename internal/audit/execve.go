package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Exec is an execve/execveat event assembled from SYSCALL, EXECVE, CWD,
// PATH and PROCTITLE records of one serial.
type Exec struct {
	Time    time.Time
	Serial  uint64
	PID     int
	PPID    int
	UID     uint32
	AUID    uint32
	Success bool
	Exe     string
	Comm    string
	CWD     string
	Key     string
	// Argv is the full argument vector from EXECVE records; when those
	// are missing (a rule without execve arguments), the PROCTITLE, which
	// the kernel caps at 128 bytes, and ArgvTruncated says so.
	Argv          []string
	ArgvTruncated bool
}

// Errors of ParseExec.
var (
	ErrNotExec = errors.New("audit event: not an exec")
	ErrArgv    = errors.New("audit event: malformed EXECVE arguments")
)

// maxArgs bounds the argument vector rebuilt from EXECVE records.
const maxArgs = 1 << 16

// ParseExec assembles an Exec from the records of one event.
func ParseExec(ev Event) (Exec, error) {
	var x Exec
	sc := ev.Find(TypeSyscall)
	if sc == nil {
		return x, ErrNotExec
	}
	if !isExecSyscall(sc) {
		return x, ErrNotExec
	}
	x.Time, x.Serial = sc.Time, sc.Serial
	if v, ok := sc.Int("pid"); ok {
		x.PID = int(v)
	}
	if v, ok := sc.Int("ppid"); ok {
		x.PPID = int(v)
	}
	x.UID = uint32(idField(sc, "uid"))
	x.AUID = uint32(idField(sc, "auid"))
	s, _ := sc.Get("success")
	x.Success = s == "yes"
	x.Exe, _ = sc.String("exe")
	x.Comm, _ = sc.String("comm")
	x.Key, _ = sc.String("key")
	if cwd := ev.Find(TypeCWD); cwd != nil {
		x.CWD, _ = cwd.String("cwd")
	}
	var execve []*Record
	for i := range ev.Records {
		if ev.Records[i].Type == TypeExecve {
			execve = append(execve, &ev.Records[i])
		}
	}
	if len(execve) > 0 {
		argv, err := DecodeArgs(execve)
		if err != nil {
			return x, err
		}
		x.Argv = argv
	} else if pt := ev.Find(TypeProctitle); pt != nil {
		if v, ok := pt.Get("proctitle"); ok {
			x.Argv = DecodeProctitle(v)
			x.ArgvTruncated = true
		}
	}
	return x, nil
}

// isExecSyscall tells execve (59 on x86-64, 11 on i386, 221 on
// arm64/generic) and execveat from the SYSCALL record. The key set by our
// own rules would do too, but a host's own auditd rules may also match.
func isExecSyscall(sc *Record) bool {
	sys, _ := sc.Get("syscall")
	arch, _ := sc.Get("arch")
	switch arch {
	case "c000003e": // x86_64
		return sys == "59" || sys == "322"
	case "40000003": // i386
		return sys == "11" || sys == "358"
	case "c00000b7", "c00000f3": // aarch64, riscv64: generic table
		return sys == "221" || sys == "281"
	case "40000028": // arm
		return sys == "11" || sys == "387"
	}
	// Unknown architecture: trust an EXECVE record.
	return false
}

// idField reads a uid-like field; the kernel writes 4294967295 for unset.
func idField(r *Record, key string) uint64 {
	v, ok := r.Get(key)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(v, 10, 32)
	return n
}

// DecodeArgs rebuilds argv from EXECVE records: argc=N, then aI="quoted",
// aI=HEX, or, for a long argument, aI_len=L and chunks aI[0]=HEX aI[1]=HEX
// ..., possibly spread over several records.
func DecodeArgs(recs []*Record) ([]string, error) {
	argc := -1
	args := map[int]string{}
	chunks := map[int][]string{}
	for _, r := range recs {
		for _, f := range r.Fields {
			k := f.Key
			switch {
			case k == "argc":
				n, err := strconv.Atoi(f.Value)
				if err != nil || n < 0 || n > maxArgs {
					return nil, fmt.Errorf("%w: argc=%q", ErrArgv, f.Value)
				}
				argc = n
			case len(k) > 1 && k[0] == 'a':
				idx, chunk, isLen, ok := argKey(k[1:])
				if !ok {
					continue
				}
				if idx >= maxArgs {
					return nil, fmt.Errorf("%w: index %d", ErrArgv, idx)
				}
				switch {
				case isLen:
					// aI_len only announces the chunks.
				case chunk >= 0:
					c := chunks[idx]
					if chunk != len(c) {
						return nil, fmt.Errorf("%w: %s out of order", ErrArgv, k)
					}
					b, ok := decodeHex(f.Value)
					if !ok {
						return nil, fmt.Errorf("%w: %s not hex", ErrArgv, k)
					}
					chunks[idx] = append(c, string(b))
				default:
					v, _ := DecodeValue(f.Value)
					args[idx] = v
				}
			}
		}
	}
	if argc < 0 {
		return nil, fmt.Errorf("%w: no argc", ErrArgv)
	}
	argv := make([]string, argc)
	for i := range argv {
		if c, ok := chunks[i]; ok {
			argv[i] = strings.Join(c, "")
			continue
		}
		v, ok := args[i]
		if !ok {
			return nil, fmt.Errorf("%w: a%d missing (argc=%d)", ErrArgv, i, argc)
		}
		argv[i] = v
	}
	return argv, nil
}

// argKey splits "12", "12_len" or "12[3]".
func argKey(s string) (idx, chunk int, isLen, ok bool) {
	chunk = -1
	num := s
	switch {
	case strings.HasSuffix(s, "_len"):
		num, isLen = s[:len(s)-4], true
	case strings.HasSuffix(s, "]"):
		open := strings.IndexByte(s, '[')
		if open < 0 {
			return 0, 0, false, false
		}
		c, err := strconv.Atoi(s[open+1 : len(s)-1])
		if err != nil || c < 0 || c > maxArgs {
			return 0, 0, false, false
		}
		num, chunk = s[:open], c
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, 0, false, false
	}
	return n, chunk, isLen, true
}

// DecodeProctitle splits a PROCTITLE value (hex of NUL-separated argv, or
// a quoted string when it has no special bytes).
func DecodeProctitle(v string) []string {
	s, ok := DecodeValue(v)
	if !ok {
		return nil
	}
	return strings.Split(strings.TrimRight(s, "\x00"), "\x00")
}
