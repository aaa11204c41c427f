//go:build !unix

package spool

import "os"

// unlock has nothing to do where bbolt does not use flock.
func unlock(*os.File) {}
