//go:build !linux

package audit

// InstallRules fails off Linux.
func (*Control) InstallRules([][]byte) (func() error, error) { return nil, errUnsupported }

// KernelMachine fails off Linux.
func KernelMachine() (string, error) { return "", errUnsupported }
