package procfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Reader reads processes under one root. It reads the boot time and boot
// id once, so ReadProcess costs only the per-process files. It is safe
// for concurrent use.
type Reader struct {
	root     hostfs.Root
	bootTime time.Time
	bootID   string
	users    *UserResolver
}

// NewReader reads /proc/stat's btime and the boot id under root.
func NewReader(root hostfs.Root) (*Reader, error) {
	f, err := root.Open("proc", "stat")
	if err != nil {
		return nil, fmt.Errorf("open boot time: %w", err)
	}
	defer f.Close()
	boot, err := ParseBootTime(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	b, err := root.ReadFile(maxSmallBytes, "proc", "sys", "kernel", "random", "boot_id")
	if err != nil {
		return nil, fmt.Errorf("read boot id: %w", err)
	}
	id, err := ParseBootID(b)
	if err != nil {
		return nil, err
	}
	return &Reader{root: root, bootTime: boot, bootID: id, users: NewUserResolver(root)}, nil
}

// BootTime is the host's boot time, to whole seconds.
func (r *Reader) BootTime() time.Time { return r.bootTime }

// BootID is the host's boot id.
func (r *Reader) BootID() string { return r.bootID }

// Users is the resolver ReadProcess uses for Process.UserName.
func (r *Reader) Users() *UserResolver { return r.users }

// EntityID is the process entity id of pid started at startTicks on this
// boot; see EntityID.
func (r *Reader) EntityID(pid int32, startTicks uint64) string {
	return EntityID(r.bootID, pid, startTicks)
}

// EntityID returns a stable, opaque id for one process instance: the
// first 16 bytes of SHA-256 over boot id, pid and start ticks, in hex. A
// reused pid gets another id (its start time differs), the same process
// read twice gets the same id, so consumers can follow lineage with
// EntityID(bootID, ppid, parent's StartTicks).
func EntityID(bootID string, pid int32, startTicks uint64) string {
	var buf [64]byte
	b := append(buf[:0], bootID...)
	b = binary.BigEndian.AppendUint32(b, uint32(pid))
	b = binary.BigEndian.AppendUint64(b, startTicks)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// ReadProcess reads pid. It fails only when /proc/<pid>/stat cannot be
// read (ErrGone when the process has exited); every other field that
// fails is left zero and recorded in Process.Incomplete, e.g. exe with
// EACCES for a sandbox's pid 1 or without CAP_SYS_PTRACE.
func (r *Reader) ReadProcess(pid int32) (*Process, error) {
	dir := pidDir(pid)
	b, err := r.root.ReadFile(maxStatBytes, "proc", dir, "stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errESRCH) {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	st, err := ParseStat(b)
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	p := &Process{
		PID: pid, PPID: st.PPID, Comm: st.Comm,
		StartTicks: st.StartTicks, StartTime: TicksToTime(r.bootTime, st.StartTicks),
		EntityID: r.EntityID(pid, st.StartTicks),
	}
	miss := func(field string, err error) { p.Incomplete = append(p.Incomplete, FieldError{field, err}) }

	if err := r.readStatus(p, dir); err != nil {
		miss("status", err)
	} else if name, ok, err := r.users.Name(p.UID); err != nil {
		miss("user", err)
	} else if ok {
		p.UserName = name
	}
	if b, err := r.root.ReadFile(MaxCmdlineBytes, "proc", dir, "cmdline"); err != nil {
		miss("cmdline", err)
	} else {
		p.Argv = ParseCmdline(b)
		p.CommandLine = JoinArgv(p.Argv)
	}
	if target, err := os.Readlink(r.root.Path("proc", dir, "exe")); err != nil {
		// Kernel threads have no exe (ENOENT): that is not a failure.
		if !errors.Is(err, fs.ErrNotExist) || !p.KernelThread() {
			miss("exe", err)
		}
	} else {
		p.Exe, p.ExeDeleted = ParseExeLink(target)
	}
	if f, err := r.root.Open("proc", dir, "cgroup"); err != nil {
		miss("cgroup", err)
	} else {
		p.Cgroup, err = ParseCgroup(f)
		f.Close()
		if err != nil {
			miss("cgroup", err)
		}
	}
	if b, err := r.root.ReadFile(maxSmallBytes, "proc", dir, "loginuid"); err != nil {
		miss("loginuid", err)
	} else if p.LoginUID, p.LoginUIDSet, err = ParseLoginUID(b); err != nil {
		miss("loginuid", err)
	}
	return p, nil
}

func (r *Reader) readStatus(p *Process, dir string) error {
	b, err := r.root.ReadFile(maxStatusBytes, "proc", dir, "status")
	if err != nil {
		return err
	}
	s, err := ParseStatus(bytes.NewReader(b))
	if err != nil {
		return err
	}
	p.UID, p.EUID, p.GID, p.NSpid = s.UID[0], s.UID[1], s.GID[0], s.NSpid
	return nil
}

// errESRCH is what reading a /proc/<pid> file returns when the process
// exits between open and read.
var errESRCH error = syscall.ESRCH

// maxPIDs bounds ListPIDs; pid_max is at most 4194304 (2^22).
const maxPIDs = 1 << 22

// ListPIDs lists the process (thread group) ids under root's /proc,
// ascending. Threads are not listed: /proc shows only thread-group
// leaders at its top level.
func ListPIDs(root hostfs.Root) ([]int32, error) {
	d, err := root.Open("proc")
	if err != nil {
		return nil, fmt.Errorf("list pids: %w", err)
	}
	defer d.Close()
	var pids []int32
	for {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if pid, err := strconv.ParseInt(n, 10, 32); err == nil && pid > 0 {
				pids = append(pids, int32(pid))
			}
		}
		if len(pids) > maxPIDs {
			return nil, fmt.Errorf("list pids: more than %d", maxPIDs)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list pids: %w", err)
		}
	}
	slices.Sort(pids)
	return pids, nil
}
