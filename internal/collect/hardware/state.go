package hardware

import (
	"maps"
	"slices"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/statefile"
)

const (
	// stateFile holds the last snapshot in Deps.StateDir.
	stateFile = "connectedhardware.json"
	// maxStateBytes bounds reading it back: 4096 devices per directory
	// at about 400 bytes each.
	maxStateBytes = 16 << 20
	// stateVersion changes when keys change meaning; an old file is then
	// a missing baseline, not a flood of changes.
	stateVersion = 1
)

// Values of ExtraDetails["Change"].
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
)

// state is the last snapshot, by device key.
type state map[string]event.ConnectedHardware

type stateDoc struct {
	Version int                       `json:"version"`
	Devices []event.ConnectedHardware `json:"devices"`
}

// deviceKey identifies a device across snapshots. Names are left out on
// purpose: a database installed later renames devices without changing
// them. The bus path holds the interface or disk name, so a rename is a
// removal and an addition.
func deviceKey(it event.ConnectedHardware) string {
	d := it.ExtraDetails
	return strings.Join([]string{it.HardwareCategory, d["BusPath"], d["VendorId"], d["ProductId"], d["Serial"], d["MAC"]}, "\x00")
}

func newState(items []event.ConnectedHardware) state {
	s := make(state, len(items))
	for _, it := range items {
		s[deviceKey(it)] = it
	}
	return s
}

// sameDevices reports whether a and b hold the same keys; details such as
// an interface's operstate may differ without it being worth a write.
func sameDevices(a, b state) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// diff marks the items of cur that prev does not hold as added and
// returns, marked as removed, the items of prev that are gone, leaving
// out categories whose scan failed (their devices are not gone, just
// unseen). A nil prev is no baseline: nothing is marked.
func diff(prev state, cur []event.ConnectedHardware, failed map[string]bool) (marked, removed []event.ConnectedHardware) {
	marked = make([]event.ConnectedHardware, 0, len(cur))
	seen := make(map[string]bool, len(cur))
	for _, it := range cur {
		k := deviceKey(it)
		seen[k] = true
		if _, ok := prev[k]; prev != nil && !ok {
			it = withChange(it, ChangeAdded)
		}
		marked = append(marked, it)
	}
	for _, k := range slices.Sorted(maps.Keys(prev)) {
		it := prev[k]
		if !seen[k] && !failed[it.HardwareCategory] {
			removed = append(removed, withChange(it, ChangeRemoved))
		}
	}
	return marked, removed
}

func withChange(it event.ConnectedHardware, change string) event.ConnectedHardware {
	d := maps.Clone(it.ExtraDetails)
	if d == nil {
		d = map[string]string{}
	}
	d["Change"] = change
	it.ExtraDetails = d
	return it
}

// loadState reads the persisted snapshot: nil without one (first run, no
// state directory, or a file of another version).
func loadState(dir string) (state, error) {
	var doc stateDoc
	found, err := statefile.Load(dir, stateFile, maxStateBytes, &doc)
	if err != nil || !found || doc.Version != stateVersion {
		return nil, err
	}
	return newState(doc.Devices), nil
}

// saveState replaces the persisted snapshot atomically, devices sorted so
// that equal snapshots write equal files.
func saveState(dir string, s state) error {
	doc := stateDoc{Version: stateVersion, Devices: make([]event.ConnectedHardware, 0, len(s))}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		doc.Devices = append(doc.Devices, s[k])
	}
	return statefile.Save(dir, stateFile, doc)
}
