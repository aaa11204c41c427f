package container

import (
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// Runtimes named by cgroup path patterns. RuntimeUnknown is a bare 64-hex
// segment whose engine the path does not say (cgroupfs driver under a
// kubepods pod, docker-in-docker, CI runners).
const (
	RuntimeDocker     = "docker"
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "cri-o"
	RuntimePodman     = "podman"
	RuntimeUnknown    = ""
)

// scopePatterns are systemd-driver unit names: prefix + id + ".scope".
// The conmon monitors of CRI-O and Podman (crio-conmon-, libpod-conmon-)
// run outside the container and are deliberately not matched.
var scopePatterns = []struct{ prefix, runtime string }{
	{"docker-", RuntimeDocker},
	{"cri-containerd-", RuntimeContainerd},
	{"crio-", RuntimeCRIO},
	{"libpod-", RuntimePodman},
}

// ParseID finds the container of a process from its cgroup lines. It
// prefers the cgroup v2 line, then name=systemd, then pids, then any
// other hierarchy, and within a path takes the innermost segment that
// names a container (docker-in-docker nests them). The id is 64 lowercase
// hex digits; ok is false for processes outside containers.
func ParseID(lines []procfs.CgroupLine) (id, runtime string, ok bool) {
	for _, l := range ordered(lines) {
		if id, runtime, ok = parsePath(l.Path); ok {
			return id, runtime, true
		}
	}
	return "", "", false
}

// ordered returns lines in preference order.
func ordered(lines []procfs.CgroupLine) []procfs.CgroupLine {
	out := make([]procfs.CgroupLine, 0, len(lines))
	rank := []func(procfs.CgroupLine) bool{
		procfs.CgroupLine.V2,
		func(l procfs.CgroupLine) bool { return l.Has("name=systemd") },
		func(l procfs.CgroupLine) bool { return l.Has("pids") },
		func(procfs.CgroupLine) bool { return true },
	}
	used := make([]bool, len(lines))
	for _, match := range rank {
		for i, l := range lines {
			if !used[i] && match(l) {
				used[i] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// parsePath scans a cgroup path from its innermost segment outwards.
func parsePath(path string) (id, runtime string, ok bool) {
	segs := strings.Split(path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if base, isScope := strings.CutSuffix(s, ".scope"); isScope {
			for _, p := range scopePatterns {
				if rest, ok := strings.CutPrefix(base, p.prefix); ok && isID(rest) {
					return rest, p.runtime, true
				}
			}
			continue
		}
		// cgroupfs driver: "crio-<id>" and "libpod-<id>" without .scope.
		for _, p := range scopePatterns[2:] {
			if rest, ok := strings.CutPrefix(s, p.prefix); ok && isID(rest) {
				return rest, p.runtime, true
			}
		}
		if isID(s) {
			rt := RuntimeUnknown
			if i > 0 && segs[i-1] == "docker" {
				rt = RuntimeDocker
			}
			return s, rt, true
		}
	}
	return "", "", false
}

// isID reports whether s is a 64-digit lowercase hex container id.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
