//go:build unix

package spool

import (
	"os"
	"syscall"
)

// unlock drops bbolt's flock on a file whose DB never finished opening.
func unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
