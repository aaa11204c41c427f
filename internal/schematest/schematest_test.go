package schematest

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSamplesCorpus checks the validator itself against Microsoft's
// valid/invalid corpus, so a schema-loading mistake cannot pass silently.
func TestSamplesCorpus(t *testing.T) {
	s := Require(t)
	dir, _ := Dir()
	b, err := os.ReadFile(filepath.Join(dir, "security_message", "samples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct{ Valid, Invalid []json.RawMessage }
	if err := json.Unmarshal(b, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus.Valid) == 0 || len(corpus.Invalid) == 0 {
		t.Fatal("empty corpus")
	}
	for i, m := range corpus.Valid {
		doc, _ := jsonschema.UnmarshalJSON(bytesReader(m))
		if err := s.Validate(doc); err != nil {
			t.Errorf("valid[%d] rejected: %v", i, err)
		}
	}
	for i, m := range corpus.Invalid {
		doc, _ := jsonschema.UnmarshalJSON(bytesReader(m))
		if err := s.Validate(doc); err == nil {
			t.Errorf("invalid[%d] accepted", i)
		}
	}
}

func bytesReader(b []byte) *jsonReader { return &jsonReader{b: b} }

type jsonReader struct{ b []byte }

func (r *jsonReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
