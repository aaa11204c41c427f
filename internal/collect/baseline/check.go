package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Severity values of the OSBaseline schema.
var severities = map[string]bool{"Critical": true, "Important": true, "Warning": true, "Informational": true}

// Limits on a checks file, so that a hostile custom file costs bounded work.
const (
	maxChecks       = 1000
	maxDepth        = 8  // nesting of allOf/anyOf and applies
	maxChildren     = 32 // operands of one allOf/anyOf
	maxPatternBytes = 1024
	maxTextBytes    = 4096 // description, remediation, ids and values
)

// Check is one baseline rule as declared in a checks file.
type Check struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	CceID       string `json:"cceId"`
	Severity    string `json:"severity"`
	Remediation string `json:"remediation"`
	// Applies, when set, is a condition: a check whose condition fails is
	// not applicable on this host (reported as Pass, NotApplicable saying why).
	Applies *Spec `json:"applies,omitempty"`
	Check   Spec  `json:"check"`
}

// Spec is a check expressed as data: exactly one field is set.
type Spec struct {
	FileExists              *PathSpec    `json:"fileExists,omitempty"`
	FileAbsent              *PathSpec    `json:"fileAbsent,omitempty"`
	FileMode                *ModeSpec    `json:"fileMode,omitempty"`
	FileContentMatches      *ContentSpec `json:"fileContentMatches,omitempty"`
	FileContentNotMatches   *ContentSpec `json:"fileContentNotMatches,omitempty"`
	Sysctl                  *SysctlSpec  `json:"sysctl,omitempty"`
	KernelModuleBlacklisted *ModuleSpec  `json:"kernelModuleBlacklisted,omitempty"`
	KernelModuleNotLoaded   *ModuleSpec  `json:"kernelModuleNotLoaded,omitempty"`
	ServiceState            *ServiceSpec `json:"serviceState,omitempty"`
	MountOption             *MountSpec   `json:"mountOption,omitempty"`
	PackageInstalled        *PackageSpec `json:"packageInstalled,omitempty"`
	PackageAbsent           *PackageSpec `json:"packageAbsent,omitempty"`
	ShadowPolicy            *ShadowSpec  `json:"shadowPolicy,omitempty"`
	Accounts                *AccountSpec `json:"accounts,omitempty"`
	LoginDefs               *KeySpec     `json:"loginDefs,omitempty"`
	SshdConfig              *KeySpec     `json:"sshdConfig,omitempty"`
	AllOf                   []Spec       `json:"allOf,omitempty"`
	AnyOf                   []Spec       `json:"anyOf,omitempty"`
}

// PathSpec names one host path (absolute, as the host sees it). The last
// element of every file path may be a glob (path.Match syntax).
type PathSpec struct {
	Path string `json:"path"`
}

// ModeSpec bounds a file's permission bits and fixes its owner. MaxMode is
// octal ("0644"): no bit outside it may be set. UID and GID are exact.
type ModeSpec struct {
	Path    string  `json:"path"`
	MaxMode string  `json:"maxMode,omitempty"`
	UID     *uint32 `json:"uid,omitempty"`
	GID     *uint32 `json:"gid,omitempty"`
	// MissingOK makes an absent file pass (the rule is about the file if present).
	MissingOK bool `json:"missingOk,omitempty"`
}

// ContentSpec is a RE2 pattern matched against each line of a file.
// Exclude, when set, exempts lines it matches (RE2 has no lookahead).
type ContentSpec struct {
	Path      string `json:"path"`
	Pattern   string `json:"pattern"`
	Exclude   string `json:"exclude,omitempty"`
	MissingOK bool   `json:"missingOk,omitempty"`

	re, exclude *regexp.Regexp
}

// SysctlSpec compares a value under /proc/sys (key in dotted form). With
// Persistent, the value the sysctl.d files set at boot must compare too,
// so a setting made by hand does not count as hardening.
type SysctlSpec struct {
	Key        string `json:"key"`
	Persistent bool   `json:"persistent,omitempty"`
	Compare
}

// ModuleSpec names a kernel module; '-' and '_' are equivalent as in
// modprobe. kernelModuleBlacklisted passes when modprobe.d makes loading
// it a no-op ("install name /bin/true"): a blacklist line alone only
// stops loading by alias, not "modprobe name", so it fails with a reason.
type ModuleSpec struct {
	Name string `json:"name"`
}

// ServiceSpec is the wanted state of a systemd unit: "enabled",
// "disabled" (not enabled, masked or not installed counts) or "masked".
type ServiceSpec struct {
	Unit  string `json:"unit"`
	State string `json:"state"`
}

// MountSpec selects mounts by exactly one of MountPoint, FSTypes or
// Removable (mounts of a removable block device). With MountPoint and no
// Options, the mount point must be a separate mount; with Options, the
// selected mounts must carry each option (no selected mount passes,
// except for a MountPoint, which must then be mounted).
type MountSpec struct {
	MountPoint string   `json:"mountPoint,omitempty"`
	FSTypes    []string `json:"fsTypes,omitempty"`
	Removable  bool     `json:"removable,omitempty"`
	Options    []string `json:"options,omitempty"`
}

// PackageSpec names a package of the dpkg or apk database; the name may
// be a glob ("xserver-xorg*").
type PackageSpec struct {
	Name string `json:"name"`
}

// ShadowSpec is a rule over /etc/shadow: "noEmptyPasswords", or a bound
// on a field of every account with a usable password: "maxDays" (≤),
// "minDays" (≥), "warnDays" (≥), "inactiveDays" (≤).
type ShadowSpec struct {
	Rule  string `json:"rule"`
	Value int    `json:"value,omitempty"`
}

// AccountSpec is a rule over /etc/passwd and /etc/group: "uid0OnlyRoot",
// "uniqueUids", "uniqueUserNames", "uniqueGids", "uniqueGroupNames" or
// "primaryGroupsExist".
type AccountSpec struct {
	Rule string `json:"rule"`
}

// KeySpec compares one key of login.defs or one sshd_config keyword.
// Default is the value in force when the key is absent ("" = absent fails).
type KeySpec struct {
	Key     string `json:"key"`
	Default string `json:"default,omitempty"`
	Compare
}

// Compare is a comparison of an observed value: op is one of eq, ne, in,
// notIn (case-insensitive strings) or le, ge (integers).
type Compare struct {
	Op     string   `json:"op"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// file is the shape of a checks file.
type file struct {
	Checks []Check `json:"checks"`
}

var errInvalid = errors.New("invalid checks file")

// parseChecks decodes and validates a checks file strictly: unknown
// fields, unknown kinds, bad patterns and duplicate ids are errors, so a
// typo cannot silently turn a check into one that always passes.
func parseChecks(b []byte) ([]Check, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the top-level object", errInvalid)
	}
	if len(f.Checks) > maxChecks {
		return nil, fmt.Errorf("%w: %d checks, at most %d", errInvalid, len(f.Checks), maxChecks)
	}
	seen := make(map[string]bool, len(f.Checks))
	for i := range f.Checks {
		c := &f.Checks[i]
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("%w: check %d (%q): %w", errInvalid, i, c.ID, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("%w: duplicate id %q", errInvalid, c.ID)
		}
		seen[c.ID] = true
	}
	return f.Checks, nil
}

func (c *Check) validate() error {
	switch {
	case c.ID == "" || !validID(c.ID):
		return errors.New("id must be 1-64 of [A-Za-z0-9._-]")
	case c.Description == "":
		return errors.New("empty description")
	case !severities[c.Severity]:
		return fmt.Errorf("severity %q: want Critical, Important, Warning or Informational", c.Severity)
	case len(c.Description) > maxTextBytes || len(c.Remediation) > maxTextBytes || len(c.CceID) > 64:
		return errors.New("text too long")
	}
	if c.Applies != nil {
		if err := c.Applies.validate(1); err != nil {
			return fmt.Errorf("applies: %w", err)
		}
	}
	return c.Check.validate(0)
}

func validID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
