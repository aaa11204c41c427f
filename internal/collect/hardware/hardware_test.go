package hardware

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func newCollector(t testing.TB, d collect.Deps) *Collector {
	t.Helper()
	if d.Logger == nil {
		log, _ := logtest.NewNullLogger()
		d.Logger = logrus.NewEntry(log)
	}
	c, err := New(d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// collectOnce runs one snapshot and returns its single event's payload.
func collectOnce(t *testing.T, c *Collector) ([]event.Event, error) {
	t.Helper()
	var evs []event.Event
	err := c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) })
	if len(evs) > 1 {
		t.Fatalf("got %d events, want at most one", len(evs))
	}
	return evs, err
}

// copyHost copies the fixture host, links and all, so a test can plug
// and unplug devices in it.
func copyHost(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "host")
	if out, err := exec.Command("cp", "-a", "testdata/host", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dst
}

func TestCollectFixture(t *testing.T) {
	c := newCollector(t, collect.Deps{Root: "testdata/host"})
	evs, err := collectOnce(t, c)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || evs[0].Name != event.NameConnectedHardware {
		t.Fatalf("got %v, want one ConnectedHardware event", evs)
	}
	collecttest.CheckGolden(t, "connectedhardware.golden.json", evs[0].Payload, *update)
	collecttest.CheckMessage(t, evs)
}

// changes lists "Change Category Name" for the marked items of evs.
func changes(evs []event.Event) []string {
	var out []string
	for _, ev := range evs {
		for _, p := range ev.Payload {
			it := p.(*event.ConnectedHardware)
			if ch := it.ExtraDetails["Change"]; ch != "" {
				out = append(out, ch+" "+it.HardwareCategory+" "+it.HardwareName)
			}
		}
	}
	return out
}

func TestCollectChanges(t *testing.T) {
	host := copyHost(t)
	stateDir := t.TempDir()
	reg := prometheus.NewRegistry()
	deps := collect.Deps{Root: hostfs.Root(host), StateDir: stateDir, Registerer: reg}
	c := newCollector(t, deps)

	// The first snapshot is the baseline: nothing is marked.
	evs, err := collectOnce(t, c)
	if err != nil || len(changes(evs)) != 0 {
		t.Fatalf("first snapshot: changes %v, err %v; want none", changes(evs), err)
	}
	if _, err := os.Stat(filepath.Join(stateDir, stateFile)); err != nil {
		t.Fatalf("state not saved: %v", err)
	}

	// Unplug the USB stick (device and disk); a new interface appears.
	for _, l := range []string{"sys/bus/usb/devices/1-1.2", "sys/block/sdb"} {
		if err := os.Remove(filepath.Join(host, l)); err != nil {
			t.Fatal(err)
		}
	}
	wg := filepath.Join(host, "sys/devices/virtual/net/wg0")
	if err := os.MkdirAll(wg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wg, "type"), []byte("65534\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../devices/virtual/net/wg0", filepath.Join(host, "sys/class/net/wg0")); err != nil {
		t.Fatal(err)
	}
	// A collector started afresh (module restart) diffs against the file.
	c = newCollector(t, deps)
	evs, err = collectOnce(t, c)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	want := []string{"added Network wg0", "removed Block SanDisk 3.2Gen1", "removed USB SanDisk 3.2Gen1"}
	if diff := cmp.Diff(want, changes(evs)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	collecttest.CheckMessage(t, evs)

	// Changes fire once.
	evs, err = collectOnce(t, c)
	if err != nil || len(changes(evs)) != 0 {
		t.Errorf("third snapshot: changes %v, err %v; want none", changes(evs), err)
	}
	n := len(evs[0].Payload)
	if n != 17 {
		t.Errorf("third snapshot holds %d devices, want 17 (18 in the fixture, one unplugged twice, one added)", n)
	}
	want2 := `
# HELP azureiotsecurity_hardware_changes_total Devices reported as added or removed by ConnectedHardware snapshots.
# TYPE azureiotsecurity_hardware_changes_total counter
azureiotsecurity_hardware_changes_total{change="added"} 1
azureiotsecurity_hardware_changes_total{change="removed"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want2), "azureiotsecurity_hardware_changes_total"); err != nil {
		t.Error(err)
	}
}

// TestCollectUnlistableCategory: a category that cannot be listed is an
// error, but its devices are neither reported nor reported removed.
func TestCollectUnlistableCategory(t *testing.T) {
	host := copyHost(t)
	c := newCollector(t, collect.Deps{Root: hostfs.Root(host), StateDir: t.TempDir()})
	if _, err := collectOnce(t, c); err != nil {
		t.Fatal(err)
	}
	net := filepath.Join(host, "sys/class/net")
	if err := os.RemoveAll(net); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(net, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, err := collectOnce(t, c)
	if err == nil || !strings.Contains(err.Error(), "Network devices") {
		t.Errorf("err = %v, want the Network listing error", err)
	}
	if len(evs) != 1 || len(changes(evs)) != 0 {
		t.Fatalf("got %d events with changes %v; want the other devices, unchanged", len(evs), changes(evs))
	}
	// Once the category is back, its devices were never gone.
	if err := os.Remove(net); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", "testdata/host/sys/class/net", net).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if evs, err := collectOnce(t, c); err != nil || len(changes(evs)) != 0 {
		t.Errorf("changes %v, err %v; want none", changes(evs), err)
	}
}

func TestCollectNoHardware(t *testing.T) {
	c := newCollector(t, collect.Deps{Root: hostfs.Root(t.TempDir())})
	if evs, err := collectOnce(t, c); !errors.Is(err, collect.ErrNoData) || len(evs) != 0 {
		t.Errorf("got %d events, err %v; want ErrNoData", len(evs), err)
	}
}

func TestCollectCorruptState(t *testing.T) {
	stateDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(stateDir, stateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, hook := logtest.NewNullLogger()
	c := newCollector(t, collect.Deps{Root: "testdata/host", StateDir: stateDir, Logger: logrus.NewEntry(log)})
	evs, err := collectOnce(t, c)
	if err != nil || len(changes(evs)) != 0 {
		t.Fatalf("changes %v, err %v; want a new baseline", changes(evs), err)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || e.Data["collector"] != event.NameConnectedHardware {
		t.Errorf("last log entry = %+v, want a warning naming the collector", e)
	}
	if _, err := loadState(stateDir); err != nil {
		t.Errorf("state not rewritten: %v", err)
	}
}

// TestNewTwice: the runner builds the collector again each time the event
// is switched back on, with the same registry.
func TestNewTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	for range 2 {
		newCollector(t, collect.Deps{Root: "testdata/host", Registerer: reg})
	}
	if n := testutil.CollectAndCount(reg); n != 8 {
		t.Errorf("%d series, want 8", n)
	}
}

// TestCollectHost reads this machine's own sysfs.
func TestCollectHost(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skipf("no sysfs with a loopback interface: %v", err)
	}
	c := newCollector(t, collect.Deps{Root: "/", StateDir: t.TempDir()})
	evs, err := collectOnce(t, c)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	var lo *event.ConnectedHardware
	for _, p := range evs[0].Payload {
		it := p.(*event.ConnectedHardware)
		if it.HardwareCategory == CategoryNetwork && it.HardwareName == "lo" {
			lo = it
		}
		if it.HardwareCategory == "" || it.HardwareSubCategory == "" || it.HardwareName == "" {
			t.Errorf("incomplete item %+v", it)
		}
	}
	want := &event.ConnectedHardware{HardwareCategory: "Network", HardwareSubCategory: "Loopback", HardwareName: "lo"}
	if lo == nil || lo.HardwareSubCategory != want.HardwareSubCategory || lo.ExtraDetails["Virtual"] != "true" {
		t.Errorf("lo = %+v, want %+v, virtual", lo, want)
	}
	t.Logf("%d devices on this host", len(evs[0].Payload))
	collecttest.CheckMessage(t, evs)
	if evs, err := collectOnce(t, c); err != nil || len(changes(evs)) != 0 {
		t.Errorf("second snapshot: changes %v, err %v; want none", changes(evs), err)
	}
}

// BenchmarkCollect times one snapshot of the fixture (18 devices, names
// from the ids excerpts) and of this host, diff and state file included.
func BenchmarkCollect(b *testing.B) {
	for _, root := range []string{"testdata/host", "/"} {
		b.Run(strings.NewReplacer("/", "_").Replace(root), func(b *testing.B) {
			c := newCollector(b, collect.Deps{Root: hostfs.Root(root), StateDir: b.TempDir()})
			for b.Loop() {
				if err := c.Collect(context.Background(), func(event.Event) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
