package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/google/go-cmp/cmp"
)

// asc wraps members into a desired patch of the schema object.
func asc(members string) string { return `{"` + ObjectName + `":{` + members + `}}` }

func TestApplyPatchSequences(t *testing.T) {
	goodDoc, err := os.ReadFile(filepath.Join("testdata", "all.good.json"))
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		patch   string
		edit    func(c *Config) // applied to the config before the step
		errs    []wantErr
		version int64
		changed bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"patch keeps other keys", []step{
			{patch: `{"$version":9,` + asc(`"maxMessageSizeInBytes":{"value":8192}`)[1:],
				edit: func(c *Config) { c.MaxMessageSizeInBytes = 8192 }, version: 9, changed: true},
			{patch: `{"azureiotsecurityModule":{"logLevel":"TRACE"}}`,
				edit: func(c *Config) { c.Module.LogLevel = "trace" }, version: 9, changed: true},
		}},
		{"null resets a key to its default", []step{
			{patch: asc(`"eventPriorityLogin":null,"snapshotFrequency":{"value":null}`),
				edit: func(c *Config) {
					c.Priorities[event.NameLogin] = event.High
					c.SnapshotFrequency = 13 * time.Hour
				}, version: 7, changed: true},
			{patch: `{"azureiotsecurityModule":{"outputName":null}}`,
				edit: func(c *Config) { c.Module.OutputName = "" }, version: 7, changed: true},
		}},
		{"null object resets all its keys", []step{
			{patch: `{"` + ObjectName + `":null,"$version":10}`,
				edit: func(c *Config) { m := c.Module; *c = Default(); c.Module = m }, version: 10, changed: true},
		}},
		{"bad value keeps the last good one, a later patch fixes it", []step{
			{patch: asc(`"maxMessageSizeInBytes":{"value":"big"},"eventPriorityLogin":{"value":"Off"}`),
				edit:    func(c *Config) { c.Priorities[event.NameLogin] = event.Off },
				errs:    []wantErr{tm("maxMessageSizeInBytes", "65536")},
				version: 7, changed: true},
			{patch: `{"other":{"value":1}}`, // re-evaluated: the error persists
				errs: []wantErr{tm("maxMessageSizeInBytes", "65536")}, version: 7},
			{patch: asc(`"maxMessageSizeInBytes":{"value":131072}`),
				edit: func(c *Config) { c.MaxMessageSizeInBytes = 131072 }, version: 7, changed: true},
		}},
		{"same values change nothing", []step{
			{patch: asc(`"highPriorityMessageFrequency":{"value":"PT120S"}`), version: 7},
		}},
		{"object replaced by a non-object, then by an object", []step{
			{patch: `{"` + ObjectName + `":"x"}`, errs: []wantErr{tm(ObjectName, "")}, version: 7},
			{patch: asc(`"eventPriorityLogin":{"value":"Low"}`), // RFC 7386: starts from an empty object
				edit: func(c *Config) {
					m := c.Module
					*c = Default()
					c.Module = m
					c.Priorities[event.NameLogin] = event.Low
				},
				version: 7, changed: true},
		}},
		{"conflict fixed by a later patch", []step{
			{patch: asc(`"highPriorityMessageFrequency":{"value":"P2D"}`),
				edit:    func(c *Config) { c.HighPriorityMessageFrequency = 24 * time.Hour },
				errs:    []wantErr{{"highPriorityMessageFrequency", Conflict, "P1D", "High priority interval is longer than low priority interval"}},
				version: 7, changed: true},
			{patch: asc(`"lowPriorityMessageFrequency":{"value":"P3D"}`),
				edit: func(c *Config) {
					c.HighPriorityMessageFrequency = 48 * time.Hour
					c.LowPriorityMessageFrequency = 72 * time.Hour
				}, version: 7, changed: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, "")
			want := mustApply(t, s.ApplyFull, string(goodDoc)).Config
			for i, st := range tt.steps {
				if st.edit != nil {
					st.edit(&want)
				}
				r := mustApply(t, s.ApplyPatch, st.patch)
				if diff := cmp.Diff(want, r.Config); diff != "" {
					t.Errorf("step %d: config (-want +got):\n%s", i, diff)
				}
				checkErrors(t, r.Errors, st.errs)
				if r.Version != st.version || r.Changed != st.changed {
					t.Errorf("step %d: version, changed = %d, %v; want %d, %v", i, r.Version, r.Changed, st.version, st.changed)
				}
				if diff := cmp.Diff(r, s.Current()); diff != "" {
					t.Errorf("step %d: Current differs from the result (-result +current):\n%s", i, diff)
				}
			}
		})
	}
}

func TestApplyMalformed(t *testing.T) {
	goodDoc, _ := os.ReadFile(filepath.Join("testdata", "all.good.json"))
	for _, in := range []string{``, `null`, `[]`, `"x"`, `{`, `{"a":1}{}`, `{"a":1} x`, `{"a":NaN}`} {
		s := newTestStore(t, "")
		mustApply(t, s.ApplyFull, string(goodDoc))
		before := s.Current()
		before.Changed = false
		for name, apply := range map[string]func([]byte) (Result, error){"full": s.ApplyFull, "patch": s.ApplyPatch} {
			r, err := apply([]byte(in))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s %q: error = %v; want ErrMalformed", name, in, err)
			}
			if diff := cmp.Diff(before, r); diff != "" {
				t.Errorf("%s %q: result changed (-before +after):\n%s", name, in, diff)
			}
		}
	}
}

func TestApplyFullShapes(t *testing.T) {
	// A whole twin, or the schema's default file, is accepted as well as
	// its desired section.
	for _, doc := range []string{
		`{"properties":{"desired":` + asc(`"eventPriorityLogin":{"value":"Off"}`) + `}}`,
		`{"desired":` + asc(`"eventPriorityLogin":{"value":"Off"}`) + `,"reported":{}}`,
		asc(`"eventPriorityLogin":{"value":"Off"}`),
	} {
		r := mustApply(t, newTestStore(t, "").ApplyFull, doc)
		if got := r.Config.Priority(event.NameLogin); got != event.Off || len(r.Errors) != 0 {
			t.Errorf("%s: Login priority %v, errors %v; want Off, none", doc, got, r.Errors)
		}
	}
}

func TestResultIsACopy(t *testing.T) {
	s := newTestStore(t, "")
	r := s.Current()
	r.Config.Priorities[event.NameLogin] = event.Off
	r.Config.Aggregation[event.NameProcessCreate] = Aggregation{}
	if diff := cmp.Diff(Default(), s.Current().Config); diff != "" {
		t.Errorf("changing a result changed the store (-want +got):\n%s", diff)
	}
}
