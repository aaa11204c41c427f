package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/google/go-cmp/cmp"
)

// wantErr is an expected KeyError. Message is a prefix: TypeMismatch and
// clamping explain the cause in free text, cross-key rules match exactly.
type wantErr struct {
	Key     string
	Type    ErrorType
	Used    string
	Message string
}

func tm(key, used string) wantErr {
	return wantErr{key, TypeMismatch, used, "Couldn't parse the following configuration: " + key + ": "}
}

func notOptimal(key, used string) wantErr {
	return wantErr{key, NotOptimal, used, ""}
}

func checkErrors(t *testing.T, got []KeyError, want []wantErr) {
	t.Helper()
	var g []wantErr
	for i, e := range got {
		w := wantErr{e.Key, e.Type, e.Used, e.Message}
		if i < len(want) && strings.HasPrefix(e.Message, want[i].Message) {
			w.Message = want[i].Message
		}
		g = append(g, w)
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// allGood is the Config of testdata/all.good.json.
func allGood() Config {
	c := Default()
	c.HighPriorityMessageFrequency = 2 * time.Minute
	c.LowPriorityMessageFrequency = 24 * time.Hour
	c.SnapshotFrequency = 90 * time.Minute
	c.MaxLocalCacheSizeInBytes = 1048576
	c.MaxMessageSizeInBytes = 65536
	for name, p := range map[string]event.Priority{
		"ConnectedHardware": event.Off, "ListeningPorts": event.Low, "ProcessCreate": event.High,
		"ProcessTerminate": event.High, "SystemInformation": event.High, "LocalUsers": event.Off,
		"Login": event.Low, "ConnectionCreate": event.High, "FirewallConfiguration": event.High,
		"OSBaseline": event.Off, "Diagnostic": event.Off, "ConfigurationError": event.High,
		"DroppedEventsStatistics": event.High, "MessageStatistics": event.Off,
	} {
		c.Priorities[name] = p
	}
	c.Aggregation = map[string]Aggregation{
		"ProcessCreate":    {false, 30 * time.Minute},
		"ConnectionCreate": {false, 2 * time.Hour},
		"ProcessTerminate": {false, 7 * 24 * time.Hour},
	}
	c.BaselineCustomChecksEnabled = true
	c.BaselineCustomChecksFilePath = "/etc/baseline/custom.xml"
	c.BaselineCustomChecksFileHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	c.HubResourceID = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Devices/IotHubs/hub"
	c.Module = ModuleSettings{LogLevel: "debug", DiagnosticMinimumSeverity: "Error", DiagnosticEventsPerMinute: 10,
		OutputName: "securityOutput", ListeningPortsCheckInterval: 30 * time.Second, ProcessBackend: "proc-connector", ProcessAuditRules: true,
		ConnectionBackend: "audit", ConnectionAuditRules: true, ConnectionIncludeLoopback: true, ConnectionIncludeSelf: true, SpoolEventTTL: 24 * time.Hour}
	return c
}

func TestDocuments(t *testing.T) {
	var typeMismatch []wantErr
	for _, k := range registry {
		typeMismatch = append(typeMismatch, tm(k.name, formatValue(k.def)))
	}
	typeMismatch = append(typeMismatch, tm("logLevle", ""))

	small := Default()
	small.HighPriorityMessageFrequency, small.LowPriorityMessageFrequency = time.Second, time.Second
	small.SnapshotFrequency = MaxDuration
	small.MaxLocalCacheSizeInBytes, small.MaxMessageSizeInBytes = 8192, 8192
	small.Aggregation["ProcessCreate"] = Aggregation{true, time.Second}
	small.Module.DiagnosticEventsPerMinute = 0
	small.Module.ListeningPortsCheckInterval = time.Second

	conflict := Default()
	conflict.HighPriorityMessageFrequency, conflict.LowPriorityMessageFrequency = 5*time.Hour, 5*time.Hour
	conflict.MaxLocalCacheSizeInBytes, conflict.MaxMessageSizeInBytes = 100000, 98304

	// After all.good.json, keys absent from wrapper.bad.json take their
	// defaults and the badly wrapped ones keep all.good.json's values.
	wrapped := Default()
	good := allGood()
	wrapped.HighPriorityMessageFrequency = good.HighPriorityMessageFrequency
	wrapped.LowPriorityMessageFrequency = good.LowPriorityMessageFrequency
	wrapped.SnapshotFrequency = good.SnapshotFrequency
	wrapped.MaxLocalCacheSizeInBytes = good.MaxLocalCacheSizeInBytes
	wrapped.Priorities["Login"] = good.Priorities["Login"]
	wrapped.Aggregation["ProcessCreate"] = Aggregation{false, time.Hour}
	wrapped.BaselineCustomChecksEnabled = true

	tests := []struct {
		file      string
		want      Config
		version   int64
		errs      []wantErr
		afterGood *Config // the config when all.good.json was applied first
	}{
		{"all.good.json", allGood(), 7, nil, nil},
		{"typemismatch.bad.json", Default(), 8, typeMismatch, &good},
		{"wrapper.bad.json", Default(), -1, []wantErr{
			tm("highPriorityMessageFrequency", "PT7M"), tm("lowPriorityMessageFrequency", "PT5H"),
			tm("snapshotFrequency", "PT13H"), tm("maxLocalCacheSizeInBytes", "2560000"),
			tm("eventPriorityLogin", "High"), tm("aggregationEnabledProcessCreate", "true"),
			tm("baselineCustomChecksEnabled", "false"),
		}, &wrapped},
		{"range.bad.json", small, -1, []wantErr{
			notOptimal("highPriorityMessageFrequency", "PT1S"), notOptimal("lowPriorityMessageFrequency", "PT1S"),
			notOptimal("snapshotFrequency", "P36500D"), notOptimal("maxLocalCacheSizeInBytes", "8192"),
			notOptimal("maxMessageSizeInBytes", "262144"), notOptimal("aggregationIntervalProcessCreate", "PT1S"),
			notOptimal("diagnosticEventsPerMinute", "0"), notOptimal("listeningPortsCheckInterval", "PT1S"),
			{"maxLocalCacheSizeInBytes", Conflict, "8192", "MaxLocalCacheSize is smaller than MaxMessageSize"},
		}, nil},
		{"conflict.bad.json", conflict, -1, []wantErr{
			{"maxMessageSizeInBytes", NotOptimal, "150000", "Message size should be multiple of 4096"},
			{"maxLocalCacheSizeInBytes", Conflict, "100000", "MaxLocalCacheSize is smaller than MaxMessageSize"},
			{"highPriorityMessageFrequency", Conflict, "PT5H", "High priority interval is longer than low priority interval"},
		}, nil},
		{"object.bad.json", Default(), 3, []wantErr{tm(ObjectName, ""), tm(ModuleObjectName, "")}, &good},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s := newTestStore(t, "")
			r, err := s.ApplyFull(b)
			if err != nil {
				t.Fatalf("ApplyFull: %v", err)
			}
			if diff := cmp.Diff(tt.want, r.Config); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			checkErrors(t, r.Errors, tt.errs)
			if r.Version != tt.version {
				t.Errorf("version = %d; want %d", r.Version, tt.version)
			}
			if wantChanged := !tt.want.Equal(Default()); r.Changed != wantChanged {
				t.Errorf("Changed = %v; want %v", r.Changed, wantChanged)
			}
			// A key that fails keeps the value a good document set before.
			if tt.afterGood != nil {
				s := newTestStore(t, "")
				goodDoc, _ := os.ReadFile(filepath.Join("testdata", "all.good.json"))
				mustApply(t, s.ApplyFull, string(goodDoc))
				r := mustApply(t, s.ApplyFull, string(b))
				if diff := cmp.Diff(*tt.afterGood, r.Config); diff != "" {
					t.Errorf("after all.good.json, config (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func newTestStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := NewStore(path)
	if err != nil {
		t.Fatalf("NewStore(%q): %v", path, err)
	}
	return s
}

func mustApply(t *testing.T, apply func([]byte) (Result, error), doc string) Result {
	t.Helper()
	r, err := apply([]byte(doc))
	if err != nil {
		t.Fatalf("apply %s: %v", doc, err)
	}
	return r
}
