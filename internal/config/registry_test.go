package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/google/go-cmp/cmp"
)

// sharedTwin is Microsoft's twin schema folder beside the project.
var sharedTwin = filepath.Join("..", "..", "..", "shared", "schemas", "twin")

// extraKeys are read by the agents but absent from the JSON schema.
var extraKeys = []string{"baselineCustomChecksEnabled", "baselineCustomChecksFilePath", "baselineCustomChecksFileHash", "hubResourceId"}

func readShared(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedTwin, name))
	if os.IsNotExist(err) {
		t.Skipf("%s is absent (../shared is not beside the project): cannot compare with Microsoft's file", filepath.Join(sharedTwin, name))
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range registry {
		if seen[k.name] {
			t.Errorf("%s: registered twice (names are unique across both objects)", k.name)
		}
		seen[k.name] = true
		if k.doc == "" || (k.object != ObjectName && k.object != ModuleObjectName) {
			t.Errorf("%s: no doc or unknown object %q", k.name, k.object)
		}
		// The default must be a valid value that reads back as itself.
		raw := jsonValue(k.def)
		b, _ := json.Marshal(raw)
		m, err := decodeObject([]byte(`{"v":` + string(b) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if v, kerr := k.parse(m["v"]); kerr != nil || v != k.def {
			t.Errorf("%s: default %v parses as %v, %v", k.name, k.def, v, kerr)
		}
	}
	for _, name := range event.Names() {
		if !seen["eventPriority"+name] {
			t.Errorf("event %s has no eventPriority key", name)
		}
	}
	if got := Default().Priority("NoSuchEvent"); got != event.Low {
		t.Errorf("Priority of an unknown event = %v; want Low", got)
	}
}

// TestDefaultsMatchSchema compares the registry with Microsoft's schema
// and default document.
func TestDefaultsMatchSchema(t *testing.T) {
	defaults := readShared(t, "azureiotsecurity_default.json")
	r := mustApply(t, newTestStore(t, "").ApplyFull, string(defaults))
	if diff := cmp.Diff(Default(), r.Config); diff != "" || len(r.Errors) != 0 {
		t.Errorf("default document (-registry +file):\n%s\nerrors: %v", diff, r.Errors)
	}

	var schema struct {
		Properties struct {
			Desired struct {
				Properties map[string]struct {
					Properties map[string]struct {
						Default any `json:"default"`
					} `json:"properties"`
				} `json:"properties"`
			} `json:"desired"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(readShared(t, "azureiotsecurity_schema.json"), &schema); err != nil {
		t.Fatal(err)
	}
	props := schema.Properties.Desired.Properties[ObjectName].Properties
	reported := Reported(Result{Config: Default()})[ObjectName].(map[string]any)
	var schemaKeys, ours []string
	for name, p := range props {
		schemaKeys = append(schemaKeys, name)
		want, _ := json.Marshal(p.Default)
		got, _ := json.Marshal(reported[name].(map[string]any)["value"])
		if string(got) != string(want) {
			t.Errorf("%s: default %s; schema says %s", name, got, want)
		}
	}
	for _, k := range registry {
		if k.object == ObjectName && !slices.Contains(extraKeys, k.name) {
			ours = append(ours, k.name)
		}
	}
	slices.Sort(schemaKeys)
	slices.Sort(ours)
	if diff := cmp.Diff(schemaKeys, ours); diff != "" {
		t.Errorf("schema keys (-schema +registry):\n%s", diff)
	}
}

func TestReportedRoundTrip(t *testing.T) {
	for _, file := range []string{"all.good.json", "range.bad.json", "conflict.bad.json", "typemismatch.bad.json"} {
		doc, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		r := mustApply(t, newTestStore(t, "").ApplyFull, string(doc))
		b, err := json.Marshal(Reported(r))
		if err != nil {
			t.Fatal(err)
		}
		back := mustApply(t, newTestStore(t, "").ApplyFull, string(b))
		if diff := cmp.Diff(r.Config, back.Config); diff != "" || len(back.Errors) != 0 {
			t.Errorf("%s: reported then applied (-before +after):\n%s\nerrors: %v", file, diff, back.Errors)
		}
	}
}

func TestReportedErrors(t *testing.T) {
	e := KeyError{"maxMessageSizeInBytes", NotOptimal, "100000", "Message size should be multiple of 4096"}
	want := []map[string]string{{"ConfigurationName": "maxMessageSizeInBytes", "ErrorType": "NotOptimal",
		"UsedConfiguration": "100000", "Message": "Message size should be multiple of 4096"}}
	if diff := cmp.Diff(want, ReportedErrors([]KeyError{e})); diff != "" {
		t.Errorf("ReportedErrors (-want +got):\n%s", diff)
	}
	if got := ReportedErrors(nil); got == nil || len(got) != 0 {
		t.Errorf("ReportedErrors(nil) = %#v; want an empty, non-nil list", got)
	}
	p := e.Payload()
	if p.ConfigurationName != e.Key || p.ErrorType != "NotOptimal" || p.UsedConfiguration != e.Used || p.Message != e.Message {
		t.Errorf("Payload() = %+v", p)
	}
}

func TestMarkdownReference(t *testing.T) {
	md := MarkdownReference()
	for _, k := range registry {
		if !strings.Contains(md, "| `"+k.name+"` |") {
			t.Errorf("no row for %s", k.name)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(md), "\n") {
		if strings.HasPrefix(line, "|") && strings.Count(line, "|")-strings.Count(line, `\|`) != 6 {
			t.Errorf("line %d has a wrong column count: %s", i+1, line)
		}
	}
}
