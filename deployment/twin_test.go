package deployment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	twinOnce   sync.Once
	twinSchema *jsonschema.Schema
	twinErr    error
)

// compileTwinSchema compiles Microsoft's module-twin schema with its
// definitions file, which it refers to by bare file name.
func compileTwinSchema() (*jsonschema.Schema, error) {
	dir, err := schematest.Dir()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseRegexpEngine(compileECMA)
	for _, f := range []string{"azureiotsecurity_schema.json", "azureiotsecurity_schema_definitions.json"} {
		b, err := os.ReadFile(filepath.Join(dir, "twin", f))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(f, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile("azureiotsecurity_schema.json")
}

// durationLookarounds are the two ECMAScript lookarounds of Microsoft's
// TimeConfiguration pattern, which Go's regexp lacks.
const (
	notEmptyAfterP = `^P(?!$)`
	digitAfterT    = `T(?=\d)`
)

// lookaround is the pattern without its lookarounds, plus the checks
// they made.
type lookaround struct {
	src string
	re  *regexp.Regexp
}

func (l lookaround) String() string { return l.src }

func (l lookaround) MatchString(s string) bool {
	if !l.re.MatchString(s) || s == "P" {
		return false
	}
	i := strings.IndexByte(s, 'T')
	return i < 0 || (i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9')
}

// compileECMA compiles a schema pattern with Go's regexp, translating the
// one known ECMAScript pattern that uses lookarounds; any other
// lookaround is an error, so a new one cannot pass unchecked.
func compileECMA(src string) (jsonschema.Regexp, error) {
	if !strings.Contains(src, "(?=") && !strings.Contains(src, "(?!") {
		return regexp.Compile(src)
	}
	if !strings.HasPrefix(src, notEmptyAfterP) || strings.Count(src, "(?") != 2 || !strings.Contains(src, digitAfterT) {
		return nil, fmt.Errorf("pattern %q: lookarounds other than the ISO 8601 duration's are not supported", src)
	}
	plain := strings.Replace(strings.Replace(src, notEmptyAfterP, "^P", 1), digitAfterT, "T", 1)
	re, err := regexp.Compile(plain)
	if err != nil {
		return nil, err
	}
	return lookaround{src: src, re: re}, nil
}

func TestCompileECMA(t *testing.T) {
	dir, err := schematest.Dir()
	if err != nil {
		t.Skipf("skipping: Microsoft's schemas are not available (%v)", err)
	}
	var defs struct {
		Definitions map[string]struct {
			Properties struct {
				Value struct{ Pattern string } `json:"value"`
			} `json:"properties"`
		} `json:"definitions"`
	}
	mustDecode(t, "definitions", readFile(t, filepath.Join(dir, "twin", "azureiotsecurity_schema_definitions.json")), &defs, false)
	re, err := compileECMA(defs.Definitions["TimeConfiguration"].Properties.Value.Pattern)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"PT7M": true, "PT13H": true, "P1D": true, "P1DT2H": true, "PT1.5S": true, "P1Y2M3W4DT5H6M7S": true,
		"P": false, "PT": false, "P1DT": false, "PTM": false, "7M": false, "pt7m": false, "PT7M ": false, "": false,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("%q: match %v, want %v", s, got, want)
		}
	}
	if _, err := compileECMA(`^(?=a)b`); err == nil {
		t.Error("an unknown lookahead was accepted")
	}
}

// validateTwin checks desired properties against Microsoft's twin schema,
// and skips, saying why, when ../shared/schemas is not beside the repository.
func validateTwin(t *testing.T, desired []byte) {
	t.Helper()
	twinOnce.Do(func() { twinSchema, twinErr = compileTwinSchema() })
	if twinErr != nil {
		t.Skipf("skipping twin-schema validation: Microsoft's twin schema is not available (%v); it is expected at ../shared/schemas/twin beside the repository", twinErr)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"desired":` + string(desired) + `}`)))
	if err != nil {
		t.Fatalf("desired properties: %v", err)
	}
	if err := twinSchema.Validate(doc); err != nil {
		t.Errorf("desired properties violate the twin schema: %v", err)
	}
}

// TestTwinSchemaCatchesBadValues proves the validation above bites.
func TestTwinSchemaCatchesBadValues(t *testing.T) {
	twinOnce.Do(func() { twinSchema, twinErr = compileTwinSchema() })
	if twinErr != nil {
		t.Skipf("skipping: Microsoft's twin schema is not available (%v)", twinErr)
	}
	for _, bad := range []string{
		`{"ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration": {"snapshotFrequency": {"value": "13 hours"}}}`,
		`{"ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration": {"eventPriorityLogin": {"value": "Medium"}}}`,
		`{"ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration": {"maxMessageSizeInBytes": {"value": "204800"}}}`,
	} {
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"desired":` + bad + `}`))
		if twinSchema.Validate(doc) == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}

// substitute replaces the image placeholder, as every deployment tool
// does, and drops the template marker.
func substitute(v any, image string) any {
	switch v := v.(type) {
	case string:
		if v == placeholder {
			return image
		}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(e, image)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k != "$schema-template" {
				out[k] = substitute(e, image)
			}
		}
		return out
	}
	return v
}

// unstringify is edgeAgent's reading of a deployed manifest: the string
// chunks createOptions, createOptions01, … (each at most
// Constants.TwinValueMaxSize = 512 characters, at most 8) are joined and
// parsed back into the object the template holds.
func unstringify(t *testing.T, v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = unstringify(t, e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		var chunks []string
		for k, e := range v {
			if !strings.HasPrefix(k, "createOptions") {
				out[k] = unstringify(t, e)
			}
		}
		for i := 0; ; i++ {
			name := "createOptions"
			if i > 0 {
				name += fmt.Sprintf("%02d", i)
			}
			c, ok := v[name].(string)
			if !ok {
				break
			}
			if len(c) > 512 {
				t.Errorf("%s: %d characters, more than edgeAgent's 512", name, len(c))
			}
			chunks = append(chunks, c)
		}
		if len(chunks) > 8 {
			t.Errorf("createOptions in %d chunks, more than 8", len(chunks))
		}
		if len(chunks) > 0 {
			out["createOptions"] = decodeAny(t, "createOptions", []byte(strings.Join(chunks, "")))
		}
		return out
	}
	return v
}

// TestStringify checks that every template fits edgeAgent's limits once
// deployed, and that deployment/stringify.jq (the command README.md
// gives operators) produces exactly that, when jq is installed.
func TestStringify(t *testing.T) {
	const image = "example.azurecr.io/azureiotsecurity:0.1.0-amd64"
	jq, jqErr := exec.LookPath("jq")
	for _, file := range manifestFiles(t) {
		t.Run(file, func(t *testing.T) {
			want := substitute(decodeAny(t, file, readFile(t, file)), image)
			var co []int
			var size func(any)
			size = func(v any) {
				switch v := v.(type) {
				case map[string]any:
					for k, e := range v {
						if k == "createOptions" {
							b, _ := json.Marshal(e)
							co = append(co, len(b))
							continue
						}
						size(e)
					}
				case []any:
					for _, e := range v {
						size(e)
					}
				}
			}
			size(want)
			for _, n := range co {
				if n > 8*512 {
					t.Errorf("a createOptions is %d characters compact; edgeAgent reads at most 8 × 512", n)
				}
			}
			if jqErr != nil {
				t.Skipf("skipping the stringify.jq check: jq is not installed (%v); apt-get install jq", jqErr)
			}
			out, err := exec.Command(jq, "--arg", "image", image, "-f", "stringify.jq", file).Output()
			if err != nil {
				t.Fatalf("jq -f stringify.jq %s: %v", file, err)
			}
			if bytes.Contains(out, []byte("${")) || bytes.Contains(out, []byte(`"createOptions": {`)) {
				t.Errorf("placeholder or createOptions object left in the stringified manifest")
			}
			got := unstringify(t, decodeAny(t, "jq output", out))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stringify.jq output, read back as edgeAgent does, differs from the template:\n%s", diffLines(keys(got), keys(want)))
			}
		})
	}
}

// diffLines lists the lines only in got (-) or only in want (+).
func diffLines(got, want []string) string {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, l := range s {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, l := range got {
		if !w[l] {
			b.WriteString("jq:   " + l + "\n")
		}
	}
	for _, l := range want {
		if !g[l] {
			b.WriteString("want: " + l + "\n")
		}
	}
	return b.String()
}

// keys summarises a document by its sorted key paths, for a readable diff.
func keys(v any) []string {
	var paths []string
	var walk func(string, any)
	walk = func(p string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(p+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(p+"[]", e)
			}
		default:
			b, _ := json.Marshal(v)
			paths = append(paths, p+"="+string(b))
		}
	}
	walk("", v)
	sort.Strings(paths)
	return paths
}
