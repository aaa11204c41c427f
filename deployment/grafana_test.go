package deployment

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

// firstOccurrence are labelled counters that have no series until the
// first event of their kind (a drop, a failed snapshot), so a healthy
// module's scrape lacks them. The dashboard may use them only if the
// top-level README documents them.
var firstOccurrence = []string{
	"azureiotsecurity_events_dropped_total",
	"azureiotsecurity_collector_errors_total",
	"azureiotsecurity_edgehub_messages_rejected_total",
	"azureiotsecurity_workload_api_errors_total",
}

// dashboardMetrics returns every metric name the dashboard's queries
// (panel targets and template variables) use.
func dashboardMetrics(t *testing.T, file string) []string {
	t.Helper()
	var exprs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(decodeAny(t, file, readFile(t, file)))
	name := regexp.MustCompile(`\b(?:azureiotsecurity|process|go)_[a-zA-Z0-9_]+`)
	set := map[string]bool{}
	for _, e := range exprs {
		for _, n := range name.FindAllString(e, -1) {
			set[n] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatalf("%s: no metric names in its queries", file)
	}
	return names
}

// TestGrafanaDashboard runs the module under the offline IoT Edge harness
// (workload API and an edgeHub-like broker), scrapes /metrics, and checks
// that every metric the dashboard queries is really exported.
func TestGrafanaDashboard(t *testing.T) {
	files, _ := filepath.Glob("grafana/*.json")
	if len(files) == 0 {
		t.Fatal("no dashboard in deployment/grafana")
	}
	var desired map[string]any
	mustDecode(t, "desired", loadManifest(t, "deployment.template.json").desired, &desired, false)
	addr, br, stop := startEdgeModule(t, desired)
	defer stop()
	// A desired patch and a direct method, so their counters have series.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := br.WaitConnected(ctx, br.ClientID()); err != nil {
		t.Fatalf("module did not connect to the broker: %v", err)
	}
	if err := br.WaitTwinGets(ctx, 1); err != nil {
		t.Fatalf("module did not read its twin: %v", err)
	}
	if _, err := br.PushDesired(map[string]any{"azureiotsecurityModule": map[string]any{"diagnosticEventsPerMinute": 30}}); err != nil {
		t.Fatal(err)
	}
	if status, body, err := br.Invoke(ctx, "GetStatus", nil); err != nil || status != 200 {
		t.Fatalf("GetStatus: %d %s %v", status, body, err)
	}

	var want []string
	for _, f := range files {
		want = append(want, dashboardMetrics(t, f)...)
	}
	readme := string(readFile(t, "../README.md"))
	var missing []string
	deadline := time.Now().Add(45 * time.Second)
	for {
		have := scrape(t, "http://"+addr+"/metrics")
		missing = missing[:0]
		for _, n := range want {
			if have[n] {
				continue
			}
			if slices.Contains(firstOccurrence, n) && strings.Contains(readme, "`"+n+"`") {
				continue
			}
			missing = append(missing, n)
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("the dashboard queries metrics the module does not export: %v", missing)
	}
}

// scrape returns the sample names of a Prometheus text exposition,
// histogram suffixes included (foo_bucket, foo_sum, foo_count).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// buildModule builds ./module into a temporary directory.
func buildModule(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "azureiotsecurity")
	cmd := exec.Command("go", "build", "-o", bin, "../module")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./module: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startEdgeModule runs the built module in edge mode against the offline
// harness, with a fast schedule, and returns its metrics address.
func startEdgeModule(t *testing.T, desired map[string]any) (addr string, br *edgetest.Broker, stop func()) {
	t.Helper()
	const hub, device, module, genID = "hub.example.net", "dev1", "azureiotsecurity", "637000000000000000"
	key := []byte("0123456789abcdef0123456789abcdef")
	ca, err := edgetest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	br, err = edgetest.NewBroker(edgetest.BrokerConfig{HubHostname: hub, DeviceID: device, ModuleID: module, ModuleKey: key, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = br.Close() })
	br.SetDesired(desired)
	// Unix socket paths are limited to 108 bytes; t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "wl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	wl, err := edgetest.NewWorkload(edgetest.WorkloadConfig{Dir: dir, ModuleID: module, GenerationID: genID, Key: key, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wl.Close() })

	bin := buildModule(t)
	addr = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--metrics-addr", addr, "--state-dir", t.TempDir(),
		"--snapshot-frequency", "PT2S", "--high-frequency", "PT1S", "--low-frequency", "PT2S")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 20 * time.Second
	cmd.Env = append(os.Environ(),
		"IOTEDGE_WORKLOADURI="+wl.URI(), "IOTEDGE_DEVICEID="+device, "IOTEDGE_MODULEID="+module,
		"IOTEDGE_MODULEGENERATIONID="+genID, "IOTEDGE_IOTHUBHOSTNAME="+hub, "IOTEDGE_GATEWAYHOSTNAME=localhost",
		"IOTEDGE_AUTHSCHEME=sasToken", "IOTEDGE_APIVERSION=2022-08-03",
		"AZUREIOTSECURITY_MQTT_PORT="+strconv.Itoa(br.Port()))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("module log:\n%s", tail(logs.String(), 4000))
		}
	}
	return addr, br, stop
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
