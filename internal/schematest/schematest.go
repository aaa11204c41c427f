// Package schematest validates security messages against Microsoft's v1.0
// JSON schemas in ../shared/schemas beside the repository. Tests that use
// it skip, with a message saying so, when that folder is absent.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir finds shared/schemas/security_message: $AZUREIOTSECURITY_SCHEMAS, or
// ../shared/schemas beside the module root (found by walking up to go.mod).
func Dir() (string, error) {
	if d := os.Getenv("AZUREIOTSECURITY_SCHEMAS"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared", "schemas")
			if _, err := os.Stat(filepath.Join(s, "security_message", "messageRoot.json")); err != nil {
				return "", fmt.Errorf("schemas not found at %s: %w", s, err)
			}
			return s, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

var (
	once    sync.Once
	root    *jsonschema.Schema
	loadErr error
)

// Root compiles messageRoot.json with every message*.json beside it.
func Root() (*jsonschema.Schema, error) {
	once.Do(func() {
		var dir string
		dir, loadErr = Dir()
		if loadErr != nil {
			return
		}
		sm := filepath.Join(dir, "security_message")
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		// Microsoft's own valid samples write "2018-10-09 16:22:50Z", which
		// RFC 3339 section 5.6 permits and ajv accepted; we send the T form.
		c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: dateTime})
		files, _ := filepath.Glob(filepath.Join(sm, "message*.json"))
		for _, f := range files {
			doc, err := readJSON(f)
			if err != nil {
				loadErr = err
				return
			}
			// The schemas refer to each other by bare file name ($id).
			if err := c.AddResource(filepath.Base(f), doc); err != nil {
				loadErr = fmt.Errorf("add %s: %w", f, err)
				return
			}
		}
		root, loadErr = c.Compile("messageRoot.json")
	})
	return root, loadErr
}

func dateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err
}

func readJSON(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Require returns the compiled root schema or skips the test when the
// shared schemas are not beside the repository.
func Require(t testing.TB) *jsonschema.Schema {
	t.Helper()
	s, err := Root()
	if err != nil {
		t.Skipf("skipping schema validation: Microsoft's schemas are not available (%v); they are expected at ../shared/schemas beside the repository", err)
	}
	return s
}

// Validate checks one serialised security message against the schema.
func Validate(t testing.TB, message []byte) {
	t.Helper()
	s := Require(t)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(message))
	if err != nil {
		t.Fatalf("message is not JSON: %v\n%s", err, message)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("message violates the v1.0 schema: %v\n%s", err, indent(message))
	}
}

func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
