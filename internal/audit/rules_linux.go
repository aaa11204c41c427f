package audit

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// InstallRules installs encoded rules and switches auditing on if it was
// off. The returned undo removes exactly what was added and switches
// auditing off again only if it was off before and no rule is left (a
// rule set by another user, e.g. the process collector, keeps it on).
// Call undo on every exit path.
func (c *Control) InstallRules(rules [][]byte) (undo func() error, err error) {
	st, err := c.Status()
	if err != nil {
		return nil, err
	}
	if st.Enabled == 2 {
		return nil, fmt.Errorf("audit configuration is locked (enabled=2)")
	}
	var added [][]byte
	enabled := false
	undo = func() error {
		var errs []error
		for _, r := range added {
			if err := c.DeleteRule(r); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, err)
			}
		}
		if enabled {
			if left, err := c.Rules(); err == nil && len(left) == 0 {
				errs = append(errs, c.SetEnabled(0))
			}
		}
		return errors.Join(errs...)
	}
	for _, r := range rules {
		err := c.AddRule(r)
		if errors.Is(err, unix.EEXIST) {
			// Left over by a run that died: adopt it so it goes on exit.
			err = nil
		}
		if err != nil {
			return nil, errors.Join(err, undo())
		}
		added = append(added, r)
	}
	if st.Enabled == 0 {
		if err := c.SetEnabled(1); err != nil {
			return nil, errors.Join(err, undo())
		}
		enabled = true
	}
	return undo, nil
}

// KernelMachine is the kernel's machine name (uname -m), which decides
// the audit ABIs, whatever GOARCH the module was built for.
func KernelMachine() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(uts.Machine[:]), nil
}
