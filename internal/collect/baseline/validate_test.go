package baseline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// checksFile wraps one check's JSON in a checks file.
func checksFile(check string) string {
	return `{"checks":[{"id":"t","description":"d","severity":"Warning","check":` + check + `}]}`
}

func TestParseChecksRejects(t *testing.T) {
	tests := []struct {
		name, file, errText string
	}{
		{"not json", "checks:", "invalid character"},
		{"trailing data", `{"checks":[]} {}`, "data after"},
		{"unknown field", `{"checks":[],"x":1}`, `unknown field "x"`},
		{"unknown kind", checksFile(`{"exec":{"cmd":"id"}}`), `unknown field "exec"`},
		{"no kind", checksFile(`{}`), "no check kind set"},
		{"two kinds", checksFile(`{"fileExists":{"path":"/a"},"fileAbsent":{"path":"/b"}}`), "several check kinds"},
		{"bad id", `{"checks":[{"id":"a b","description":"d","severity":"Warning","check":{"fileExists":{"path":"/a"}}}]}`, "id must be"},
		{"no description", `{"checks":[{"id":"a","severity":"Warning","check":{"fileExists":{"path":"/a"}}}]}`, "empty description"},
		{"bad severity", `{"checks":[{"id":"a","description":"d","severity":"High","check":{"fileExists":{"path":"/a"}}}]}`, "severity"},
		{"duplicate id", `{"checks":[{"id":"a","description":"d","severity":"Warning","check":{"fileExists":{"path":"/a"}}},` +
			`{"id":"a","description":"d","severity":"Warning","check":{"fileExists":{"path":"/a"}}}]}`, "duplicate id"},
		{"relative path", checksFile(`{"fileExists":{"path":"etc/passwd"}}`), "clean absolute path"},
		{"dot-dot path", checksFile(`{"fileExists":{"path":"/etc/../root/x"}}`), "clean absolute path"},
		{"too many patterns", checksFile(`{"fileExists":{"path":"/*/*/*"}}`), "at most 2 elements"},
		{"bad glob", checksFile(`{"fileExists":{"path":"/etc/[x"}}`), "syntax error"},
		{"bad regexp", checksFile(`{"fileContentMatches":{"path":"/a","pattern":"(x"}}`), "pattern"},
		{"empty regexp", checksFile(`{"fileContentMatches":{"path":"/a","pattern":""}}`), "pattern"},
		{"huge regexp", checksFile(`{"fileContentMatches":{"path":"/a","pattern":"` + strings.Repeat("a", 2000) + `"}}`), "pattern"},
		{"bad mode", checksFile(`{"fileMode":{"path":"/a","maxMode":"0999"}}`), "octal"},
		{"mode without bounds", checksFile(`{"fileMode":{"path":"/a"}}`), "want maxMode"},
		{"sysctl path", checksFile(`{"sysctl":{"key":"../../etc/shadow","op":"eq","value":"1"}}`), "dotted sysctl"},
		{"bad op", checksFile(`{"sysctl":{"key":"a.b","op":"like","value":"1"}}`), "op"},
		{"le not int", checksFile(`{"sysctl":{"key":"a.b","op":"le","value":"x"}}`), "integer"},
		{"in without values", checksFile(`{"sysctl":{"key":"a.b","op":"in","value":"x"}}`), "takes values"},
		{"module with slash", checksFile(`{"kernelModuleNotLoaded":{"name":"../x"}}`), "name"},
		{"unit without suffix", checksFile(`{"serviceState":{"unit":"cron","state":"enabled"}}`), "suffix"},
		{"unit state", checksFile(`{"serviceState":{"unit":"cron.service","state":"running"}}`), "state"},
		{"mount selectors", checksFile(`{"mountOption":{"mountPoint":"/tmp","removable":true,"options":["nodev"]}}`), "exactly one"},
		{"mount no options", checksFile(`{"mountOption":{"fsTypes":["nfs"]}}`), "need options"},
		{"mount option comma", checksFile(`{"mountOption":{"fsTypes":["nfs"],"options":["nodev,nosuid"]}}`), "single word"},
		{"shadow rule", checksFile(`{"shadowPolicy":{"rule":"strong"}}`), "rule"},
		{"account rule", checksFile(`{"accounts":{"rule":"x"}}`), "rule"},
		{"key with blank", checksFile(`{"sshdConfig":{"key":"Permit Root","op":"eq","value":"no"}}`), "one word"},
		{"empty allOf", checksFile(`{"allOf":[]}`), "operands"},
		{"deep nesting", checksFile(strings.Repeat(`{"anyOf":[`, 10) + `{"fileExists":{"path":"/a"}}` + strings.Repeat(`]}`, 10)), "nested deeper"},
		{"bad applies", `{"checks":[{"id":"a","description":"d","severity":"Warning","applies":{},"check":{"fileExists":{"path":"/a"}}}]}`, "applies"},
		{"bad package glob", checksFile(`{"packageAbsent":{"name":"x["}}`), "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseChecks([]byte(tt.file))
			if !errors.Is(err, errInvalid) || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %v, want errInvalid saying %q", err, tt.errText)
			}
		})
	}
}

func TestParseChecksLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"checks":[`)
	for i := 0; i <= maxChecks; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"c%d","description":"d","severity":"Warning","check":{"fileExists":{"path":"/a"}}}`, i)
	}
	b.WriteString("]}")
	if _, err := parseChecks([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("err = %v, want a limit error", err)
	}
}
