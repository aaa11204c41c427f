package baseline

import (
	"errors"
	"fmt"
	"path"
	"sort"
)

// service compares a unit's state; a unit wanted disabled also fails
// when a unit its [Install] Also= names is enabled (a socket that starts
// it on demand).
func (h *host) service(s *ServiceSpec) outcome {
	ix, err := h.units()
	if err != nil {
		return erred(err)
	}
	state, inst, err := ix.state(s.Unit)
	if err != nil {
		return erred(err)
	}
	switch s.State {
	case "disabled":
		if state == "enabled" {
			return failed("%s is enabled", s.Unit)
		}
		for _, also := range inst.Also {
			if st, _, err := ix.state(also); err == nil && st == "enabled" {
				return failed("%s is disabled, but %s, which starts it, is enabled", s.Unit, also)
			}
		}
		return passed()
	case state:
		return passed()
	}
	return failed("%s is %s, want %s", s.Unit, state, s.State)
}

func (h *host) pkg(name string, want bool) outcome {
	pkgs, err := h.packages()
	if hardErr(err) {
		return erred(err)
	}
	var found []string
	for p := range pkgs {
		if ok, _ := path.Match(name, p); ok {
			found = append(found, p)
		}
	}
	sort.Strings(found)
	switch {
	case want && len(found) == 0:
		return failed("package %s is not installed", name)
	case !want && len(found) > 0:
		return failed("installed: %s", list(found))
	case want:
		return passed()
	}
	return qualify(passed(), err)
}

func (h *host) shadowPolicy(s *ShadowSpec) outcome {
	entries, err := h.shadow()
	if hardErr(err) {
		return erred(err)
	}
	var bad []string
	for _, e := range entries {
		if s.Rule == "noEmptyPasswords" {
			if e.Password == pwEmpty {
				bad = append(bad, e.Name)
			}
			continue
		}
		if e.Password != pwSet {
			continue // the rules bound passwords that can be used
		}
		var v int
		var over bool
		switch s.Rule {
		case "maxDays":
			v, over = e.MaxDays, e.MaxDays < 0 || e.MaxDays > s.Value
		case "minDays":
			v, over = e.MinDays, e.MinDays < s.Value
		case "warnDays":
			v, over = e.Warn, e.Warn < s.Value
		case "inactiveDays":
			v, over = e.Inactive, e.Inactive < 0 || e.Inactive > s.Value
		}
		if over {
			bad = append(bad, fmt.Sprintf("%s (%s)", e.Name, unset(v)))
		}
	}
	if len(bad) == 0 {
		return qualify(passed(), err)
	}
	if s.Rule == "noEmptyPasswords" {
		return failed("accounts without a password: %s", list(bad))
	}
	return failed(shadowReasons[s.Rule], s.Value, list(bad))
}

// shadowReasons word a failed bound: the bound, then the accounts.
var shadowReasons = map[string]string{
	"maxDays":      "accounts whose password may be kept longer than %d days: %s",
	"minDays":      "accounts whose password may be changed again within less than %d days: %s",
	"warnDays":     "accounts warned less than %d days before their password expires: %s",
	"inactiveDays": "accounts not locked within %d days after their password expires: %s",
}

func unset(v int) string {
	if v < 0 {
		return "unset"
	}
	return fmt.Sprint(v)
}

func (h *host) accounts(rule string) outcome {
	users, err := h.passwd()
	if hardErr(err) {
		return erred(err)
	}
	var groups []account
	if rule == "uniqueGids" || rule == "uniqueGroupNames" || rule == "primaryGroupsExist" {
		var gerr error
		if groups, gerr = h.group(); hardErr(gerr) {
			return erred(gerr)
		}
		err = errors.Join(err, gerr)
	}
	return qualify(failedUnless(accountRule(rule, users, groups)), err)
}

func (h *host) loginDefsKey(k *KeySpec) outcome {
	defs, err := h.loginDefs()
	if err != nil {
		return erred(err)
	}
	v, ok := defs[k.Key]
	if !ok {
		if k.Default == "" {
			return failed("%s is not set in /etc/login.defs", k.Key)
		}
		v = k.Default
	}
	return k.judge(k.Key, v)
}

func (h *host) sshdKey(k *KeySpec) outcome {
	ds, err := h.sshd()
	if err != nil {
		return erred(err)
	}
	v, ok := sshdValue(ds, k.Key)
	if !ok {
		if k.Default == "" {
			return failed("%s is not set in sshd_config", k.Key)
		}
		v = k.Default
	}
	return k.judge(k.Key, v)
}
