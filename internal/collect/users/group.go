package users

import (
	"io"
	"strings"
)

// groupEntry is one group of /etc/group.
type groupEntry struct {
	Name    string
	GID     uint32
	Members []string
}

// parseGroup parses group(5) like parsePasswd parses passwd(5). Empty
// member names (a trailing or doubled comma) are dropped.
func parseGroup(r io.Reader) ([]groupEntry, []error) {
	var groups []groupEntry
	errs := eachLine(r, func(line string) error {
		if err := checkLine(line); err != nil {
			return err
		}
		var f [4]string // name:password:gid:members
		if !split(line, ':', f[:]) {
			return errFieldCount
		}
		if f[0] == "" {
			return errEmptyName
		}
		gid, err := parseID("gid", f[2])
		if err != nil {
			return err
		}
		var members []string
		for m := range strings.SplitSeq(f[3], ",") {
			if m != "" {
				members = append(members, m)
			}
		}
		groups = append(groups, groupEntry{Name: f[0], GID: gid, Members: members})
		return nil
	})
	return groups, errs
}

// membership resolves each user's groups the way the reference agents and
// initgroups(3) do: the primary gid first, then every group whose member
// list names the user, in file order, each gid once.
type membership struct {
	// names maps a gid to its first group name, as getgrgid(3) returns.
	names map[uint32]string
	// supplementary maps a user name to the groups listing it.
	supplementary map[string][]groupEntry
}

func newMembership(groups []groupEntry) membership {
	m := membership{names: map[uint32]string{}, supplementary: map[string][]groupEntry{}}
	for _, g := range groups {
		if _, ok := m.names[g.GID]; !ok {
			m.names[g.GID] = g.Name
		}
		for _, u := range g.Members {
			m.supplementary[u] = append(m.supplementary[u], g)
		}
	}
	return m
}

// groups returns the ;-joined ids and names of u's groups, position for
// position. A gid with no group line (the C# agent threw on this) keeps
// its id and uses the id as its name too, as ls(1) and ps(1) print an
// unknown group: the lists stay aligned and no field is empty. A
// supplementary group is named by the line that lists the user, which
// matters only when several lines share one gid.
func (m membership) groups(u passwdEntry) (ids, names string) {
	var idb, nameb strings.Builder
	seen := map[uint32]bool{}
	add := func(gid uint32, name string) {
		if seen[gid] {
			return
		}
		seen[gid] = true
		if idb.Len() > 0 {
			idb.WriteByte(';')
			nameb.WriteByte(';')
		}
		id := formatID(gid)
		if name == "" {
			name = id
		}
		idb.WriteString(id)
		nameb.WriteString(name)
	}
	add(u.GID, m.names[u.GID])
	for _, g := range m.supplementary[u.Name] {
		add(g.GID, g.Name)
	}
	return idb.String(), nameb.String()
}
