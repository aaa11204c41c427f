package baseline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what the parsers read: a line longer than maxLineBytes is
// skipped (the reader resynchronises at the next newline), and a file of
// more than maxLines lines is an error rather than unbounded work.
const (
	maxLineBytes = 64 << 10
	maxLines     = 1_000_000
)

var errTooManyLines = fmt.Errorf("more than %d lines", maxLines)

// errMalformed marks a parse that skipped lines it could not read. The
// parser still returns everything else it read: a check can then fail
// on what is known, but must not pass while lines went unread.
var errMalformed = errors.New("malformed lines skipped")

// badLines records the lines a parser skipped, naming the first few.
type badLines struct {
	line  int // the line being parsed, set by eachLine
	first []string
	n     int
}

const maxBadListed = 5

// add records the current line as skipped for reason.
func (b *badLines) add(reason string) {
	if b == nil {
		return
	}
	b.n++
	if len(b.first) < maxBadListed {
		b.first = append(b.first, fmt.Sprintf("line %d: %s", b.line, reason))
	}
}

// err returns readErr if set, else an errMalformed naming the skipped
// lines, or nil.
func (b *badLines) err(readErr error) error {
	if readErr != nil || b.n == 0 {
		return readErr
	}
	msg := strings.Join(b.first, "; ")
	if b.n > len(b.first) {
		msg += fmt.Sprintf("; and %d more", b.n-len(b.first))
	}
	return fmt.Errorf("%w: %s", errMalformed, msg)
}

// eachLine calls fn with every line of r, without its line ending, until
// fn returns false. Over-long lines are skipped and recorded in bad (which
// may be nil). The buffer starts small and grows only for long lines: most
// host files are a few KiB, and a snapshot reads dozens of them.
func eachLine(r io.Reader, bad *badLines, fn func(line string) bool) error {
	br := bufio.NewReaderSize(r, 4096)
	var long []byte
	for n := 1; ; n++ {
		if bad != nil {
			bad.line = n
		}
		b, err := br.ReadSlice('\n')
		tooLong := false
		for errors.Is(err, bufio.ErrBufferFull) {
			if !tooLong {
				long = append(long[:0], b...)
			}
			b, err = br.ReadSlice('\n')
			if tooLong = tooLong || len(long)+len(b) > maxLineBytes; !tooLong {
				long = append(long, b...)
				b = long
			}
		}
		if tooLong {
			b = nil
			bad.add(fmt.Sprintf("longer than %d bytes", maxLineBytes))
		}
		if len(b) > 0 {
			if n > maxLines {
				return errTooManyLines
			}
			if !fn(strings.TrimRight(string(b), "\r\n")) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// fields splits a config line into its words, dropping a # comment that
// starts a word, as login.defs, modprobe.d and sshd_config do.
func fields(line string) []string {
	f := strings.Fields(line)
	for i, w := range f {
		if strings.HasPrefix(w, "#") {
			return f[:i]
		}
	}
	return f
}
