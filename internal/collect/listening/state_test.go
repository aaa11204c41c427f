package listening

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func testEntry(proto, addr string, port uint16, inode uint64) entry {
	k := key{proto, netip.MustParseAddr(addr), port, inode}
	return entry{Key: k, Item: event.ListeningPort{Protocol: proto, LocalAddress: addr, LocalPort: strconv.Itoa(int(port)),
		RemoteAddress: "0.0.0.0", RemotePort: "*", ExtraDetails: map[string]string{"Inode": strconv.FormatUint(inode, 10)}}}
}

func changes(items []event.ListeningPort) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		m[it.Protocol+" "+it.LocalPort+" "+it.ExtraDetails["Inode"]] = it.ExtraDetails["Change"]
	}
	return m
}

func TestDiff(t *testing.T) {
	ssh := testEntry("tcp", "0.0.0.0", 22, 10)
	web := testEntry("tcp6", "::", 80, 11)
	webRestarted := testEntry("tcp6", "::", 80, 12)
	dns := testEntry("udp", "127.0.0.1", 53, 13)
	tests := []struct {
		name                 string
		prev                 state
		cur                  []entry
		want                 map[string]string
		wantAdded, wantRemov int
	}{
		{"no baseline marks nothing", nil, []entry{ssh, web}, map[string]string{"tcp 22 10": "", "tcp6 80 11": ""}, 0, 0},
		{"unchanged", newState([]entry{ssh, web}), []entry{ssh, web}, map[string]string{"tcp 22 10": "", "tcp6 80 11": ""}, 0, 0},
		{"added and removed", newState([]entry{ssh, web}), []entry{ssh, dns},
			map[string]string{"tcp 22 10": "", "udp 53 13": ChangeAdded, "tcp6 80 11": ChangeRemoved}, 1, 1},
		{"restart is a new socket", newState([]entry{web}), []entry{webRestarted},
			map[string]string{"tcp6 80 12": ChangeAdded, "tcp6 80 11": ChangeRemoved}, 1, 1},
		{"all closed", newState([]entry{ssh}), nil, map[string]string{"tcp 22 10": ChangeRemoved}, 0, 1},
		{"empty baseline", state{}, []entry{ssh}, map[string]string{"tcp 22 10": ChangeAdded}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, added, removed := diff(tt.prev, tt.cur)
			if diff := cmp.Diff(tt.want, changes(items)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if added != tt.wantAdded || removed != tt.wantRemov {
				t.Errorf("added %d removed %d, want %d %d", added, removed, tt.wantAdded, tt.wantRemov)
			}
		})
	}
	// Marking must not touch the items the state keeps.
	prev := newState([]entry{ssh})
	diff(prev, []entry{web})
	diff(prev, nil)
	if _, ok := prev[ssh.Key].ExtraDetails["Change"]; ok || web.Item.ExtraDetails["Change"] != "" {
		t.Fatal("diff modified its inputs")
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if s, err := loadState(dir); s != nil || err != nil {
		t.Fatalf("no file: %v %v, want nil nil", s, err)
	}
	cur := []entry{testEntry("tcp", "0.0.0.0", 22, 10), testEntry("udp6", "fe80::1", 546, 11)}
	if err := saveState(dir, cur); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(newState(cur), got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, stateFile+".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if s, err := loadState(""); s != nil || err != nil {
		t.Fatalf("no state dir: %v %v", s, err)
	}
}

func TestLoadStateBad(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":       "{not json",
		"other version": `{"version":99,"listeners":[{"key":{"Protocol":"tcp"}}]}`,
		"bad address":   `{"version":1,"listeners":[{"key":{"Addr":"nope"}}]}`,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := loadState(dir)
		if s != nil {
			t.Errorf("%s: got a baseline %v", name, s)
		}
		if (err != nil) != (name != "other version") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
