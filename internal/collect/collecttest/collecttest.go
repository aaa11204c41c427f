// Package collecttest holds what every collector's tests need: checking
// emitted events as a whole message against Microsoft's schema and our
// strict decoder, golden payload files, and fixture host roots.
package collecttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

// Envelope is the envelope used to wrap events in tests.
var Envelope = event.Envelope{AgentVersion: "test", AgentID: "00000000-0000-0000-0000-000000000000"}

// Message encodes evs into one message as the sender would.
func Message(t testing.TB, evs []event.Event) []byte {
	t.Helper()
	encoded := make([][]byte, 0, len(evs))
	for _, ev := range evs {
		b, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, b)
	}
	return Envelope.AppendMessage(nil, encoded)
}

// CheckMessage wraps evs in a message and checks it against Microsoft's
// schema (skipped without ../shared/schemas) and event.DecodeMessage.
func CheckMessage(t testing.TB, evs []event.Event) {
	t.Helper()
	msg := Message(t, evs)
	if _, err := event.DecodeMessage(msg); err != nil {
		t.Errorf("DecodeMessage: %v\n%s", err, msg)
	}
	schematest.Validate(t, msg)
}

// CheckGolden compares payload (ids and times vary, payloads do not) with
// testdata/name, rewriting it first when update is set.
func CheckGolden(t testing.TB, name string, payload []any, update bool) {
	t.Helper()
	got, err := json.MarshalIndent(payload, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("payload differs from %s (-want +got):\n%s", path, diff)
	}
}

// WriteHost builds a host root in a temporary directory holding files
// (slash-separated paths to contents).
func WriteHost(t testing.TB, files map[string]string) hostfs.Root {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hostfs.Root(root)
}
