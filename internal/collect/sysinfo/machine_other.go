//go:build !unix

package sysinfo

// unameMachine is unknown off Unix; the module only runs on Linux.
func unameMachine() string { return "" }
