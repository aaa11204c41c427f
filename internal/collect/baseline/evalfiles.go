package baseline

import "fmt"

// fileExists passes when the path (or, for a pattern, some match)
// exists and want is true, or when nothing exists and want is false.
func (h *host) fileExists(p string, want bool) outcome {
	paths, err := expand(h.root, p)
	if err != nil {
		return erred(err)
	}
	var found string
	for _, q := range paths {
		_, err := statInRoot(h.root, q)
		if err == nil {
			found = q
			break
		}
		if !isMissing(err) {
			return erred(err)
		}
	}
	switch {
	case want && found == "":
		return failed("%s", missing(p))
	case !want && found != "":
		return failed("%s exists", found)
	}
	return passed()
}

// fileMode checks permission bits and owner of the path, or of every
// regular file a pattern matches.
func (h *host) fileMode(m *ModeSpec) outcome {
	paths, err := expand(h.root, m.Path)
	if err != nil {
		return erred(err)
	}
	glob := hasMeta(m.Path)
	maxMode, _ := parseMode(m.MaxMode) // validated
	seen := 0
	for _, q := range paths {
		st, err := statInRoot(h.root, q)
		if isMissing(err) {
			continue
		}
		if err != nil {
			return erred(err)
		}
		if glob && !st.regular() {
			continue
		}
		seen++
		if m.MaxMode != "" && st.perm()&^maxMode != 0 {
			return failed("%s has mode %04o, want at most %04o", q, st.perm(), maxMode)
		}
		if (m.UID != nil || m.GID != nil) && !st.HasOwner {
			return erred(fmt.Errorf("%s: owner not available on this platform", q))
		}
		if m.UID != nil && st.UID != *m.UID {
			return failed("%s is owned by uid %d, want %d", q, st.UID, *m.UID)
		}
		if m.GID != nil && st.GID != *m.GID {
			return failed("%s has group gid %d, want %d", q, st.GID, *m.GID)
		}
	}
	if seen == 0 && !m.MissingOK {
		return failed("%s", missing(m.Path))
	}
	return passed()
}

// content looks for a line matching the pattern (and not the exclusion).
// With want, some line of some file must match; without, none may.
func (h *host) content(c *ContentSpec, want bool) outcome {
	paths, err := expand(h.root, c.Path)
	if err != nil {
		return erred(err)
	}
	seen := 0
	for _, q := range paths {
		line, n := 0, 0
		err := readLines(h.root, q, func(s string) bool {
			n++
			if c.re.MatchString(s) && (c.exclude == nil || !c.exclude.MatchString(s)) {
				line = n
				return false
			}
			return true
		})
		if isMissing(err) {
			continue
		}
		if err != nil {
			return erred(err)
		}
		seen++
		switch {
		case line > 0 && want:
			return passed()
		case line > 0:
			// The line number, not the line: it may hold a secret.
			return failed("%s line %d matches %q", q, line, c.Pattern)
		}
	}
	switch {
	case seen == 0 && !c.MissingOK:
		return failed("%s", missing(c.Path))
	case seen > 0 && want:
		return failed("no line of %s matches %q", c.Path, c.Pattern)
	}
	return passed()
}

// sysctl compares the running value and, if asked, the boot-time one.
func (h *host) sysctl(s *SysctlSpec) outcome {
	v, err := readSysctl(h.root, s.Key)
	if isMissing(err) {
		return erred(fmt.Errorf("sysctl %s does not exist on this kernel", s.Key))
	}
	if err != nil {
		return erred(err)
	}
	if o := s.judge(s.Key, v); o.v != pass {
		return o
	}
	if !s.Persistent {
		return passed()
	}
	conf, err := h.sysctlConf()
	if hardErr(err) {
		return erred(err)
	}
	cv, ok := conf[s.Key]
	if !ok {
		return qualify(failed("%s is not set in /etc/sysctl.conf or a sysctl.d file, so a reboot loses it", s.Key), err)
	}
	return qualify(s.judge(s.Key+" in the sysctl configuration", cv), err)
}

// missing says that nothing exists at p, or that nothing matches it.
func missing(p string) string {
	if hasMeta(p) {
		return "no file matches " + p
	}
	return p + " does not exist"
}
