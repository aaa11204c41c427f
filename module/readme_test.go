package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's configuration table")

// TestReadmeConfigReference keeps the README's twin-key table generated
// from the registry that parses the twin, so the two cannot drift.
func TestReadmeConfigReference(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "<!-- config-reference:start -->\n")
	end := strings.Index(readme, "<!-- config-reference:end -->")
	if start < 0 || end < start {
		t.Fatal("README lacks the config-reference markers")
	}
	got := strings.TrimSpace(readme[start+len("<!-- config-reference:start -->\n") : end])
	want := strings.TrimSpace(config.MarkdownReference())
	if *updateReadme {
		readme = readme[:start+len("<!-- config-reference:start -->\n")] + want + "\n" + readme[end:]
		if err := os.WriteFile("../README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Fatalf("README configuration table is stale; replace it between the markers with config.MarkdownReference():\n%s", want)
	}
}
