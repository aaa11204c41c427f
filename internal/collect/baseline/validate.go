package baseline

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// validate checks that exactly one kind is set and that its arguments are
// well formed, and compiles its patterns.
func (s *Spec) validate(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	var kinds []string
	var err error
	set := func(name string, ok bool, check func() error) {
		if ok {
			kinds = append(kinds, name)
			if e := check(); e != nil && err == nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	}
	set("fileExists", s.FileExists != nil, func() error { return validGlob(pathOf(s.FileExists)) })
	set("fileAbsent", s.FileAbsent != nil, func() error { return validGlob(pathOf(s.FileAbsent)) })
	set("fileMode", s.FileMode != nil, func() error { return s.FileMode.validate() })
	set("fileContentMatches", s.FileContentMatches != nil, func() error { return s.FileContentMatches.compile() })
	set("fileContentNotMatches", s.FileContentNotMatches != nil, func() error { return s.FileContentNotMatches.compile() })
	set("sysctl", s.Sysctl != nil, func() error { return s.Sysctl.validate() })
	set("kernelModuleBlacklisted", s.KernelModuleBlacklisted != nil, func() error { return validName(s.KernelModuleBlacklisted.Name) })
	set("kernelModuleNotLoaded", s.KernelModuleNotLoaded != nil, func() error { return validName(s.KernelModuleNotLoaded.Name) })
	set("serviceState", s.ServiceState != nil, func() error { return s.ServiceState.validate() })
	set("mountOption", s.MountOption != nil, func() error { return s.MountOption.validate() })
	set("packageInstalled", s.PackageInstalled != nil, func() error { return validPackage(s.PackageInstalled.Name) })
	set("packageAbsent", s.PackageAbsent != nil, func() error { return validPackage(s.PackageAbsent.Name) })
	set("shadowPolicy", s.ShadowPolicy != nil, func() error { return s.ShadowPolicy.validate() })
	set("accounts", s.Accounts != nil, func() error { return s.Accounts.validate() })
	set("loginDefs", s.LoginDefs != nil, func() error { return s.LoginDefs.validate() })
	set("sshdConfig", s.SshdConfig != nil, func() error { return s.SshdConfig.validate() })
	set("allOf", s.AllOf != nil, func() error { return validateAll(s.AllOf, depth) })
	set("anyOf", s.AnyOf != nil, func() error { return validateAll(s.AnyOf, depth) })
	switch {
	case len(kinds) == 0:
		return errors.New("no check kind set")
	case len(kinds) > 1:
		return fmt.Errorf("several check kinds set: %s", strings.Join(kinds, ", "))
	}
	return err
}

func validateAll(specs []Spec, depth int) error {
	if len(specs) == 0 || len(specs) > maxChildren {
		return fmt.Errorf("want 1 to %d operands, got %d", maxChildren, len(specs))
	}
	for i := range specs {
		if err := specs[i].validate(depth + 1); err != nil {
			return fmt.Errorf("operand %d: %w", i, err)
		}
	}
	return nil
}

func pathOf(p *PathSpec) string { return p.Path }

// validPath accepts clean absolute host paths: the root joins them, and a
// clean path keeps reasons and ExtraDetails readable.
func validPath(p string) error {
	if p == "" || p[0] != '/' || path.Clean(p) != p || len(p) > 4096 || strings.ContainsRune(p, 0) {
		return fmt.Errorf("path %q: want a clean absolute path", p)
	}
	return nil
}

// validGlob accepts a clean absolute path whose elements may be
// path.Match patterns, at most maxPatternElems of them: each costs one
// bounded directory listing per candidate.
func validGlob(p string) error {
	if err := validPath(p); err != nil {
		return err
	}
	n := 0
	for _, el := range strings.Split(p[1:], "/") {
		if !hasMeta(el) {
			continue
		}
		if n++; n > maxPatternElems {
			return fmt.Errorf("path %q: at most %d elements may be patterns", p, maxPatternElems)
		}
		if _, err := path.Match(el, ""); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

const maxPatternElems = 2

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// validName accepts package, module and unit names: no separators, no blanks.
func validName(n string) error {
	if n == "" || len(n) > 256 || strings.ContainsAny(n, "/ \t\n\x00") {
		return fmt.Errorf("name %q: want a non-empty name without slashes or blanks", n)
	}
	return nil
}

func validPackage(n string) error {
	if err := validName(n); err != nil {
		return err
	}
	if _, err := path.Match(n, ""); err != nil {
		return fmt.Errorf("name %q: %w", n, err)
	}
	return nil
}

func (m *ModeSpec) validate() error {
	if err := validGlob(m.Path); err != nil {
		return err
	}
	if m.MaxMode == "" && m.UID == nil && m.GID == nil {
		return errors.New("want maxMode, uid or gid")
	}
	if m.MaxMode != "" {
		if _, err := parseMode(m.MaxMode); err != nil {
			return err
		}
	}
	return nil
}

func parseMode(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("mode %q: want octal up to 7777", s)
	}
	return uint32(v), nil
}

func (c *ContentSpec) compile() error {
	if err := validGlob(c.Path); err != nil {
		return err
	}
	var err error
	if c.re, err = compilePattern(c.Pattern); err != nil {
		return err
	}
	if c.Exclude != "" {
		if c.exclude, err = compilePattern(c.Exclude); err != nil {
			return err
		}
	}
	return nil
}

func compilePattern(p string) (*regexp.Regexp, error) {
	if p == "" || len(p) > maxPatternBytes {
		return nil, fmt.Errorf("pattern: want 1 to %d bytes", maxPatternBytes)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	return re, nil
}

func (s *SysctlSpec) validate() error {
	if s.Key == "" || strings.ContainsAny(s.Key, "/ ") || strings.Contains(s.Key, "..") ||
		s.Key[0] == '.' || s.Key[len(s.Key)-1] == '.' {
		return fmt.Errorf("key %q: want a dotted sysctl name", s.Key)
	}
	return s.Compare.validate()
}

func (s *ServiceSpec) validate() error {
	if err := validName(s.Unit); err != nil {
		return err
	}
	if !strings.Contains(s.Unit, ".") {
		return fmt.Errorf("unit %q: want a suffix such as .service", s.Unit)
	}
	switch s.State {
	case "enabled", "disabled", "masked":
		return nil
	}
	return fmt.Errorf("state %q: want enabled, disabled or masked", s.State)
}

func (m *MountSpec) validate() error {
	n := 0
	for _, set := range []bool{m.MountPoint != "", len(m.FSTypes) > 0, m.Removable} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("want exactly one of mountPoint, fsTypes and removable")
	}
	if m.MountPoint != "" {
		if err := validPath(m.MountPoint); err != nil {
			return err
		}
	} else if len(m.Options) == 0 {
		return errors.New("fsTypes and removable need options")
	}
	if len(m.Options)+len(m.FSTypes) > maxChildren {
		return errors.New("too many options or types")
	}
	for _, o := range append(append([]string(nil), m.Options...), m.FSTypes...) {
		if err := validName(o); err != nil || strings.Contains(o, ",") {
			return fmt.Errorf("option or type %q: want a single word", o)
		}
	}
	return nil
}

func (s *ShadowSpec) validate() error {
	switch s.Rule {
	case "noEmptyPasswords":
		return nil
	case "maxDays", "minDays", "warnDays", "inactiveDays":
		if s.Value < 0 || s.Value > 1<<20 {
			return fmt.Errorf("value %d out of range", s.Value)
		}
		return nil
	}
	return fmt.Errorf("rule %q: want noEmptyPasswords, maxDays, minDays, warnDays or inactiveDays", s.Rule)
}

func (a *AccountSpec) validate() error {
	switch a.Rule {
	case "uid0OnlyRoot", "uniqueUids", "uniqueUserNames", "uniqueGids", "uniqueGroupNames", "primaryGroupsExist":
		return nil
	}
	return fmt.Errorf("rule %q: want uid0OnlyRoot, uniqueUids, uniqueUserNames, uniqueGids, uniqueGroupNames or primaryGroupsExist", a.Rule)
}

func (k *KeySpec) validate() error {
	if k.Key == "" || len(k.Key) > 128 || strings.ContainsAny(k.Key, " \t\n=") {
		return fmt.Errorf("key %q: want one word", k.Key)
	}
	return k.Compare.validate()
}

func (c *Compare) validate() error {
	switch c.Op {
	case "eq", "ne":
		if len(c.Values) > 0 {
			return fmt.Errorf("op %s takes value, not values", c.Op)
		}
	case "in", "notIn":
		if len(c.Values) == 0 || c.Value != "" {
			return fmt.Errorf("op %s takes values", c.Op)
		}
	case "le", "ge":
		if _, err := strconv.ParseInt(c.Value, 10, 64); err != nil || len(c.Values) > 0 {
			return fmt.Errorf("op %s takes an integer value", c.Op)
		}
	default:
		return fmt.Errorf("op %q: want eq, ne, in, notIn, le or ge", c.Op)
	}
	if len(c.Value) > maxTextBytes || len(c.Values) > maxChildren {
		return errors.New("comparison too large")
	}
	return nil
}
