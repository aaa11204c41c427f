package baseline

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// mountEntry is one line of /proc/<pid>/mounts.
type mountEntry struct {
	Source, Point, FSType string
	Options               []string
}

// parseMounts parses /proc/<pid>/mounts. Fields are octal-escaped
// (\040 for a space); lines with fewer than four fields are skipped and
// reported.
func parseMounts(r io.Reader) ([]mountEntry, error) {
	var out []mountEntry
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		f := strings.Fields(line)
		if len(f) < 4 {
			bad.add(fmt.Sprintf("want at least 4 fields, got %d", len(f)))
			return true
		}
		out = append(out, mountEntry{
			Source: unescapeMount(f[0]), Point: unescapeMount(f[1]),
			FSType: f[2], Options: strings.Split(f[3], ","),
		})
		return true
	})
	return out, bad.err(err)
}

// unescapeMount undoes the kernel's \ooo escapes of space, tab, newline
// and backslash; anything else is kept as written.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func (h *host) mountOption(m *MountSpec) outcome {
	mounts, err := h.mounts()
	if hardErr(err) {
		return erred(err)
	}
	var selected []mountEntry
	switch {
	case m.MountPoint != "":
		// The last mount of a point is the one in effect.
		for i := len(mounts) - 1; i >= 0; i-- {
			if mounts[i].Point == m.MountPoint {
				selected = append(selected, mounts[i])
				break
			}
		}
		if len(selected) == 0 {
			return failed("%s is not a separate mount", m.MountPoint)
		}
	case m.Removable:
		for _, e := range mounts {
			if r, err := h.removable(e.Source); err != nil {
				return erred(err)
			} else if r {
				selected = append(selected, e)
			}
		}
	default:
		for _, e := range mounts {
			if slices.Contains(m.FSTypes, e.FSType) {
				selected = append(selected, e)
			}
		}
	}
	for _, e := range selected {
		var missing []string
		for _, o := range m.Options {
			if !slices.Contains(e.Options, o) {
				missing = append(missing, o)
			}
		}
		if len(missing) > 0 {
			return failed("%s (%s) is mounted without %s", e.Point, e.FSType, strings.Join(missing, ","))
		}
	}
	return qualify(passed(), err)
}

// removable reports whether a mount source is a removable block device
// (or a partition of one), from /sys/block/<disk>/removable.
func (h *host) removable(source string) (bool, error) {
	dev, ok := strings.CutPrefix(source, "/dev/")
	if !ok || dev == "" || strings.Contains(dev, "/") {
		return false, nil
	}
	for _, disk := range []string{dev, diskOf(dev)} {
		b, err := h.root.ReadFile(64, "/sys/block/"+disk+"/removable")
		if isMissing(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		return strings.TrimSpace(string(b)) == "1", nil
	}
	return false, nil
}

// diskOf strips a partition suffix: sdb1 -> sdb, mmcblk0p1 -> mmcblk0.
func diskOf(part string) string {
	d := strings.TrimRight(part, "0123456789")
	if strings.HasSuffix(d, "p") && len(d) > 1 && d[len(d)-2] >= '0' && d[len(d)-2] <= '9' {
		d = d[:len(d)-1]
	}
	return d
}
