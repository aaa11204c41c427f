package baseline

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// parseSysctlConf parses one sysctl.d file: "key = value" lines, # and ;
// comments, a leading "-" (ignore failures) dropped. Keys may use / as
// separator; they are returned in dotted form. Lines without "=" are
// skipped, as systemd-sysctl does with a warning, and reported.
func parseSysctlConf(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	var bad badLines
	err := eachLine(r, &bad, func(line string) bool {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			return true
		}
		k, v, ok := strings.Cut(line, "=")
		k = sysctlKey(strings.TrimPrefix(strings.TrimSpace(k), "-"))
		if !ok || k == "" {
			bad.add("want key = value")
			return true
		}
		out[k] = normValue(v)
		return true
	})
	return out, bad.err(err)
}

// sysctlKey turns a key written with / separators into dotted form; in
// the / form, a dot belongs to a name (a VLAN interface such as eth0.100).
func sysctlKey(k string) string {
	if !strings.Contains(k, "/") {
		return k
	}
	return strings.ReplaceAll(strings.Trim(k, "/"), "/", ".")
}

// normValue joins the words of a value with single blanks: the kernel
// writes multi-value sysctls tab-separated, people write them with spaces.
func normValue(v string) string { return strings.Join(strings.Fields(v), " ") }

// sysctlDirs are where systemd-sysctl and procps look, by precedence: a
// file name in an earlier directory hides the same name in later ones.
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// loadSysctlConf returns the values the boot-time configuration sets:
// the *.conf files of sysctlDirs applied in file-name order, then
// /etc/sysctl.conf, later values replacing earlier ones.
func loadSysctlConf(root hostfs.Root) (map[string]string, error) {
	files := map[string]string{} // base name -> path
	for _, dir := range sysctlDirs {
		entries, err := listDir(root, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if _, taken := files[e.Name()]; !taken && strings.HasSuffix(e.Name(), ".conf") {
				files[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	paths := make([]string, 0, len(names)+1)
	for _, n := range names {
		paths = append(paths, files[n])
	}
	paths = append(paths, "/etc/sysctl.conf")
	out := map[string]string{}
	var bad error
	for _, p := range paths {
		m, err := parseFile(root, p, hostfs.DefaultReadLimit, parseSysctlConf)
		if err = note(&bad, err); isMissing(err) {
			continue // a dangling link, or no /etc/sysctl.conf
		}
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, bad
}

// readSysctl reads the running value of a dotted key from /proc/sys.
func readSysctl(root hostfs.Root, key string) (string, error) {
	b, err := root.ReadFile(64<<10, "/proc/sys/"+strings.ReplaceAll(key, ".", "/"))
	if err != nil {
		return "", err
	}
	return normValue(string(b)), nil
}
