package event

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

var (
	when  = time.Date(2024, 5, 1, 12, 15, 57, 0, time.UTC)
	agent = Envelope{AgentVersion: "1.0.0", AgentID: "7aaeef0e-614f-4ff2-97d2-1442186f73fa"}
)

func ptr[T any](v T) *T { return &v }

// examples holds one event of every kind the module can emit, with every
// payload field set, including the aggregated form of the triggered kinds.
func examples() map[string]Event {
	ev := func(name string, items ...any) Event {
		e := New(name, when, items...)
		e.ID = "08c2c0c1-007b-4388-88b3-0809888bc4e7"
		return e
	}
	agg := map[string]string{"Aggregated": "true", "HitCount": "4", "StartTimeUtc": "2024-05-01T11:15:57.000Z", "StartTimeLocal": "2024-05-01T13:15:57.000+02:00", "EndTimeUtc": "2024-05-01T12:15:57.000Z", "EndTimeLocal": "2024-05-01T14:15:57.000+02:00"}
	return map[string]Event{
		"ProcessCreate": ev(NameProcessCreate, ProcessCreate{Executable: "/usr/sbin/nscd", ProcessID: 7273, ParentProcessID: 1365, UserID: "112", UserName: "nscd",
			CommandLine: "worker_nscd 0", ExtraDetails: map[string]string{"Hash": "e75ba7efa22421d9ae08b141f437cee05a09db32578f41939bcc70f8811bdf87", "Container": "edgeHub"}}),
		"ProcessCreateAggregated": ev(NameProcessCreate, ProcessCreate{Executable: "/bin/cat", UserID: "1000", CommandLine: "cat /etc/passwd", ExtraDetails: agg}),
		"ProcessTerminate":        ev(NameProcessTerminate, ProcessTerminate{Executable: "/bin/cat", ProcessID: 19552, ExitStatus: 1, ExtraDetails: map[string]string{"LifetimeMs": "12"}}),
		"ConnectionCreate": ev(NameConnectionCreate, ConnectionCreate{RemoteAddress: "93.184.216.34", RemotePort: "443", LocalAddress: "10.0.0.4", LocalPort: "59941",
			Direction: "Out", Protocol: "tcp", ProcessID: 4242, UserID: "1000", Executable: "/usr/bin/curl", CommandLine: "curl https://example.com"}),
		"ConnectionCreateIPv6": ev(NameConnectionCreate, ConnectionCreate{RemoteAddress: "2001:db8::1", RemotePort: "22", Direction: "In", Protocol: "tcp", ProcessID: 812, Executable: "/usr/sbin/sshd"}),
		"Login": ev(NameLogin, Login{ProcessID: 1082, UserID: "1000", UserName: "kfir", Operation: "PAM:authentication", Executable: "/usr/sbin/sshd",
			RemoteAddress: "192.168.50.241", RemotePort: "53123", LocalPort: "22", Result: "Fail"}),
		"ListeningPorts": ev(NameListeningPorts, ListeningPort{Protocol: "tcp", LocalAddress: "0.0.0.0", LocalPort: "22", RemoteAddress: "0.0.0.0", RemotePort: "*", ExtraDetails: map[string]string{"Pid": "812"}},
			ListeningPort{Protocol: "udp6", LocalAddress: "::", LocalPort: "5353"}),
		"LocalUsers": ev(NameLocalUsers, LocalUser{UserName: "kfir", UserID: "1000", GroupNames: "kfir;adm;sudo", GroupIDs: "1000;4;27"}),
		"FirewallConfiguration": ev(NameFirewallConfiguration, FirewallRule{Priority: ptr[int64](0), Direction: "In", ChainName: "INPUT", Enabled: true, Action: "Allow",
			SourceAddress: "10.0.0.0/8", SourcePort: "1024-65535", DestinationAddress: "10.0.0.4", DestinationPort: "22", Protocol: "tcp", ExtraDetails: map[string]string{"Table": "filter", "Family": "ip"}}),
		"SystemInformation": ev(NameSystemInformation, SystemInformation{OSName: "Debian GNU/Linux", OSVersion: "12", OSVendor: "debian", OsArchitecture: "x86_64", HostName: "edge-01",
			BIOSVersion: "1.0", BootDevice: "/dev/vda1", TotalPhysicalMemoryInKB: ptr[int64](4030020), FreePhysicalMemoryInKB: ptr[int64](312344),
			TotalVirtualMemoryInKB: ptr[int64](5030020), FreeVirtualMemoryInKB: ptr[int64](1312344)}),
		"OSBaseline":              ev(NameOSBaseline, BaselineResult{Description: "Ensure rp_filter is enabled", CceID: "CCE-4080-8", Result: "Fail", Error: "/proc/sys/net/ipv4/conf/all/rp_filter is 0, want 1", Severity: "Important"}),
		"OSBaselineEmpty":         ev(NameOSBaseline),
		"ConnectedHardware":       ev(NameConnectedHardware, ConnectedHardware{HardwareCategory: "USB", HardwareSubCategory: "Mass storage", HardwareName: "SanDisk Ultra"}),
		"Diagnostic":              ev(NameDiagnostic, DiagnosticRecord{CorrelationID: "710fe408-c468-442e-ae3a-3228827271b5", Severity: "Warning", Message: "snapshot failed", ProcessID: 1, ThreadID: 7}),
		"ConfigurationError":      ev(NameConfigurationError, ConfigurationError{ConfigurationName: "maxMessageSizeInBytes", ErrorType: "NotOptimal", UsedConfiguration: "100000", Message: "Message size should be multiple of 4096"}),
		"DroppedEventsStatistics": ev(NameDroppedEventsStatistics, DroppedEvents{Queue: "High", CollectedEvents: 120}, DroppedEvents{Queue: "Low", CollectedEvents: 3311, DroppedEvents: 17}),
		"MessageStatistics":       ev(NameMessageStatistics, MessageStatistics{MessagesSent: 5, MessagesUnder4KB: 2, TotalFailed: 0}),
	}
}

func message(t *testing.T, evs ...Event) []byte {
	t.Helper()
	var datas [][]byte
	for _, e := range evs {
		b, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		datas = append(datas, b)
	}
	return agent.AppendMessage(nil, datas)
}

// TestGoldenEvents pins the wire form of every event kind. The schema
// check of the same messages is in TestGoldenEventsMatchSchema
// (schema_test.go), which skips without ../shared/schemas.
func TestGoldenEvents(t *testing.T) {
	for name, ev := range examples() {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := json.Indent(&out, message(t, ev), "", "  "); err != nil {
				t.Fatal(err)
			}
			// The local timestamp depends on the machine's zone.
			got := strings.ReplaceAll(out.String(), when.Local().Format(LocalLayout), "LOCAL")
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update ./internal/event/ to create it)", err)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(got)); diff != "" {
				t.Fatalf("golden mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEveryKindHasAnExample(t *testing.T) {
	seen := map[string]bool{}
	for _, ev := range examples() {
		seen[ev.Name] = true
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("no golden example for %s", n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for name, ev := range examples() {
		m, err := DecodeMessage(message(t, ev))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := m.Events[0]
		if got.Name != ev.Name || got.ID != ev.ID || !got.Time.Equal(ev.Time) || len(got.Payload) != len(ev.Payload) {
			t.Fatalf("%s: round trip changed the event: %+v", name, got)
		}
		again, err := Encode(Event{ID: got.ID, Time: got.Time, Name: got.Name, Category: got.Category, Type: got.Type, Payload: got.Payload})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Encode(ev)
		if !bytes.Equal(again, want) {
			t.Fatalf("%s: re-encoded differs\n%s\n%s", name, again, want)
		}
	}
}

func TestMessageSizeIsExact(t *testing.T) {
	evs := []Event{examples()["Login"], examples()["LocalUsers"], examples()["Diagnostic"]}
	total := 0
	for _, e := range evs {
		b, _ := Encode(e)
		total += len(b)
	}
	if got, want := len(message(t, evs...)), agent.MessageSize(len(evs), total); got != want {
		t.Fatalf("MessageSize = %d, real size %d", want, got)
	}
	if agent.MessageSize(0, 0) != agent.Overhead() {
		t.Fatal("empty message size")
	}
}

func TestTimestamps(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	b, _ := Encode(Event{ID: "x", Time: time.Date(2024, 5, 1, 14, 15, 57, 0, loc), Name: NameLogin, Category: Triggered, Type: Security})
	if !bytes.Contains(b, []byte(`"TimestampUTC":"2024-05-01T12:15:57.000Z"`)) {
		t.Fatalf("UTC timestamp: %s", b)
	}
}

// TestGoldenEventsMatchSchema validates every example, and all of them in
// one message, against Microsoft's schemas.
func TestGoldenEventsMatchSchema(t *testing.T) {
	var all []Event
	for name, ev := range examples() {
		t.Run(name, func(t *testing.T) { schematest.Validate(t, message(t, ev)) })
		all = append(all, ev)
	}
	schematest.Validate(t, message(t, all...))
}
