package procfs

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// CgroupLine is one line of /proc/<pid>/cgroup,
// "hierarchy-ID:controller-list:cgroup-path".
type CgroupLine struct {
	// HierarchyID is 0 for the cgroup v2 unified hierarchy.
	HierarchyID int
	// Controllers lists the v1 controllers ("cpu", "cpuacct") or the
	// named hierarchy ("name=systemd"); empty for v2.
	Controllers []string
	Path        string
}

// V2 reports whether l is the cgroup v2 line ("0::/path").
func (l CgroupLine) V2() bool { return l.HierarchyID == 0 && len(l.Controllers) == 0 }

// Has reports whether l's hierarchy carries controller (or "name=…").
func (l CgroupLine) Has(controller string) bool {
	for _, c := range l.Controllers {
		if c == controller {
			return true
		}
	}
	return false
}

// maxCgroupLines bounds the parse; a kernel has a few dozen hierarchies.
const maxCgroupLines = 256

// ParseCgroup parses /proc/<pid>/cgroup, v1 and v2 lines alike. The path
// may contain ':' so only the first two colons split. A malformed line
// fails the whole parse: the file is kernel-made, so bad input means the
// wrong file.
func ParseCgroup(r io.Reader) ([]CgroupLine, error) {
	var out []CgroupLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxCgroupBytes)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(out) == maxCgroupLines {
			return nil, malformed("cgroup: more than %d lines", maxCgroupLines)
		}
		id, rest, ok := bytes.Cut(line, []byte(":"))
		ctrl, path, ok2 := bytes.Cut(rest, []byte(":"))
		if !ok || !ok2 {
			return nil, malformed("cgroup: line %q", line)
		}
		h, err := strconv.Atoi(string(id))
		if err != nil || h < 0 {
			return nil, malformed("cgroup: hierarchy %q", id)
		}
		if len(path) == 0 || path[0] != '/' {
			return nil, malformed("cgroup: path %q", path)
		}
		l := CgroupLine{HierarchyID: h, Path: string(path)}
		if len(ctrl) > 0 {
			l.Controllers = strings.Split(string(ctrl), ",")
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, malformed("cgroup: %v", err)
	}
	return out, nil
}
