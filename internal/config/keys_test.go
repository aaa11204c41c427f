package config

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKeyValues feeds single values to single keys: the accepted forms,
// the rejected ones and the clamped ones.
func TestKeyValues(t *testing.T) {
	hex64 := strings.Repeat("aB", 32)
	tests := []struct {
		key  string
		in   string // JSON value, wrapped as the key's object requires
		want string // effective value as text
		typ  ErrorType
	}{
		{"maxLocalCacheSizeInBytes", `8192.0`, "8192", ""},
		{"maxLocalCacheSizeInBytes", `1e4`, "10000", ""},
		{"maxLocalCacheSizeInBytes", `-1`, "8192", NotOptimal},
		{"maxLocalCacheSizeInBytes", `99999999999999999999`, "1073741824", NotOptimal},
		{"maxLocalCacheSizeInBytes", `-1e400`, "8192", NotOptimal},
		{"maxLocalCacheSizeInBytes", `1.5`, "2560000", TypeMismatch},
		{"maxMessageSizeInBytes", `262145`, "262144", NotOptimal},
		{"maxMessageSizeInBytes", `8191`, "8192", NotOptimal},
		{"snapshotFrequency", `"PT0.999999999S"`, "PT1S", NotOptimal},
		{"snapshotFrequency", `"P1000Y"`, "P36500D", NotOptimal},
		{"snapshotFrequency", `"P1000000000000000000000Y"`, "P36500D", NotOptimal},
		{"snapshotFrequency", `"07:00:00"`, "PT13H", TypeMismatch},
		{"eventPriorityLogin", `"oFf"`, "Off", ""},
		{"eventPriorityLogin", `"Operational"`, "High", TypeMismatch},
		{"aggregationEnabledProcessCreate", `false`, "false", ""},
		{"aggregationEnabledProcessCreate", `0`, "true", TypeMismatch},
		{"aggregationIntervalConnectionCreate", `"PT0S"`, "PT1S", NotOptimal},
		{"baselineCustomChecksFilePath", `"/opt/x y/checks.xml"`, "/opt/x y/checks.xml", ""},
		{"baselineCustomChecksFilePath", `"checks.xml"`, "", TypeMismatch},
		{"baselineCustomChecksFilePath", `"/tmp/a\nb"`, "", TypeMismatch},
		{"baselineCustomChecksFileHash", `"` + hex64 + `"`, hex64, ""},
		{"baselineCustomChecksFileHash", `"` + hex64 + `0"`, "", TypeMismatch},
		{"baselineCustomChecksFileHash", `"` + strings.Repeat("g", 64) + `"`, "", TypeMismatch},
		{"hubResourceId", `"/subscriptions/x"`, "/subscriptions/x", ""},
		{"hubResourceId", `"a\u0000b"`, "", TypeMismatch},
		{"hubResourceId", `"` + strings.Repeat("x", 1025) + `"`, "", TypeMismatch},
		{"logLevel", `"WARN"`, "warning", ""},
		{"logLevel", `"Warning"`, "warning", ""},
		{"logLevel", `"panic"`, "panic", ""},
		{"logLevel", `"off"`, "info", TypeMismatch},
		{"diagnosticMinimumSeverity", `"information"`, "Information", ""},
		{"diagnosticMinimumSeverity", `"Info"`, "Warning", TypeMismatch},
		{"diagnosticEventsPerMinute", `6001`, "6000", NotOptimal},
		{"diagnosticEventsPerMinute", `0`, "0", ""},
		{"outputName", `"security.out-1_a"`, "security.out-1_a", ""},
		{"outputName", `"out put"`, "", TypeMismatch},
		{"outputName", `"ünïcode"`, "", TypeMismatch},
		{"outputName", `"` + strings.Repeat("o", 101) + `"`, "", TypeMismatch},
		{"listeningPortsCheckInterval", `"PT5M"`, "PT5M", ""},
		{"listeningPortsCheckInterval", `300`, "PT1M", TypeMismatch},
		{"processBackend", `"eBPF"`, "ebpf", ""},
		{"processBackend", `"kprobes"`, "auto", TypeMismatch},
		{"connectionBackend", `"Audit"`, "audit", ""},
		{"connectionBackend", `"procfs"`, "auto", TypeMismatch},
		{"connectionAuditRules", `true`, "true", ""},
		{"connectionIncludeLoopback", `"yes"`, "false", TypeMismatch},
		{"connectionIncludeSelf", `true`, "true", ""},
		{"spoolEventTtl", `"P1D"`, "P1D", ""},
		{"spoolEventTtl", `3600`, "PT0S", TypeMismatch},
	}
	for _, tt := range tests {
		k, ok := lookupKey(ObjectName, tt.key)
		if !ok {
			k, ok = lookupKey(ModuleObjectName, tt.key)
		}
		if !ok {
			t.Fatalf("unknown key %s", tt.key)
		}
		val := tt.in
		if k.object == ObjectName {
			val = `{"value":` + val + `}`
		}
		doc := `{"` + k.object + `":{"` + k.name + `":` + val + `}}`
		r := mustApply(t, newTestStore(t, "").ApplyFull, doc)
		c := r.Config
		if got := formatValue(k.get(&c)); got != tt.want {
			t.Errorf("%s = %s: got %q; want %q", k.name, tt.in, got, tt.want)
		}
		var typ ErrorType
		for _, e := range r.Errors {
			if e.Key == k.name && e.Type != Conflict {
				typ = e.Type
				if e.Used != tt.want {
					t.Errorf("%s = %s: Used %q; want %q", k.name, tt.in, e.Used, tt.want)
				}
			}
		}
		if typ != tt.typ {
			t.Errorf("%s = %s: error type %q; want %q (errors %v)", k.name, tt.in, typ, tt.typ, r.Errors)
		}
	}
}

func FuzzApplyPatch(f *testing.F) {
	f.Add([]byte(asc(`"maxMessageSizeInBytes":{"value":100000}`)))
	f.Add([]byte(asc(`"highPriorityMessageFrequency":{"value":"P1Y"},"eventPriorityLogin":null`)))
	f.Add([]byte(`{"azureiotsecurityModule":{"logLevel":"warn","diagnosticEventsPerMinute":1e9},"$version":4}`))
	f.Add([]byte(`{"` + ObjectName + `":null,"azureiotsecurityModule":[]}`))
	f.Add([]byte(asc(`"snapshotFrequency":{"value":{"value":"PT1H"}},"x":{"value":null}`)))
	goodDoc := string(mustRead(f, "testdata/all.good.json"))
	f.Fuzz(func(t *testing.T, patch []byte) {
		s := newTestStore(t, "")
		mustApply(t, s.ApplyFull, goodDoc)
		before := s.Current()
		goodBefore := s.good
		r, err := s.ApplyPatch(patch)
		if err != nil {
			before.Changed = false
			if diff := cmpResult(before, r); diff != "" {
				t.Fatalf("a rejected patch changed the result: %s", diff)
			}
			return
		}
		// A key that failed to parse keeps its last good value.
		for _, e := range r.Errors {
			if e.Type == TypeMismatch {
				if k, ok := lookupKey(ObjectName, e.Key); ok && s.good[k.name] != goodBefore[k.name] {
					t.Fatalf("%s: last good %v lost, now %v", k.name, goodBefore[k.name], s.good[k.name])
				}
			}
		}
		// The effective config is valid: reported, it applies as itself.
		b, err := json.Marshal(Reported(r))
		if err != nil {
			t.Fatal(err)
		}
		back := mustApply(t, newTestStore(t, "").ApplyFull, string(b))
		if !back.Config.Equal(r.Config) {
			t.Fatalf("reported config does not apply as itself")
		}
		for _, e := range back.Errors {
			if e.Message != "Message size should be multiple of 4096" {
				t.Fatalf("reported config has an error: %v", e)
			}
		}
	})
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cmpResult(a, b Result) string { return cmp.Diff(a, b) }
