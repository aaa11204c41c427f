package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPersistRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "twin.json")
	goodDoc, _ := os.ReadFile(filepath.Join("testdata", "all.good.json"))

	s := newTestStore(t, path)
	mustApply(t, s.ApplyFull, string(goodDoc))
	// A bad patch: the last good value must survive a restart too.
	want := mustApply(t, s.ApplyPatch, asc(`"maxMessageSizeInBytes":{"value":"big"}`)+"\n")

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v; want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want only twin.json (no temp files)", len(entries))
	}

	s2 := newTestStore(t, path)
	got := s2.Current()
	want.Changed = false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	// The merged document came back too: a patch still merges into it.
	r := mustApply(t, s2.ApplyPatch, asc(`"maxMessageSizeInBytes":{"value":16384}`))
	want.Config.MaxMessageSizeInBytes = 16384
	if diff := cmp.Diff(want.Config, r.Config); diff != "" || len(r.Errors) != 0 {
		t.Errorf("patch after restart (-want +got):\n%s\nerrors: %v", diff, r.Errors)
	}
}

func TestNewStoreBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"garbage", []byte("\x00\x01not json")},
		{"truncated", []byte(`{"version":3,"desired":{"ms_iotn`)},
		{"no desired", []byte(`{"version":3}`)},
		{"desired not an object", []byte(`{"desired":[1]}`)},
		{"too large", []byte(`{"desired":{},"pad":"` + strings.Repeat("x", maxDocumentSize) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "twin.json")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := NewStore(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("NewStore error = %v; want one naming %s", err, path)
			}
			if s == nil {
				t.Fatal("NewStore returned no store")
			}
			if diff := cmp.Diff(Default(), s.Current().Config); diff != "" {
				t.Errorf("config is not the default (-want +got):\n%s", diff)
			}
			// The next apply replaces the bad file with a good one.
			mustApply(t, s.ApplyPatch, asc(`"eventPriorityLogin":{"value":"Off"}`))
			if _, err := NewStore(path); err != nil {
				t.Errorf("reload after apply: %v", err)
			}
		})
	}
}

func TestNewStoreMissingFile(t *testing.T) {
	s := newTestStore(t, filepath.Join(t.TempDir(), "absent.json"))
	if r := s.Current(); r.Version != -1 || len(r.Errors) != 0 || r.Changed {
		t.Errorf("Current() = %+v; want defaults, version -1", r)
	}
}

func TestPersistFailureStillApplies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "twin.json")
	s := newTestStore(t, path)
	r, err := s.ApplyPatch([]byte(asc(`"eventPriorityLogin":{"value":"Off"}`)))
	if err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("error = %v; want a persistence error", err)
	}
	if got := r.Config.Priority("Login").String(); got != "Off" || !r.Changed {
		t.Errorf("Login = %s, changed %v; want Off, true: the result applies even when not persisted", got, r.Changed)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := newTestStore(t, filepath.Join(t.TempDir(), "twin.json"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				level := []string{"info", "debug"}[(i+j)%2]
				if _, err := s.ApplyPatch([]byte(`{"azureiotsecurityModule":{"logLevel":"` + level + `"}}`)); err != nil {
					t.Error(err)
				}
				_ = Reported(s.Current())
			}
		})
	}
	wg.Wait()
}
