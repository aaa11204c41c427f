package baseline

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// verdict is the result of one check or operand.
type verdict uint8

const (
	pass verdict = iota
	fail
	errored
)

// outcome is a verdict and, unless it passed, why.
type outcome struct {
	v      verdict
	reason string
}

func passed() outcome                        { return outcome{v: pass} }
func failed(format string, a ...any) outcome { return outcome{fail, fmt.Sprintf(format, a...)} }
func erred(err error) outcome                { return outcome{errored, err.Error()} }

// failedUnless fails with reason, or passes when there is none.
func failedUnless(reason string) outcome {
	if reason == "" {
		return passed()
	}
	return outcome{fail, reason}
}

// isMissing: a path that does not exist, or runs through a non-directory.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// hardErr: an error that leaves nothing to judge (errMalformed leaves
// the lines that could be read).
func hardErr(err error) bool { return err != nil && !errors.Is(err, errMalformed) }

// qualify turns a pass into an error when lines were skipped: what was
// read holds, but the skipped lines might not. A failure stands.
func qualify(o outcome, err error) outcome {
	if o.v == pass && err != nil {
		return erred(fmt.Errorf("what could be read passes, but %w", err))
	}
	return o
}

// judge compares an observed value and says why it fails.
func (c *Compare) judge(what, observed string) outcome {
	if c.test(observed) {
		return passed()
	}
	return failed("%s is %q, want %s", what, observed, c.want())
}

// eval runs one spec against the host.
func (s *Spec) eval(h *host) outcome {
	switch {
	case s.FileExists != nil:
		return h.fileExists(s.FileExists.Path, true)
	case s.FileAbsent != nil:
		return h.fileExists(s.FileAbsent.Path, false)
	case s.FileMode != nil:
		return h.fileMode(s.FileMode)
	case s.FileContentMatches != nil:
		return h.content(s.FileContentMatches, true)
	case s.FileContentNotMatches != nil:
		return h.content(s.FileContentNotMatches, false)
	case s.Sysctl != nil:
		return h.sysctl(s.Sysctl)
	case s.KernelModuleBlacklisted != nil:
		return h.moduleDisabled(s.KernelModuleBlacklisted.Name)
	case s.KernelModuleNotLoaded != nil:
		return h.moduleNotLoaded(s.KernelModuleNotLoaded.Name)
	case s.ServiceState != nil:
		return h.service(s.ServiceState)
	case s.MountOption != nil:
		return h.mountOption(s.MountOption)
	case s.PackageInstalled != nil:
		return h.pkg(s.PackageInstalled.Name, true)
	case s.PackageAbsent != nil:
		return h.pkg(s.PackageAbsent.Name, false)
	case s.ShadowPolicy != nil:
		return h.shadowPolicy(s.ShadowPolicy)
	case s.Accounts != nil:
		return h.accounts(s.Accounts.Rule)
	case s.LoginDefs != nil:
		return h.loginDefsKey(s.LoginDefs)
	case s.SshdConfig != nil:
		return h.sshdKey(s.SshdConfig)
	case s.AllOf != nil:
		return h.allOf(s.AllOf)
	case s.AnyOf != nil:
		return h.anyOf(s.AnyOf)
	}
	return erred(errors.New("no check kind set"))
}

// allOf fails on the first failing operand; an error counts only when no
// operand fails, since one failure already decides the result.
func (h *host) allOf(specs []Spec) outcome {
	var firstErr *outcome
	for i := range specs {
		o := specs[i].eval(h)
		switch {
		case o.v == fail:
			return o
		case o.v == errored && firstErr == nil:
			firstErr = &o
		}
	}
	if firstErr != nil {
		return *firstErr
	}
	return passed()
}

// anyOf passes on the first passing operand; it fails when every
// operand fails, and errs when none passes and one erred.
func (h *host) anyOf(specs []Spec) outcome {
	var reasons []string
	var firstErr *outcome
	for i := range specs {
		o := specs[i].eval(h)
		switch o.v {
		case pass:
			return o
		case errored:
			if firstErr == nil {
				firstErr = &o
			}
		default:
			reasons = append(reasons, o.reason)
		}
	}
	if firstErr != nil {
		return *firstErr
	}
	if len(reasons) > 5 {
		reasons = append(reasons[:5], fmt.Sprintf("and %d more", len(reasons)-5))
	}
	return failed("none holds: %s", strings.Join(reasons, "; "))
}

func (c *Compare) want() string {
	switch c.Op {
	case "eq":
		return strconv.Quote(c.Value)
	case "ne":
		return "anything but " + strconv.Quote(c.Value)
	case "in":
		return "one of " + strings.Join(c.Values, ", ")
	case "notIn":
		return "none of " + strings.Join(c.Values, ", ")
	case "le":
		return "at most " + c.Value
	case "ge":
		return "at least " + c.Value
	}
	return c.Op
}

// test compares an observed value: strings case-insensitively, le and ge
// as integers (a value that is not one fails).
func (c *Compare) test(observed string) bool {
	switch c.Op {
	case "eq":
		return strings.EqualFold(observed, c.Value)
	case "ne":
		return !strings.EqualFold(observed, c.Value)
	case "in", "notIn":
		in := false
		for _, v := range c.Values {
			in = in || strings.EqualFold(observed, v)
		}
		return in == (c.Op == "in")
	case "le", "ge":
		got, err := strconv.ParseInt(strings.TrimSpace(observed), 10, 64)
		want, err2 := strconv.ParseInt(c.Value, 10, 64)
		if err != nil || err2 != nil {
			return false
		}
		if c.Op == "le" {
			return got <= want
		}
		return got >= want
	}
	return false
}
