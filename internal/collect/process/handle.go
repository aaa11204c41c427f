package process

import (
	"strconv"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// ExtraDetails keys.
const (
	xHash              = "Hash"
	xHashSkipped       = "HashSkipped"
	xParentExecutable  = "ParentExecutable"
	xParentCommandLine = "ParentCommandLine"
	xEntityID          = "EntityId"
	xParentEntityID    = "ParentEntityId"
	xContainerID       = "ContainerId"
	xContainerName     = "ContainerName"
	xIoTEdgeModule     = "IoTEdgeModule"
	xBackend           = "Backend"
	xStartTime         = "StartTime"
	xLifetimeMs        = "LifetimeMs"
	xSignal            = "Signal"
	xIncomplete        = "Incomplete"
)

func (e *engine) handle(ev rawEvent) {
	if int(ev.kind) < len(e.counters) && e.counters[ev.kind] != nil {
		e.counters[ev.kind].Inc()
	}
	switch ev.kind {
	case rawFork:
		e.onFork(ev)
	case rawExec:
		e.onExec(ev)
	case rawExit:
		e.onExit(ev)
	}
}

func kindName(k rawKind) string {
	switch k {
	case rawFork:
		return "fork"
	case rawExec:
		return "exec"
	case rawExit:
		return "exit"
	}
	return "other"
}

// onFork records the child: until it execs it runs its parent's image.
func (e *engine) onFork(ev rawEvent) {
	en := &entry{pid: ev.pid, ppid: ev.ppid, startTicks: ev.startTicks, lastSeen: ev.time}
	if p, ok := e.tbl.get(ev.ppid); ok {
		en.exe, en.commandLine, en.container = p.exe, p.commandLine, p.container
	}
	en.self = e.isSelf(ev.pid, ev.ppid)
	e.finishEntry(en)
	e.tbl.put(en)
}

func (e *engine) finishEntry(en *entry) {
	if en.startTicks != 0 {
		en.start = e.enr.startTime(en.startTicks)
		en.entityID = e.enr.entityID(en.pid, en.startTicks)
	}
}

func (e *engine) onExec(ev rawEvent) {
	prev, hadPrev := e.tbl.get(ev.pid)
	if ev.ppid == 0 && hadPrev {
		ev.ppid = prev.ppid
	}
	if ev.startTicks == 0 && hadPrev {
		ev.startTicks = prev.startTicks
	}
	p := ev.proc
	if p == nil && (needsProc(ev) || ev.ppid == 0) {
		p, _ = e.enr.readProcess(ev.pid) // gone: report what the kernel gave
	}
	if p != nil {
		if ev.ppid == 0 {
			ev.ppid = p.PPID
		}
		if ev.startTicks == 0 {
			ev.startTicks = p.StartTicks
		}
	}
	en := &entry{pid: ev.pid, ppid: ev.ppid, startTicks: ev.startTicks, lastSeen: ev.time}
	if hadPrev && prev.startTicks == en.startTicks && prev.entityID != "" {
		// Same process as forked: its id and start were made then.
		en.start, en.entityID = prev.start, prev.entityID
	} else {
		e.finishEntry(en)
	}
	en.self = (hadPrev && prev.self) || e.isSelf(ev.pid, ev.ppid)

	pl := &event.ProcessCreate{ProcessID: int64(ev.pid), ParentProcessID: int64(ev.ppid)}
	x := make(map[string]string, 12) // sized for every key: no regrowth
	x[xBackend] = e.active
	var missing []string
	pl.Executable = ev.exe
	if p != nil && p.Exe != "" && (pl.Executable == "" || !strings.HasPrefix(pl.Executable, "/")) {
		pl.Executable = p.Exe
	}
	switch {
	case ev.argvKnown && !ev.argvTruncated:
		pl.CommandLine = procfs.JoinArgv(ev.argv)
	case p != nil && p.Argv != nil && prefixOf(ev.argv, p.Argv):
		pl.CommandLine = p.CommandLine
	default:
		pl.CommandLine = procfs.JoinArgv(ev.argv)
		if ev.argvTruncated {
			missing = append(missing, "command line truncated: process gone before /proc could complete it")
		} else {
			missing = append(missing, "command line: process gone before /proc could be read")
		}
	}
	uid, uidOK := ev.uid, ev.uidKnown
	if !uidOK && p != nil {
		uid, uidOK = p.UID, true
	}
	if uidOK {
		pl.UserID = strconv.FormatUint(uint64(uid), 10)
		pl.UserName = e.enr.userName(uid)
	} else {
		pl.UserID = ""
		missing = append(missing, "user id")
	}
	en.exe, en.commandLine = pl.Executable, pl.CommandLine
	if en.entityID != "" {
		x[xEntityID] = en.entityID
		x[xStartTime] = en.start.UTC().Format(time.RFC3339Nano)
	}
	en.container = e.containerOf(ev, p, prev, hadPrev)
	setContainer(x, en.container)
	e.tbl.put(en)
	if en.self || !e.out.wants(rawExec) {
		return
	}
	if par := e.parent(ev.ppid, ev.time); par != nil {
		x[xParentExecutable] = par.exe
		x[xParentCommandLine] = par.commandLine
		if par.entityID != "" {
			x[xParentEntityID] = par.entityID
		}
	}
	if sum, skipped := e.enr.hash(ev.pid, pl.Executable); sum != "" {
		x[xHash] = sum
	} else if skipped != "" {
		x[xHashSkipped] = skipped
	}
	if len(missing) > 0 {
		x[xIncomplete] = strings.Join(missing, "; ")
	}
	pl.ExtraDetails = x
	e.out.emit(rawExec, event.New(event.NameProcessCreate, ev.time, pl))
}

// needsProc tells whether the kernel event lacks something /proc has.
func needsProc(ev rawEvent) bool {
	return !ev.argvKnown || ev.argvTruncated || !ev.uidKnown || ev.startTicks == 0 ||
		!strings.HasPrefix(ev.exe, "/")
}

// prefixOf reports whether the (possibly truncated) argv from the kernel
// is a prefix of full, so /proc describes the same exec.
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

// parent returns the table entry of ppid, reading /proc when the parent
// is not known yet.
func (e *engine) parent(ppid int32, now time.Time) *entry {
	if ppid <= 0 {
		return nil
	}
	if en, ok := e.tbl.get(ppid); ok {
		en.lastSeen = now
		if en.exe != "" || en.commandLine != "" {
			return en
		}
	}
	p, err := e.enr.readProcess(ppid)
	if err != nil {
		return nil
	}
	en := e.entryOf(p, now)
	en.self = e.isSelf(en.pid, en.ppid)
	e.tbl.put(en)
	return en
}

// containerOf attributes the exec to a container: from the cgroup lines
// read now, else the cgroup id seen before, else the forked entry.
func (e *engine) containerOf(ev rawEvent, p *procfs.Process, prev *entry, hadPrev bool) containerInfo {
	if ev.cgroupID != 0 {
		if c, ok := e.cgroups.get(ev.cgroupID); ok {
			return c
		}
	}
	if p == nil && ev.cgroupID != 0 {
		if cg, err := e.readCgroup(ev.pid); err == nil {
			p = &procfs.Process{Cgroup: cg}
		}
	}
	if p != nil {
		c, _ := e.enr.container(p.Cgroup)
		if ev.cgroupID != 0 {
			e.cgroups.put(ev.cgroupID, c)
		}
		return c
	}
	if hadPrev {
		return prev.container
	}
	return containerInfo{}
}

func (e *engine) readCgroup(pid int32) ([]procfs.CgroupLine, error) {
	f, err := e.root.Open("proc", strconv.FormatInt(int64(pid), 10), "cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return procfs.ParseCgroup(f)
}

func setContainer(x map[string]string, c containerInfo) {
	if c.ID == "" {
		return
	}
	x[xContainerID] = c.ID
	if c.Name != "" {
		x[xContainerName] = c.Name
	}
	if c.Module != "" {
		x[xIoTEdgeModule] = c.Module
	}
}

func (e *engine) onExit(ev rawEvent) {
	en, known := e.tbl.remove(ev.pid)
	if known && en.self || !known && e.isSelf(ev.pid, ev.ppid) {
		return
	}
	if !e.out.wants(rawExit) {
		return
	}
	pl := &event.ProcessTerminate{ProcessID: int64(ev.pid), Executable: ev.exe}
	x := map[string]string{xBackend: e.active}
	if ev.exitKnown {
		status, sig := exitStatus(ev.waitStatus)
		pl.ExitStatus = status
		if sig != 0 {
			x[xSignal] = strconv.Itoa(sig)
		}
	} else {
		x[xIncomplete] = "exit status unknown to the " + e.active + " backend"
	}
	lifetime := ev.lifetime
	if known {
		if en.exe != "" {
			pl.Executable = en.exe
		}
		if en.entityID != "" {
			x[xEntityID] = en.entityID
		}
		if lifetime == 0 && !en.start.IsZero() {
			lifetime = ev.time.Sub(en.start)
		}
		setContainer(x, en.container)
	} else if ev.startTicks != 0 {
		x[xEntityID] = e.enr.entityID(ev.pid, ev.startTicks)
	}
	if lifetime > 0 {
		x[xLifetimeMs] = strconv.FormatInt(lifetime.Milliseconds(), 10)
	}
	pl.ExtraDetails = x
	e.out.emit(rawExit, event.New(event.NameProcessTerminate, ev.time, pl))
}
