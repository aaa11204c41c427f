package baseline

import (
	"io"
	"strconv"
	"strings"
)

// passwordState is what the baseline needs of a shadow password field.
// The hash itself is never kept, so it cannot leak into a reason.
type passwordState uint8

const (
	pwEmpty  passwordState = iota // "": login without a password
	pwLocked                      // "!", "*", "!hash", "!!": no password login
	pwSet                         // a usable hash
)

// shadowEntry is one account of /etc/shadow. Numeric fields are -1 when
// empty or malformed (the field is then not in force).
type shadowEntry struct {
	Name                             string
	Password                         passwordState
	MinDays, MaxDays, Warn, Inactive int
}

// parseShadow parses /etc/shadow. NIS compat entries and comments are
// skipped; lines without a name or with too many fields are skipped and
// reported (errMalformed), the other accounts still returned.
func parseShadow(r io.Reader) ([]shadowEntry, error) {
	var out []shadowEntry
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			return true
		}
		f := strings.Split(line, ":")
		if len(f) < 2 || len(f) > 9 || f[0] == "" {
			bad.add("want name:password and up to 7 more fields")
			return true
		}
		// glibc also reads the old two-field format: missing fields
		// are not in force.
		f = append(f, make([]string, 9-len(f))...)
		e := shadowEntry{Name: f[0], MinDays: num(f[3]), MaxDays: num(f[4]), Warn: num(f[5]), Inactive: num(f[6])}
		for _, v := range f[2:8] {
			if v != "" && num(v) < 0 {
				bad.add("a day count is not a number")
				break
			}
		}
		switch pw := f[1]; {
		case pw == "":
			e.Password = pwEmpty
		case pw[0] == '!' || pw[0] == '*':
			e.Password = pwLocked
		default:
			e.Password = pwSet
		}
		out = append(out, e)
		return true
	})
	return out, bad.err(err)
}

func num(s string) int {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return -1
	}
	return int(v)
}

// parseLoginDefs parses /etc/login.defs: "KEY value" lines, # comments.
// Keys are case-sensitive as shadow-utils reads them; a later
// occurrence replaces an earlier one, as in getdef.c.
func parseLoginDefs(r io.Reader) (map[string]string, error) {
	defs := map[string]string{}
	err := eachLine(r, nil, func(line string) bool {
		f := fields(line)
		if len(f) == 0 {
			return true
		}
		defs[f[0]] = strings.Join(f[1:], " ")
		return true
	})
	return defs, err
}
