package users

import "io"

// passwdEntry is one account of /etc/passwd. The password field is never
// kept: on old systems it can still hold a hash.
type passwdEntry struct {
	Name  string
	UID   uint32
	GID   uint32
	Home  string
	Shell string
}

// parsePasswd parses passwd(5). Malformed lines are skipped and returned
// as *LineError; the valid accounts are returned in file order, duplicates
// included (a second uid 0 account is exactly what should be reported).
func parsePasswd(r io.Reader) ([]passwdEntry, []error) {
	var users []passwdEntry
	errs := eachLine(r, func(line string) error {
		if err := checkLine(line); err != nil {
			return err
		}
		var f [7]string // name:password:uid:gid:gecos:home:shell
		if !split(line, ':', f[:]) {
			return errFieldCount
		}
		if f[0] == "" {
			return errEmptyName
		}
		uid, err := parseID("uid", f[2])
		if err != nil {
			return err
		}
		gid, err := parseID("gid", f[3])
		if err != nil {
			return err
		}
		users = append(users, passwdEntry{Name: f[0], UID: uid, GID: gid, Home: f[5], Shell: f[6]})
		return nil
	})
	return users, errs
}
