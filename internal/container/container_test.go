package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

func id(c byte) string { return strings.Repeat(string(c), 64) }

// readCgroup reads a fixture process's cgroup file with the procfs parser.
func readCgroup(t *testing.T, pid string) []procfs.CgroupLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "proc", pid, "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	return lines(t, string(b))
}

func TestLookupFixture(t *testing.T) {
	r := NewResolver("testdata", Options{})
	tests := []struct {
		pid  string
		want Info
		ok   bool
	}{
		{pid: "100", ok: true, want: Info{ID: id('a'), Name: "edgeAgent", Image: "mcr.microsoft.com/azureiotedge-agent:1.5",
			Module: "edgeAgent", Runtime: RuntimeDocker, IsIoTEdge: true}},
		{pid: "200", ok: true, want: Info{ID: id('b'), Name: "web", Image: "nginx:1.27", Runtime: RuntimeDocker}},
		{pid: "300", ok: true, want: Info{ID: id('d'), Name: "sensor", Image: "registry.local/sensor:2", Runtime: RuntimeContainerd}},
		{pid: "400"}, // host process
		{pid: "500", ok: true, want: Info{ID: id('e'), Runtime: RuntimeCRIO}},   // no state: id only
		{pid: "600", ok: true, want: Info{ID: id('c'), Runtime: RuntimeDocker}}, // malformed config.v2.json
	}
	for _, tt := range tests {
		got, ok := r.Lookup(readCgroup(t, tt.pid))
		if ok != tt.ok {
			t.Errorf("pid %s: ok = %v", tt.pid, ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("pid %s (-want +got):\n%s", tt.pid, diff)
		}
	}
	if n := r.CacheLen(); n != 5 {
		t.Errorf("cache holds %d, want 5 (host processes are not cached)", n)
	}
}

func TestLookupCache(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1000, 0)
	r := NewResolver(hostfs.Root(dir), Options{CacheSize: 2, TTL: time.Minute, NegativeTTL: 5 * time.Second,
		Now: func() time.Time { return now }})
	x := id('f')
	cfg := filepath.Join(dir, "var", "lib", "docker", "containers", x, "config.v2.json")

	if got := r.LookupID(x, RuntimeUnknown); got.Name != "" {
		t.Fatalf("found %+v before the config exists", got)
	}
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	write := func(name string) {
		if err := os.WriteFile(cfg, []byte(`{"ID":"`+x+`","Name":"/`+name+`","Config":{"Image":"i"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	if got := r.LookupID(x, RuntimeUnknown); got.Name != "" {
		t.Errorf("negative entry not cached: %+v", got)
	}
	now = now.Add(5 * time.Second)
	if got := r.LookupID(x, RuntimeUnknown); got.Name != "one" || got.Runtime != RuntimeDocker {
		t.Errorf("after negative TTL: %+v", got)
	}
	write("two")
	if got := r.LookupID(x, RuntimeUnknown); got.Name != "one" {
		t.Errorf("positive entry not cached: %+v", got)
	}
	now = now.Add(time.Minute)
	if got := r.LookupID(x, RuntimeUnknown); got.Name != "two" {
		t.Errorf("after TTL: %+v", got)
	}
	for _, c := range []byte{'1', '2', '3'} {
		r.LookupID(id(c), RuntimeUnknown)
	}
	if n := r.CacheLen(); n != 2 {
		t.Errorf("cache holds %d, want its cap 2", n)
	}
}

func TestParseContainerConfig(t *testing.T) {
	a := id('a')
	tests := []struct {
		name, input string
		want        ContainerConfig
		wantErr     bool
	}{
		{name: "minimal", input: `{"ID":"` + a + `"}`, want: ContainerConfig{ID: a}},
		{name: "image id when Config.Image is empty", input: `{"ID":"` + a + `","Name":"/x","Image":"sha256:1","Config":{"Labels":{"k":"v"}}}`,
			want: ContainerConfig{ID: a, Name: "x", Image: "sha256:1", Labels: map[string]string{"k": "v"}}},
		{name: "null config", input: `{"ID":"` + a + `","Config":null}`, want: ContainerConfig{ID: a}},
		{name: "empty", input: "", wantErr: true},
		{name: "truncated", input: `{"ID":"` + a, wantErr: true},
		{name: "not an object", input: `[]`, wantErr: true},
		{name: "no id", input: `{"Name":"/x"}`, wantErr: true},
		{name: "short id", input: `{"ID":"abc"}`, wantErr: true},
		{name: "labels of wrong type", input: `{"ID":"` + a + `","Config":{"Labels":["k"]}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContainerConfig([]byte(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v does not wrap ErrMalformed", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIoTEdgeModuleName(t *testing.T) {
	edge := map[string]string{LabelOwner: OwnerEdgeAgent}
	tests := []struct {
		name string
		c    ContainerConfig
		want Info
	}{
		{name: "docker mode: container name", c: ContainerConfig{Name: "SimulatedTemperatureSensor", Labels: edge},
			want: Info{Name: "SimulatedTemperatureSensor", Module: "SimulatedTemperatureSensor", IsIoTEdge: true}},
		{name: "kubernetes mode: module label", c: ContainerConfig{Name: "k8s_filemove_x", Labels: map[string]string{
			LabelOwner: OwnerEdgeAgent, LabelModule: "filemove"}},
			want: Info{Name: "k8s_filemove_x", Module: "filemove", IsIoTEdge: true}},
		{name: "other owner", c: ContainerConfig{Name: "edgeHub", Labels: map[string]string{LabelOwner: "someone"}},
			want: Info{Name: "edgeHub"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.c.info("")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func FuzzParseContainerConfig(f *testing.F) {
	paths, _ := filepath.Glob("testdata/var/lib/docker/containers/*/config.v2.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseContainerConfig(b)
		if err == nil && !isID(c.ID) {
			t.Fatalf("accepted id %q", c.ID)
		}
		c.info("") // must not panic on any labels
		ParseOCIConfig(id('a'), b)
	})
}
