package baseline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// unitInstall is the [Install] section of a systemd unit file: the names
// enabling the unit also creates (Alias) or enables (Also).
type unitInstall struct {
	Alias, Also, WantedBy []string
}

// parseUnitFile reads the [Install] section of a unit file. Lines
// ending in a backslash continue on the next; comments start with # or ;.
// Lines outside a section or without "=" are skipped, as systemd does,
// and reported.
func parseUnitFile(r io.Reader) (unitInstall, error) {
	var u unitInstall
	var section, pending string
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		if pending != "" {
			line = pending + " " + strings.TrimSpace(line)
			pending = ""
		}
		t := strings.TrimSpace(line)
		if strings.HasSuffix(t, `\`) {
			pending = strings.TrimSuffix(t, `\`)
			return true
		}
		if t == "" || t[0] == '#' || t[0] == ';' {
			return true
		}
		if t[0] == '[' {
			end := strings.IndexByte(t, ']')
			if end < 0 {
				bad.add("unterminated section header")
				return true
			}
			section = t[1:end]
			return true
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || section == "" {
			bad.add("want Key=value inside a section")
			return true
		}
		if section != "Install" {
			return true
		}
		words := strings.Fields(v)
		switch strings.TrimSpace(k) {
		case "Alias":
			u.Alias = appendBounded(u.Alias, words)
		case "Also":
			u.Also = appendBounded(u.Also, words)
		case "WantedBy", "RequiredBy":
			u.WantedBy = appendBounded(u.WantedBy, words)
		}
		return true
	})
	return u, bad.err(err)
}

func appendBounded(to, words []string) []string {
	for _, w := range words {
		if len(to) == maxChildren {
			break
		}
		to = append(to, w)
	}
	return to
}

// unitDirs are the systemd unit directories, by precedence.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// unitIndex is what the unit directories say about enablement: units
// linked from a .wants or .requires directory, and masked units.
type unitIndex struct {
	systemd bool // some unit directory exists
	sysv    bool // /etc/rc?.d or /etc/runlevels exists
	wanted  map[string]bool
	masked  map[string]bool
	root    hostfs.Root
}

func loadUnitIndex(root hostfs.Root) (*unitIndex, error) {
	ix := &unitIndex{wanted: map[string]bool{}, masked: map[string]bool{}, root: root}
	for _, dir := range unitDirs {
		entries, err := listDir(root, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ix.systemd = true
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasSuffix(name, ".wants") || strings.HasSuffix(name, ".requires"):
				links, err := listDir(root, path.Join(dir, name))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
				for _, l := range links {
					ix.wanted[l.Name()] = true
				}
			case e.Type()&fs.ModeSymlink != 0 && (dir == "/etc/systemd/system" || dir == "/run/systemd/system"):
				if masked, err := isMasked(root, dir, name); err != nil {
					return nil, err
				} else if masked {
					ix.masked[name] = true
				}
			}
		}
	}
	for _, dir := range []string{"/etc/rc2.d", "/etc/rc3.d", "/etc/rc5.d", "/etc/runlevels/default", "/etc/runlevels/boot"} {
		if _, err := statInRoot(root, dir); err == nil {
			ix.sysv = true
		}
	}
	return ix, nil
}

// isMasked reads the link dir/name without following it.
func isMasked(root hostfs.Root, dir, name string) (bool, error) {
	d, err := root.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	target, err := readlinkAt(d, name)
	if err != nil {
		return false, err
	}
	return target == "/dev/null", nil
}

// state returns "masked", "enabled" or "disabled" for a unit. Enabled
// means linked from a .wants/.requires directory under its own name or
// an alias, or (on hosts with SysV or OpenRC scripts) started in a
// runlevel. Also= units are not followed here; see serviceState.
func (ix *unitIndex) state(unit string) (string, unitInstall, error) {
	if !ix.systemd && !ix.sysv {
		return "", unitInstall{}, errors.New("no systemd unit directory and no SysV or OpenRC runlevel directory")
	}
	if ix.masked[unit] {
		return "masked", unitInstall{}, nil
	}
	inst, err := ix.install(unit)
	if err != nil {
		return "", inst, err
	}
	if ix.wanted[unit] {
		return "enabled", inst, nil
	}
	for _, a := range inst.Alias {
		if ix.wanted[a] {
			return "enabled", inst, nil
		}
	}
	if on, err := ix.sysvEnabled(strings.TrimSuffix(unit, ".service")); err != nil || on {
		return "enabled", inst, err
	}
	return "disabled", inst, nil
}

// install parses the unit's file from the first unit directory holding it.
func (ix *unitIndex) install(unit string) (unitInstall, error) {
	for _, dir := range unitDirs {
		u, err := parseFile(ix.root, path.Join(dir, unit), 1<<20, parseUnitFile)
		if isMissing(err) {
			continue
		}
		if err != nil && !errors.Is(err, errMalformed) {
			return u, err
		}
		// Lines systemd itself would skip do not change what the
		// [Install] section that was read says.
		return u, nil
	}
	return unitInstall{}, nil
}

// sysvEnabled looks for S??name links in the multi-user runlevels and for
// name in OpenRC's default and boot runlevels.
func (ix *unitIndex) sysvEnabled(name string) (bool, error) {
	if !ix.sysv || strings.ContainsAny(name, "*?[\\") {
		return false, nil
	}
	for _, p := range []string{"/etc/rc2.d/S??" + name, "/etc/rc3.d/S??" + name, "/etc/rc5.d/S??" + name, "/etc/runlevels/default/" + name, "/etc/runlevels/boot/" + name} {
		m, err := expand(ix.root, p)
		if err != nil {
			return false, fmt.Errorf("runlevels: %w", err)
		}
		if hasMeta(p) {
			if len(m) > 0 { // a listed S??name entry, even a dangling link
				return true, nil
			}
		} else if _, err := statInRoot(ix.root, p); err == nil {
			return true, nil
		}
	}
	return false, nil
}
