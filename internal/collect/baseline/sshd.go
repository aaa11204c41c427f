package baseline

import (
	"io"
	"strings"
)

// sshdDirective is one line of sshd_config. Key is lower-cased (keywords
// are case-insensitive); Match marks lines inside a Match block, which
// apply only to some connections and so never decide the global value.
type sshdDirective struct {
	Key   string
	Value string
	Match bool
}

// parseSshdConfig parses one sshd_config file. "Keyword value" and
// "Keyword=value" are both accepted; a word starting with # ends the line.
// Include lines are returned as directives for the caller to expand.
func parseSshdConfig(r io.Reader) ([]sshdDirective, error) {
	var out []sshdDirective
	inMatch := false
	err := eachLine(r, nil, func(line string) bool {
		key, value := splitSshd(line)
		if key == "" {
			return true
		}
		if key == "match" {
			// "Match all" ends a conditional block as far as the global
			// configuration is concerned.
			inMatch = !strings.EqualFold(value, "all")
			return true
		}
		out = append(out, sshdDirective{Key: key, Value: value, Match: inMatch})
		return true
	})
	return out, err
}

// splitSshd cuts a line into a lower-case keyword and its arguments.
func splitSshd(line string) (string, string) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", ""
	}
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), ""
	}
	key := strings.ToLower(line[:i])
	rest := strings.TrimLeft(line[i:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = rest[1:]
	}
	args := fields(rest)
	for j, a := range args {
		args[j] = strings.Trim(a, `"`)
	}
	return key, strings.Join(args, " ")
}

// sshdValue returns the value sshd uses for key: the first global
// occurrence wins, as in servconf.c.
func sshdValue(ds []sshdDirective, key string) (string, bool) {
	key = strings.ToLower(key)
	for _, d := range ds {
		if d.Key == key && !d.Match {
			return d.Value, true
		}
	}
	return "", false
}
