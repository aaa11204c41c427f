package deployment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

const (
	moduleName  = "azureiotsecurity"
	placeholder = "${MODULES.azureiotsecurity}"
	stateDir    = "/var/lib/azureiotsecurity" // AZUREIOTSECURITY_STATE_DIR in the image
	hostRoot    = "/host"                     // AZUREIOTSECURITY_HOST_ROOT in the image
)

// createOptions mirrors the fields of Docker's container-create body that
// the manifests may use. Decoding is strict, so a misspelt or unexpected
// field (Devices, Mounts, …) fails the test instead of being ignored by
// the engine or silently widening the container's rights.
type createOptions struct {
	NetworkingConfig *struct {
		EndpointsConfig map[string]struct{} `json:"EndpointsConfig"`
	} `json:"NetworkingConfig"`
	HostConfig hostConfig `json:"HostConfig"`
}

type hostConfig struct {
	NetworkMode    string   `json:"NetworkMode"`
	PidMode        string   `json:"PidMode"`
	Privileged     *bool    `json:"Privileged"`
	ReadonlyRootfs bool     `json:"ReadonlyRootfs"`
	CapDrop        []string `json:"CapDrop"`
	CapAdd         []string `json:"CapAdd"`
	SecurityOpt    []string `json:"SecurityOpt"`
	Binds          []string `json:"Binds"`
	LogConfig      *struct {
		Type   string            `json:"Type"`
		Config map[string]string `json:"Config"`
	} `json:"LogConfig"`
}

// edgeModule is one entry of $edgeAgent's modules.
type edgeModule struct {
	Version       string `json:"version"`
	Type          string `json:"type"`
	Status        string `json:"status"`
	RestartPolicy string `json:"restartPolicy"`
	Settings      struct {
		Image         string          `json:"image"`
		CreateOptions json.RawMessage `json:"createOptions"`
	} `json:"settings"`
	Env map[string]struct {
		Value string `json:"value"`
	} `json:"env"`
}

// manifest is what the tests need of one template, whether a full
// deployment or a layered one (whose keys are "properties.desired.<path>").
type manifest struct {
	file    string
	layered bool
	module  edgeModule
	routes  map[string]string
	ttl     int       // storeAndForwardConfiguration.timeToLiveSecs; 0 in a layer
	desired []byte    // the module twin's desired properties
	raw     jsonValue // the whole file, for the stringify checks
}

type jsonValue = any

// manifestFiles lists every JSON document under deployment/ except the
// Grafana dashboards.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deployment/ (%v)", err)
	}
	return files
}

func loadManifest(t *testing.T, file string) manifest {
	t.Helper()
	b := readFile(t, file)
	var top struct {
		Content *struct {
			ModulesContent map[string]map[string]json.RawMessage
		} `json:"content"`
		ModulesContent map[string]map[string]json.RawMessage `json:"modulesContent"`
	}
	mustDecode(t, file, b, &top, false)
	m := manifest{file: file, raw: decodeAny(t, file, b)}
	mc := top.ModulesContent
	if top.Content != nil {
		mc, m.layered = top.Content.ModulesContent, true
	}
	if mc == nil {
		t.Fatalf("%s: neither modulesContent nor content.modulesContent", file)
	}
	agent, hub, twin := mc["$edgeAgent"], mc["$edgeHub"], mc[moduleName]
	if agent == nil || hub == nil || twin == nil {
		t.Fatalf("%s: modulesContent needs $edgeAgent, $edgeHub and %s", file, moduleName)
	}
	m.desired = twin["properties.desired"]
	if m.desired == nil {
		t.Fatalf("%s: %s has no properties.desired (a layer owns the whole twin of the module it adds)", file, moduleName)
	}
	if m.layered {
		mustDecode(t, file, agent["properties.desired.modules."+moduleName], &m.module, true)
		m.routes = map[string]string{}
		for k, v := range hub {
			if name, ok := strings.CutPrefix(k, "properties.desired.routes."); ok {
				var r string
				mustDecode(t, file, v, &r, true)
				m.routes[name] = r
			}
		}
		return m
	}
	var a struct {
		Modules       map[string]json.RawMessage `json:"modules"`
		SystemModules map[string]json.RawMessage `json:"systemModules"`
	}
	mustDecode(t, file, agent["properties.desired"], &a, false)
	if a.SystemModules["edgeAgent"] == nil || a.SystemModules["edgeHub"] == nil {
		t.Errorf("%s: a full deployment needs systemModules edgeAgent and edgeHub", file)
	}
	mustDecode(t, file, a.Modules[moduleName], &m.module, true)
	var h struct {
		Routes map[string]string `json:"routes"`
		SAF    struct {
			TTL int `json:"timeToLiveSecs"`
		} `json:"storeAndForwardConfiguration"`
	}
	mustDecode(t, file, hub["properties.desired"], &h, false)
	m.routes, m.ttl = h.Routes, h.SAF.TTL
	return m
}

func TestManifests(t *testing.T) {
	for _, file := range manifestFiles(t) {
		t.Run(file, func(t *testing.T) {
			m := loadManifest(t, file)
			checkModule(t, m)
			checkRoutes(t, m)
			enabled := checkDesired(t, m)
			checkCreateOptions(t, m, enabled)
		})
	}
}

func checkModule(t *testing.T, m manifest) {
	mod := m.module
	if mod.Type != "docker" || mod.Status != "running" || mod.RestartPolicy != "always" || mod.Version == "" {
		t.Errorf("module: type %q status %q restartPolicy %q version %q; want docker, running, always and a version",
			mod.Type, mod.Status, mod.RestartPolicy, mod.Version)
	}
	if mod.Settings.Image != placeholder {
		t.Errorf("image %q: want the placeholder %s, replaced per platform at deployment", mod.Settings.Image, placeholder)
	}
	if mod.Env["METRICS_ADDR"].Value == "" {
		t.Error("env METRICS_ADDR: the scrape address must be explicit")
	}
}

// routeRE is edgeHub's route grammar, as far as the manifests use it.
var routeRE = regexp.MustCompile(`^FROM (/messages/\S+)( WHERE .+)? INTO (\$upstream|BrokeredEndpoint\("/modules/[^/]+/inputs/[^"]+"\))$`)

func checkRoutes(t *testing.T, m manifest) {
	upstream := false
	for name, r := range m.routes {
		g := routeRE.FindStringSubmatch(r)
		if g == nil {
			t.Errorf("route %s %q: not FROM /messages/… [WHERE …] INTO $upstream|BrokeredEndpoint(…)", name, r)
			continue
		}
		// /* covers every output and messages sent without one (outputName "").
		if g[1] == "/messages/modules/"+moduleName+"/*" && g[3] == "$upstream" {
			upstream = true
		}
	}
	if !upstream {
		t.Errorf("no route FROM /messages/modules/%s/* INTO $upstream in %v", moduleName, m.routes)
	}
	if !m.layered && m.ttl <= 0 {
		t.Error("storeAndForwardConfiguration.timeToLiveSecs must be set: edgeHub keeps messages that long while offline")
	}
}

// checkDesired validates the twin's desired properties against
// Microsoft's schema and our own configuration, and returns the event
// names the configuration enables.
func checkDesired(t *testing.T, m manifest) map[string]bool {
	validateTwin(t, m.desired)
	for _, obj := range []string{config.ObjectName, config.ModuleObjectName} {
		if !bytes.Contains(m.desired, []byte(`"`+obj+`"`)) {
			t.Errorf("desired properties lack the %s object", obj)
		}
	}
	res, err := mustStore(t).ApplyFull(m.desired)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for _, e := range res.Errors {
		t.Errorf("config: %v", e)
	}
	enabled := map[string]bool{}
	for _, n := range event.Names() {
		if res.Config.Priority(n) != event.Off {
			enabled[n] = true
		}
	}
	return enabled
}

func mustStore(t *testing.T) *config.Store {
	s, err := config.NewStore("")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkCreateOptions(t *testing.T, m manifest, enabled map[string]bool) {
	var co createOptions
	mustDecode(t, "createOptions", m.module.Settings.CreateOptions, &co, true)
	hc := co.HostConfig
	if hc.Privileged != nil && *hc.Privileged {
		t.Error("Privileged: never; add named capabilities instead")
	}
	if hc.NetworkMode != "host" || hc.PidMode != "host" {
		t.Errorf("NetworkMode %q, PidMode %q: both must be host (sockets, firewall and processes of the host)", hc.NetworkMode, hc.PidMode)
	}
	// edgeAgent attaches the module to its bridge network unless
	// EndpointsConfig is set (edge-contract.md §3.2).
	if co.NetworkingConfig == nil || co.NetworkingConfig.EndpointsConfig == nil {
		t.Error("NetworkingConfig.EndpointsConfig.host is required with host networking")
	} else if _, ok := co.NetworkingConfig.EndpointsConfig["host"]; !ok || len(co.NetworkingConfig.EndpointsConfig) != 1 {
		t.Errorf("EndpointsConfig %v: want exactly host", co.NetworkingConfig.EndpointsConfig)
	}
	if !hc.ReadonlyRootfs {
		t.Error("ReadonlyRootfs must be true; the state volume is the only writable path")
	}
	if !slices.Equal(hc.CapDrop, []string{"ALL"}) {
		t.Errorf("CapDrop %v: want [ALL], so CapAdd is the whole set", hc.CapDrop)
	}
	if !slices.Contains(hc.SecurityOpt, "no-new-privileges") {
		t.Error("SecurityOpt must hold no-new-privileges")
	}
	for _, c := range hc.CapAdd {
		use, ok := lookupCap(c)
		if !ok {
			t.Errorf("CapAdd %s: no collector needs it (see capabilities in capabilities_test.go)", c)
			continue
		}
		if !slices.ContainsFunc(use.Collectors, func(n string) bool { return enabled[n] }) {
			t.Errorf("CapAdd %s: only %v use it, and the twin disables them all", c, use.Collectors)
		}
	}
	if hc.LogConfig == nil || hc.LogConfig.Config["max-size"] == "" {
		t.Error("LogConfig needs a max-size, or the module's log grows without bound")
	}
	for _, p := range bindProblems(hc.Binds) {
		t.Error(p)
	}
}

// bindProblems allows read-only binds of host paths to the same path
// under the host root, and one writable named volume at the state
// directory; it returns what breaks that rule.
func bindProblems(binds []string) []string {
	var bad []string
	state := 0
	for _, b := range binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 || len(parts) > 3 {
			bad = append(bad, fmt.Sprintf("bind %q: want src:dst[:options]", b))
			continue
		}
		src, dst, opts := parts[0], parts[1], ""
		if len(parts) == 3 {
			opts = parts[2]
		}
		ro := slices.Contains(strings.Split(opts, ","), "ro")
		if !strings.HasPrefix(src, "/") {
			if dst != stateDir || ro {
				bad = append(bad, fmt.Sprintf("volume %q: the only volume is the writable state directory %s", b, stateDir))
			}
			state++
			continue
		}
		if !ro {
			bad = append(bad, fmt.Sprintf("bind %q: host paths are bound read-only", b))
		}
		if src == "/" || src == "/run" || src == "/var/run" || strings.HasSuffix(src, ".sock") || filepath.Clean(src) != src {
			bad = append(bad, fmt.Sprintf("bind %q: bind exactly the paths the collectors read; never /, /run or a socket", b))
		}
		if dst != hostRoot+src {
			bad = append(bad, fmt.Sprintf("bind %q: host path %s must appear at %s%s, where the collectors look for it", b, src, hostRoot, src))
		}
	}
	if state != 1 {
		bad = append(bad, fmt.Sprintf("want exactly one state volume at %s, have %d", stateDir, state))
	}
	return bad
}

func mustDecode(t *testing.T, what string, b []byte, v any, strict bool) {
	t.Helper()
	if len(b) == 0 {
		t.Fatalf("%s: missing, want %T", what, v)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func decodeAny(t *testing.T, what string, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func TestBindsRejected(t *testing.T) {
	state := "azureiotsecurity-state:" + stateDir
	for _, binds := range [][]string{
		{"/:/host:ro", state},
		{"/etc:/host/etc", state},
		{"/var/run/docker.sock:/host/var/run/docker.sock:ro", state},
		{"/etc:/etc:ro", state},
		{"/etc/../root:/host/root:ro", state},
		{"/etc:/host/etc:ro"},
		{state, "other:/data"},
		{"azureiotsecurity-state:" + stateDir + ":ro"},
		{"nocolon"},
	} {
		if len(bindProblems(binds)) == 0 {
			t.Errorf("binds %q accepted", binds)
		}
	}
	if p := bindProblems([]string{"/etc:/host/etc:ro", "/var/log:/host/var/log:ro,rslave", state}); len(p) != 0 {
		t.Errorf("good binds refused: %v", p)
	}
}
