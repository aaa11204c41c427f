package baseline

import (
	"io"
	"strings"
)

// parseDpkgStatus returns the names of the packages /var/lib/dpkg/status
// records as installed. Stanzas are separated by blank lines; only the
// Package and Status fields matter, and continuation lines (leading blank)
// are skipped. A package whose state is config-files, half-installed and
// so on is not installed.
func parseDpkgStatus(r io.Reader) (map[string]bool, error) {
	pkgs := map[string]bool{}
	var name string
	var installed, fields bool
	var bad badLines
	flush := func() {
		if name != "" && installed {
			pkgs[name] = true
		}
		if name == "" && fields {
			bad.add("stanza without a Package field ends here")
		}
		name, installed, fields = "", false, false
	}
	err := eachLine(r, &bad, func(line string) bool {
		if strings.TrimSpace(line) == "" {
			flush()
			return true
		}
		fields = true
		if line[0] == ' ' || line[0] == '\t' {
			return true
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			bad.add("want Field: value")
			return true
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(key) {
		case "package":
			name = value
		case "status":
			// want flag status: "install ok installed"
			f := strings.Fields(value)
			installed = len(f) == 3 && f[2] == "installed"
		}
		return true
	})
	flush()
	return pkgs, bad.err(err)
}

// parseApkInstalled returns the package names of Alpine's
// /lib/apk/db/installed: one "P:name" line per stanza; every stanza in
// that database is installed.
func parseApkInstalled(r io.Reader) (map[string]bool, error) {
	pkgs := map[string]bool{}
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		switch {
		case line == "":
		case len(line) < 2 || line[1] != ':':
			bad.add("want X:value")
		case line[0] == 'P' && line != "P:":
			pkgs[line[2:]] = true
		}
		return true
	})
	return pkgs, bad.err(err)
}
