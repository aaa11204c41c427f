package sysinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineBytes bounds one line of the small text files this package reads;
// a longer line ends the parse with an error, keeping what came before.
const maxLineBytes = 64 << 10

var (
	errNoEquals      = errors.New("no '='")
	errBadKey        = errors.New("invalid variable name")
	errUnterminated  = errors.New("unterminated quote")
	errTrailing      = errors.New("text after closing quote")
	errUnquotedSpace = errors.New("unquoted whitespace")
)

// parseOSRelease parses os-release(5): KEY=VALUE lines in the shell
// subset the format allows. Values may be unquoted (backslash escapes the
// next character), 'single quoted' (literal) or "double quoted" (\" \\
// \$ and \` are escapes; any other backslash is literal, as in sh).
// Comments and blank lines are skipped; a malformed line is skipped and
// reported with its number. A repeated key keeps its last value, as
// sourcing the file would.
func parseOSRelease(r io.Reader) (map[string]string, []error) {
	vars := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: %w", n, errNoEquals))
			continue
		}
		if !validKey(key) {
			errs = append(errs, fmt.Errorf("line %d: %q: %w", n, key, errBadKey))
			continue
		}
		val, err := unquote(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s: %w", n, key, err))
			continue
		}
		vars[key] = val
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read: %w", err))
	}
	return vars, errs
}

// validKey reports whether s is a shell variable name.
func validKey(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		alpha := c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		if !alpha && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// unquote decodes one shell word. Only a single word is accepted: text
// after a closing quote or unquoted whitespace means the line is not
// what os-release(5) allows, and guessing would misreport the OS.
func unquote(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	var b strings.Builder
	switch q := s[0]; q {
	case '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", errUnterminated
		}
		if end+2 != len(s) {
			return "", errTrailing
		}
		return s[1 : end+1], nil
	case '"':
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '"':
				if i != len(s)-1 {
					return "", errTrailing
				}
				return b.String(), nil
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
				i++
				b.WriteByte(s[i])
			default:
				b.WriteByte(c)
			}
		}
		return "", errUnterminated
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			return "", errUnquotedSpace
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
