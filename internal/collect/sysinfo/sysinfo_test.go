package sysinfo

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// collectAll runs a collector over root with a fixed uname fallback.
func collectAll(t *testing.T, root hostfs.Root) ([]event.Event, error) {
	t.Helper()
	log, _ := logtest.NewNullLogger()
	c, err := New(collect.Deps{Root: root, Logger: logrus.NewEntry(log)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.(*Collector).machine = func() string { return "uname-machine" }
	var evs []event.Event
	err = c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) })
	return evs, err
}

// one returns the single payload item of a single SystemInformation event.
func one(t *testing.T, evs []event.Event) *event.SystemInformation {
	t.Helper()
	if len(evs) != 1 || evs[0].Name != event.NameSystemInformation || len(evs[0].Payload) != 1 {
		t.Fatalf("got %v, want one SystemInformation event with one item", evs)
	}
	return evs[0].Payload[0].(*event.SystemInformation)
}

func TestCollectFixture(t *testing.T) {
	evs, err := collectAll(t, "testdata/host")
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	one(t, evs)
	got, err := json.MarshalIndent(evs[0].Payload, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "systeminformation.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("payload differs from %s (-want +got):\n%s", path, diff)
	}
	collecttest.CheckMessage(t, evs)
}

func TestCollectFallbacks(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *event.SystemInformation
	}{
		{
			name: "usr/lib/os-release, kernel hostname, uname, device tree",
			files: map[string]string{
				"usr/lib/os-release":                 "PRETTY_NAME=\"Raspbian GNU/Linux 11 (bullseye)\"\nVERSION_ID=\"11\"\nID=raspbian\n",
				"etc/hostname":                       "# set by the installer\n\n",
				"proc/sys/kernel/hostname":           "pi\n",
				"sys/firmware/devicetree/base/model": "Raspberry Pi 4 Model B Rev 1.4\x00",
			},
			want: &event.SystemInformation{
				OSName: "Raspbian GNU/Linux 11 (bullseye)", OSVendor: "raspbian", OSVersion: "11",
				OsArchitecture: "uname-machine", HostName: "pi",
				ExtraDetails: map[string]string{
					"OSPrettyName":    "Raspbian GNU/Linux 11 (bullseye)",
					"DeviceTreeModel": "Raspberry Pi 4 Model B Rev 1.4",
				},
			},
		},
		{
			name: "kernel only",
			files: map[string]string{
				"proc/sys/kernel/ostype":    "Linux\n",
				"proc/sys/kernel/osrelease": "6.1.0-18-arm64\n",
				"proc/meminfo":              "MemTotal: 1000 kB\nMemFree: 100 kB\n",
				"proc/cmdline":              "console=ttyAMA0 -- root=/dev/not-the-kernel's\n",
			},
			want: &event.SystemInformation{
				OSName: "Linux", OSVersion: "kernel 6.1.0-18-arm64", OsArchitecture: "uname-machine",
				TotalPhysicalMemoryInKB: ptr(1000), FreePhysicalMemoryInKB: ptr(100),
				ExtraDetails: map[string]string{"KernelRelease": "6.1.0-18-arm64"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := collectAll(t, collecttest.WriteHost(t, tt.files))
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if diff := cmp.Diff(tt.want, one(t, evs)); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			collecttest.CheckMessage(t, evs)
		})
	}
}

func ptr(v int64) *int64 { return &v }

func TestCollectNothingReadable(t *testing.T) {
	evs, err := collectAll(t, hostfs.Root(t.TempDir()))
	if err == nil || len(evs) != 0 {
		t.Errorf("empty root: got %d events, err %v; want an error", len(evs), err)
	}
}

// TestCollectHost reads this machine's own /proc and /etc.
func TestCollectHost(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	evs, err := collectAll(t, "/")
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	info := one(t, evs)
	b, _ := json.Marshal(info)
	t.Logf("this host: %s", b)
	if info.TotalPhysicalMemoryInKB == nil || *info.TotalPhysicalMemoryInKB <= 0 {
		t.Errorf("TotalPhysicalMemoryInKB = %v, want > 0", info.TotalPhysicalMemoryInKB)
	}
	if info.FreePhysicalMemoryInKB == nil || *info.FreePhysicalMemoryInKB > *info.TotalPhysicalMemoryInKB {
		t.Errorf("FreePhysicalMemoryInKB = %v, want at most the total", info.FreePhysicalMemoryInKB)
	}
	if info.HostName == "" || info.OSName == "" || info.OSVersion == "" || info.OsArchitecture == "" {
		t.Errorf("empty identity fields in %+v", info)
	}
	collecttest.CheckMessage(t, evs)
}
