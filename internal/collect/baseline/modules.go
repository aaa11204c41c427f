package baseline

import (
	"io"
	"path"
	"strings"
)

// modprobeRules is what modprobe.d says about modules: names with an
// "install x /bin/true|/bin/false" directive (the module cannot be
// loaded, even by name) and names blacklisted (not loaded by alias).
type modprobeRules struct {
	Disabled    map[string]bool
	Blacklisted map[string]bool
}

func newModprobeRules() modprobeRules {
	return modprobeRules{Disabled: map[string]bool{}, Blacklisted: map[string]bool{}}
}

// parseModprobe adds the directives of one modprobe.d file to m.
func parseModprobe(r io.Reader, m modprobeRules) error {
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		f := fields(line)
		if len(f) < 2 {
			return true
		}
		switch f[0] {
		case "blacklist":
			m.Blacklisted[moduleName(f[1])] = true
		case "install":
			if len(f) >= 3 && isNoop(f[2]) {
				m.Disabled[moduleName(f[1])] = true
			}
		}
		return true
	})
	return bad.err(err)
}

// isNoop reports whether an install command does nothing: true or false
// by any path (/bin/true, /usr/bin/false), the CIS forms.
func isNoop(cmd string) bool {
	b := path.Base(cmd)
	return b == "true" || b == "false"
}

// moduleName normalises a module name: modprobe treats - and _ alike.
func moduleName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// parseProcModules returns the names of the loaded modules of
// /proc/modules ("name size refcount deps state address").
func parseProcModules(r io.Reader) (map[string]bool, error) {
	mods := map[string]bool{}
	err := eachLine(r, nil, func(line string) bool {
		if name, _, _ := strings.Cut(line, " "); name != "" {
			mods[moduleName(name)] = true
		}
		return true
	})
	return mods, err
}

func (h *host) moduleDisabled(name string) outcome {
	rules, err := h.modprobe()
	if hardErr(err) {
		return erred(err)
	}
	n := moduleName(name)
	switch {
	case rules.Disabled[n]:
		return passed() // the install line was read: skipped lines cannot undo it
	case rules.Blacklisted[n]:
		return failed("%s is blacklisted, but \"modprobe %s\" still loads it: no \"install %s /bin/true\" in modprobe.d", name, name, name)
	}
	return failed("no \"install %s /bin/true\" in modprobe.d", name)
}

func (h *host) moduleNotLoaded(name string) outcome {
	mods, err := h.loadedModules()
	if err != nil {
		return erred(err)
	}
	if mods[moduleName(name)] {
		return failed("kernel module %s is loaded", name)
	}
	return passed()
}
