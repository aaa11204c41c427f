//go:build !linux

package main

import "errors"

// storm needs Linux: the suite compares Linux process-event tools.
func storm(config) (result, error) {
	return result{}, errors.New("exec storms need Linux")
}
