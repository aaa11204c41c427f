package baseline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// typicalHost is the hardened host with the mistakes often found on
// devices, and one sysctl the kernel lacks, so the golden shows Pass,
// Fail (with remediation), Err and not applicable results.
func typicalHost(t testing.TB) string {
	root := hardenedHost(t)
	all(
		write("proc/sys/net/ipv4/ip_forward", "1\n"),
		remove("proc/sys/net/ipv4/tcp_syncookies"),
		write("etc/ssh/sshd_config.d/00-local.conf", "PermitRootLogin yes\n"),
		chmod("etc/shadow", 0o644),
		appendLine("var/lib/dpkg/status", "Package: telnetd\nStatus: install ok installed\n"),
		symlink("/lib/systemd/system/avahi-daemon.socket", "etc/systemd/system/sockets.target.wants/avahi-daemon.socket"),
		remove("etc/rsyslog.conf"),
	)(t, root)
	return root
}

func collectOn(t *testing.T, d collect.Deps) []event.Event {
	t.Helper()
	c, err := New(d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var evs []event.Event
	if err := c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) }); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return evs
}

func TestCollectFixture(t *testing.T) {
	reg := prometheus.NewRegistry()
	evs := collectOn(t, collect.Deps{Root: hostfs.Root(typicalHost(t)), Registerer: reg})
	if len(evs) != 1 || evs[0].Name != event.NameOSBaseline {
		t.Fatalf("got %v, want one OSBaseline event", evs)
	}
	collecttest.CheckGolden(t, "osbaseline.golden.json", evs[0].Payload, *update)
	collecttest.CheckMessage(t, evs)

	got := map[string]string{}
	for _, p := range evs[0].Payload {
		r := p.(*event.BaselineResult)
		if r.Result != "Pass" || r.ExtraDetails[detailNotApplicable] != "" {
			got[r.ExtraDetails[detailCheckID]] = resultLabel(r)
		}
	}
	want := map[string]string{
		"ip-forward-disabled": "fail", "tcp-syncookies": "err", "sshd-permit-root-login": "fail",
		"etc-shadow-mode": "fail", "telnetd-absent": "fail", "avahi-disabled": "fail",
		"rsyslog-no-remote-input": "not_applicable", "rsyslog-file-create-mode": "not_applicable",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results other than Pass (-want +got):\n%s", diff)
	}
	if v := testutil.ToFloat64(mustResults(t, reg).WithLabelValues("fail", sourceBuiltin)); v != 5 {
		t.Errorf("fail results counted: %v, want 5", v)
	}
}

func mustResults(t *testing.T, reg *prometheus.Registry) *prometheus.CounterVec {
	t.Helper()
	m, err := newMetrics(reg) // already registered: returns the live counters
	if err != nil {
		t.Fatal(err)
	}
	return m.results
}

const customChecks = `{"checks": [
 {"id": "site-ntp-server", "description": "The site NTP server should be configured", "severity": "Warning",
  "remediation": "Add server ntp.example.com to /etc/chrony/chrony.conf",
  "check": {"fileContentMatches": {"path": "/etc/chrony/chrony.conf", "pattern": "^server ntp\\.example\\.com"}}},
 {"id": "site-no-root-ssh", "description": "Root must not log in over SSH", "severity": "Critical", "cceId": "CCE-0000-0",
  "check": {"sshdConfig": {"key": "PermitRootLogin", "op": "eq", "value": "no"}}}
]}`

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// customDeps is a hardened host holding the custom file, configured by cfg.
func customDeps(t *testing.T, content string, cfg func(*config.Config)) (collect.Deps, string) {
	root := hardenedHost(t)
	write("opt/baseline/custom.json", content)(t, root)
	c := config.Default()
	c.BaselineCustomChecksEnabled = true
	c.BaselineCustomChecksFilePath = "/opt/baseline/custom.json"
	c.BaselineCustomChecksFileHash = sha(content)
	if cfg != nil {
		cfg(&c)
	}
	return collect.Deps{Root: hostfs.Root(root), Config: func() config.Config { return c }}, root
}

func TestCustomChecks(t *testing.T) {
	d, _ := customDeps(t, customChecks, func(c *config.Config) {
		c.BaselineCustomChecksFileHash = strings.ToUpper(c.BaselineCustomChecksFileHash) // either case
	})
	evs := collectOn(t, d)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want only OSBaseline", len(evs))
	}
	collecttest.CheckMessage(t, evs)
	items := evs[0].Payload
	n := len(items)
	got := []event.BaselineResult{*items[n-2].(*event.BaselineResult), *items[n-1].(*event.BaselineResult)}
	want := []event.BaselineResult{
		{Description: "The site NTP server should be configured", Result: "Fail", Severity: "Warning",
			Error: "/etc/chrony/chrony.conf does not exist",
			ExtraDetails: map[string]string{detailCheckID: "site-ntp-server", detailSource: sourceCustom,
				detailRemediation: "Add server ntp.example.com to /etc/chrony/chrony.conf"}},
		{Description: "Root must not log in over SSH", CceID: "CCE-0000-0", Result: "Pass", Severity: "Critical",
			ExtraDetails: map[string]string{detailCheckID: "site-no-root-ssh", detailSource: sourceCustom}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("custom results (-want +got):\n%s", diff)
	}
}

// TestCustomChecksRejected: a file that is not what the twin vouches for,
// or not a valid checks file, is never used; the problem is reported once
// as a ConfigurationError, and the built-in results still go out.
func TestCustomChecksRejected(t *testing.T) {
	tests := []struct {
		name, content string
		cfg           func(*config.Config)
		key, errType  string
		msg           string
	}{
		{"hash mismatch", customChecks, func(c *config.Config) { c.BaselineCustomChecksFileHash = sha("something else") },
			keyHash, "Conflict", "has SHA-256 " + sha(customChecks)},
		{"file changed after the twin", customChecks + " ", func(c *config.Config) { c.BaselineCustomChecksFileHash = sha(customChecks) },
			keyHash, "Conflict", "the twin expects " + sha(customChecks)},
		{"missing file", customChecks, func(c *config.Config) { c.BaselineCustomChecksFilePath = "/opt/baseline/gone.json" },
			keyPath, "TypeMismatch", "/opt/baseline/gone.json does not exist on the host"},
		{"a directory", customChecks, func(c *config.Config) { c.BaselineCustomChecksFilePath = "/opt/baseline" },
			keyPath, "TypeMismatch", "/opt/baseline is not a regular file"},
		{"not json", "checks: [rm -rf /]", nil, keyPath, "TypeMismatch", "invalid checks file"},
		{"unknown kind", `{"checks":[{"id":"x","description":"d","severity":"Warning","check":{"shell":{"command":"id"}}}]}`, nil,
			keyPath, "TypeMismatch", `unknown field "shell"`},
		{"no path", customChecks, func(c *config.Config) { c.BaselineCustomChecksFilePath = "" },
			keyEnabled, "Conflict", "is empty"},
		{"no hash", customChecks, func(c *config.Config) { c.BaselineCustomChecksFileHash = "" },
			keyEnabled, "Conflict", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := customDeps(t, tt.content, tt.cfg)
			reg := prometheus.NewRegistry()
			d.Registerer = reg
			c, err := New(d)
			if err != nil {
				t.Fatal(err)
			}
			var evs []event.Event
			emit := func(ev event.Event) { evs = append(evs, ev) }
			if err := c.Collect(context.Background(), emit); err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || evs[0].Name != event.NameOSBaseline || evs[1].Name != event.NameConfigurationError {
				t.Fatalf("got %d events, want OSBaseline then ConfigurationError", len(evs))
			}
			collecttest.CheckMessage(t, evs)
			if got := len(evs[0].Payload); got != len(c.builtin) {
				t.Errorf("%d results, want the %d built-in ones only", got, len(c.builtin))
			}
			ce := evs[1].Payload[0].(event.ConfigurationError)
			if ce.ConfigurationName != tt.key || ce.ErrorType != tt.errType || !strings.Contains(ce.Message, tt.msg) {
				t.Errorf("ConfigurationError %+v, want key %s, type %s, message with %q", ce, tt.key, tt.errType, tt.msg)
			}
			// The same problem is not repeated at the next snapshot.
			evs = nil
			if err := c.Collect(context.Background(), emit); err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Errorf("second snapshot: %d events, want the OSBaseline event only", len(evs))
			}
			var total float64
			for _, r := range []string{"config", "read", "hash", "parse"} {
				total += testutil.ToFloat64(c.metrics.customErrors.WithLabelValues(r))
			}
			if total != 2 {
				t.Errorf("custom errors counted: %v, want 2", total)
			}
		})
	}
}

func TestCustomChecksOff(t *testing.T) {
	d, root := customDeps(t, customChecks, func(c *config.Config) { c.BaselineCustomChecksEnabled = false })
	if err := os.Remove(filepath.Join(root, "opt/baseline/custom.json")); err != nil {
		t.Fatal(err)
	}
	evs := collectOn(t, d)
	if len(evs) != 1 || evs[0].Name != event.NameOSBaseline {
		t.Fatalf("got %d events, want one OSBaseline event", len(evs))
	}
}

func TestCollectCancelled(t *testing.T) {
	c, err := New(collect.Deps{Root: "testdata/host"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Collect(ctx, func(event.Event) { t.Error("emitted after cancel") }); err == nil {
		t.Error("Collect on a cancelled context: nil error")
	}
}

func TestRegistered(t *testing.T) {
	found := false
	for _, n := range collect.Registered() {
		found = found || n == event.NameOSBaseline
	}
	if !found {
		t.Error("OSBaseline is not registered")
	}
}
