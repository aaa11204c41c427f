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

// Read limits of the host databases the checks parse.
const (
	maxPackageDBBytes = 64 << 20 // a large Debian status file is ~10 MiB
	maxConfigBytes    = 4 << 20
	maxSshdFiles      = 64
	maxIncludeDepth   = 8
)

// host reads what the checks ask about, each source at most once per run:
// one snapshot parses /etc/shadow once however many checks use it.
type host struct {
	root hostfs.Root
	memo map[string]memoEntry
}

type memoEntry struct {
	v   any
	err error
}

func newHost(root hostfs.Root) *host { return &host{root: root, memo: map[string]memoEntry{}} }

// fact returns the memoised value of key, computing it on first use.
func fact[T any](h *host, key string, load func() (T, error)) (T, error) {
	if m, ok := h.memo[key]; ok {
		v, _ := m.v.(T)
		return v, m.err
	}
	v, err := load()
	h.memo[key] = memoEntry{v, err}
	return v, err
}

func (h *host) shadow() ([]shadowEntry, error) {
	return fact(h, "shadow", func() ([]shadowEntry, error) {
		return parseFile(h.root, "/etc/shadow", maxConfigBytes, parseShadow)
	})
}

func (h *host) passwd() ([]account, error) {
	return fact(h, "passwd", func() ([]account, error) {
		return parseFile(h.root, "/etc/passwd", maxConfigBytes, parsePasswd)
	})
}

func (h *host) group() ([]account, error) {
	return fact(h, "group", func() ([]account, error) {
		return parseFile(h.root, "/etc/group", maxConfigBytes, parseGroup)
	})
}

func (h *host) loginDefs() (map[string]string, error) {
	return fact(h, "login.defs", func() (map[string]string, error) {
		return parseFile(h.root, "/etc/login.defs", maxConfigBytes, parseLoginDefs)
	})
}

func (h *host) sysctlConf() (map[string]string, error) {
	return fact(h, "sysctl.conf", func() (map[string]string, error) { return loadSysctlConf(h.root) })
}

func (h *host) mounts() ([]mountEntry, error) {
	// /proc/1 is the host's init with the host's pid namespace, so its
	// mounts are the host's, not the module container's.
	return fact(h, "mounts", func() ([]mountEntry, error) {
		return parseFile(h.root, "/proc/1/mounts", maxConfigBytes, parseMounts)
	})
}

func (h *host) loadedModules() (map[string]bool, error) {
	return fact(h, "modules", func() (map[string]bool, error) {
		return parseFile(h.root, "/proc/modules", maxConfigBytes, parseProcModules)
	})
}

func (h *host) units() (*unitIndex, error) {
	return fact(h, "units", func() (*unitIndex, error) { return loadUnitIndex(h.root) })
}

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

// modprobe gathers the *.conf files of every modprobe.d directory; a
// file name in an earlier directory hides the same name in later ones.
func (h *host) modprobe() (modprobeRules, error) {
	return fact(h, "modprobe", func() (modprobeRules, error) {
		rules := newModprobeRules()
		seen := map[string]bool{}
		var bad error
		for _, dir := range modprobeDirs {
			entries, err := listDir(h.root, dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return rules, err
			}
			for _, e := range entries {
				if seen[e.Name()] || !strings.HasSuffix(e.Name(), ".conf") {
					continue
				}
				seen[e.Name()] = true
				_, err := parseFile(h.root, path.Join(dir, e.Name()), maxConfigBytes, func(r io.Reader) (struct{}, error) {
					return struct{}{}, parseModprobe(r, rules)
				})
				if err = note(&bad, err); err != nil && !isMissing(err) {
					return rules, err
				}
			}
		}
		return rules, bad
	})
}

// note keeps the first errMalformed of several files in *bad and returns
// any other error: a malformed file is still used.
func note(bad *error, err error) error {
	if errors.Is(err, errMalformed) {
		if *bad == nil {
			*bad = err
		}
		return nil
	}
	return err
}

var errNoPackageDB = errors.New("no package database (/var/lib/dpkg/status or /lib/apk/db/installed); rpm is not supported")

// packages unions the dpkg and apk databases.
func (h *host) packages() (map[string]bool, error) {
	return fact(h, "packages", func() (map[string]bool, error) {
		all := map[string]bool{}
		found := false
		var bad error
		for _, db := range []struct {
			path  string
			parse func(io.Reader) (map[string]bool, error)
		}{{"/var/lib/dpkg/status", parseDpkgStatus}, {"/lib/apk/db/installed", parseApkInstalled}} {
			pkgs, err := parseFile(h.root, db.path, maxPackageDBBytes, db.parse)
			if err = note(&bad, err); isMissing(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			found = true
			for p := range pkgs {
				all[p] = true
			}
		}
		if !found {
			return nil, errNoPackageDB
		}
		return all, bad
	})
}

// sshd returns the directives of /etc/ssh/sshd_config with its Include
// lines expanded in place, as sshd reads them (first value wins).
func (h *host) sshd() ([]sshdDirective, error) {
	return fact(h, "sshd", func() ([]sshdDirective, error) {
		files := 0
		return h.sshdFile("/etc/ssh/sshd_config", false, 0, &files)
	})
}

func (h *host) sshdFile(p string, inMatch bool, depth int, files *int) ([]sshdDirective, error) {
	if *files++; *files > maxSshdFiles {
		return nil, fmt.Errorf("more than %d sshd configuration files", maxSshdFiles)
	}
	ds, err := parseFile(h.root, p, maxConfigBytes, parseSshdConfig)
	if err != nil {
		return nil, err
	}
	var out []sshdDirective
	for _, d := range ds {
		d.Match = d.Match || inMatch
		if d.Key != "include" {
			out = append(out, d)
			continue
		}
		if depth >= maxIncludeDepth {
			return nil, fmt.Errorf("%s: includes nested deeper than %d", p, maxIncludeDepth)
		}
		for _, pattern := range strings.Fields(d.Value) {
			if !strings.HasPrefix(pattern, "/") {
				pattern = "/etc/ssh/" + pattern
			}
			pattern = path.Clean(pattern)
			if err := validGlob(pattern); err != nil {
				return nil, fmt.Errorf("%s: include: %w", p, err)
			}
			names, err := expand(h.root, pattern)
			if err != nil {
				return nil, fmt.Errorf("%s: include: %w", p, err)
			}
			for _, name := range names {
				sub, err := h.sshdFile(name, d.Match, depth+1, files)
				if isMissing(err) && !hasMeta(pattern) {
					continue // sshd ignores a missing literal include too
				}
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
		}
	}
	return out, nil
}
