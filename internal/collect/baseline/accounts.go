package baseline

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// account is one line of /etc/passwd or /etc/group: a name and its
// numeric id (uid or gid), and for passwd the primary gid. Ids are -1
// when the field is not a number.
type account struct {
	Name    string
	ID, GID int64
}

// parseAccounts parses /etc/passwd (want 7 fields) or /etc/group (want
// 4). Comments, blank lines and NIS compat entries (+ and -) are skipped;
// lines with the wrong number of fields are skipped and reported (see
// errMalformed). An entry whose id is not a number is kept with id -1
// and reported.
func parseAccounts(r io.Reader, nfields int) ([]account, error) {
	var out []account
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			return true
		}
		f := strings.Split(line, ":")
		if len(f) != nfields || f[0] == "" {
			bad.add(fmt.Sprintf("want %d fields with a name, got %d", nfields, len(f)))
			return true
		}
		a := account{Name: f[0], ID: id(f[2]), GID: -1}
		if nfields == 7 {
			a.GID = id(f[3])
		}
		if a.ID < 0 || nfields == 7 && a.GID < 0 {
			bad.add("id is not a number")
		}
		out = append(out, a)
		return true
	})
	return out, bad.err(err)
}

func parsePasswd(r io.Reader) ([]account, error) { return parseAccounts(r, 7) }
func parseGroup(r io.Reader) ([]account, error)  { return parseAccounts(r, 4) }

func id(s string) int64 {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return -1
	}
	return int64(v)
}

// accountRule applies an AccountSpec rule; it returns "" when the rule
// holds, else why not.
func accountRule(rule string, users, groups []account) string {
	switch rule {
	case "uid0OnlyRoot":
		var bad []string
		for _, u := range users {
			if u.ID == 0 && u.Name != "root" {
				bad = append(bad, u.Name)
			}
		}
		if len(bad) > 0 {
			return "accounts other than root have uid 0: " + list(bad)
		}
	case "uniqueUids":
		return duplicates("uid", users, func(a account) string { return strconv.FormatInt(a.ID, 10) })
	case "uniqueUserNames":
		return duplicates("user name", users, func(a account) string { return a.Name })
	case "uniqueGids":
		return duplicates("gid", groups, func(a account) string { return strconv.FormatInt(a.ID, 10) })
	case "uniqueGroupNames":
		return duplicates("group name", groups, func(a account) string { return a.Name })
	case "primaryGroupsExist":
		known := make(map[int64]bool, len(groups))
		for _, g := range groups {
			known[g.ID] = true
		}
		var bad []string
		for _, u := range users {
			if u.GID >= 0 && !known[u.GID] {
				bad = append(bad, fmt.Sprintf("%s (gid %d)", u.Name, u.GID))
			}
		}
		if len(bad) > 0 {
			return "primary groups missing from /etc/group: " + list(bad)
		}
	}
	return ""
}

// duplicates reports the keys (ids of -1 excluded) held by more than one entry.
func duplicates(what string, as []account, key func(account) string) string {
	seen := map[string]int{}
	for _, a := range as {
		if k := key(a); k != "-1" {
			seen[k]++
		}
	}
	var dup []string
	for k, n := range seen {
		if n > 1 {
			dup = append(dup, k)
		}
	}
	if len(dup) == 0 {
		return ""
	}
	sort.Strings(dup)
	return "duplicate " + what + "s: " + list(dup)
}

// list joins names for a reason, at most maxListed of them, so a reason
// stays short whatever the host holds.
func list(names []string) string {
	const maxListed = 5
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
}
