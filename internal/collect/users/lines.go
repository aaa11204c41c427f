package users

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds on what a parser reads. A line longer than maxLineBytes is skipped
// (the parser resynchronises at the next newline) rather than ending the
// file, as bufio.Scanner would. maxLines caps the work on a runaway file;
// 100k lines is far beyond any local account database.
const (
	maxLineBytes = 64 << 10
	maxLines     = 100_000
)

// LineError reports one skipped line of /etc/passwd or /etc/group. Line
// counts from 1.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap exposes the reason, one of the err* sentinels below.
func (e *LineError) Unwrap() error { return e.Err }

// Reasons a line is skipped.
var (
	errTooLong    = errors.New("line too long")
	errFieldCount = errors.New("wrong number of fields")
	errEmptyName  = errors.New("empty name")
	errBadID      = errors.New("not a decimal id")
	// NIS compat entries (+user, -user, +@netgroup, +) pull accounts from a
	// directory we cannot see; they are not local users.
	errNIS = errors.New("NIS compat entry")
)

// eachLine calls fn for every line of r without its line ending, and
// collects fn's errors as LineErrors. Blank lines and # comments are
// skipped silently: glibc's files backend accepts them too, so they are
// not malformed and must not cause a warning on every collection.
func eachLine(r io.Reader, fn func(line string) error) []error {
	br := bufio.NewReaderSize(r, maxLineBytes)
	var errs []error
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			errs = append(errs, &LineError{Line: n, Err: errTooLong})
		} else if len(b) > 0 {
			if n > maxLines {
				return append(errs, fmt.Errorf("more than %d lines: rest ignored", maxLines))
			}
			// Leading blanks are dropped as glibc drops them.
			line := strings.TrimLeft(strings.TrimRight(string(b), "\r\n"), " \t")
			if trimmed := strings.TrimSpace(line); trimmed != "" && trimmed[0] != '#' {
				if ferr := fn(line); ferr != nil {
					errs = append(errs, &LineError{Line: n, Err: ferr})
				}
			}
		}
		if err == io.EOF {
			return errs
		}
		if err != nil {
			return append(errs, fmt.Errorf("read line %d: %w", n, err))
		}
	}
}

// split cuts line at sep into exactly len(fields) fields without
// allocating, and reports whether the count matched.
func split(line string, sep byte, fields []string) bool {
	for i := range fields {
		if i == len(fields)-1 {
			fields[i] = line
			return strings.IndexByte(line, sep) < 0
		}
		j := strings.IndexByte(line, sep)
		if j < 0 {
			return false
		}
		fields[i], line = line[:j], line[j+1:]
	}
	return true
}

// checkLine rejects NIS compat lines before they are split: "+" alone
// has a single field and would otherwise be reported as a field count.
func checkLine(line string) error {
	if line[0] == '+' || line[0] == '-' {
		return errNIS
	}
	return nil
}

// parseID parses a uid or gid: decimal, 32 bits as in the kernel's uid_t.
func parseID(what, s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", what, s, errBadID)
	}
	return uint32(v), nil
}
