package listening

import (
	"maps"
	"slices"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/statefile"
)

const (
	// stateFile holds the last snapshot in Deps.StateDir.
	stateFile = "listeningports.json"
	// maxStateBytes bounds reading it back: 65536 listeners at about 250
	// bytes each.
	maxStateBytes = 16 << 20
	// stateVersion changes when the key changes meaning; an old file is
	// then no baseline rather than a flood of changes.
	stateVersion = 1
)

// Values of ExtraDetails["Change"].
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
)

// entry is one listener of a snapshot: its key and the item reported.
type entry struct {
	Key  key                 `json:"key"`
	Item event.ListeningPort `json:"item"`
}

// state is the last reported snapshot, by key. nil means no baseline.
type state map[key]event.ListeningPort

type stateDoc struct {
	Version   int     `json:"version"`
	Listeners []entry `json:"listeners"`
}

// sameKeys reports whether the keys of s are exactly keys.
func (s state) sameKeys(keys []key) bool {
	if len(s) != len(keys) {
		return false
	}
	for _, k := range keys {
		if _, ok := s[k]; !ok {
			return false
		}
	}
	return true
}

// diff marks the entries of cur that prev lacks as added, and returns
// the entries of prev that are gone, marked as removed, in key order. A
// nil prev is no baseline: nothing is marked.
func diff(prev state, cur []entry) (items []event.ListeningPort, added, removed int) {
	items = make([]event.ListeningPort, 0, len(cur))
	seen := make(map[key]bool, len(cur))
	for _, e := range cur {
		seen[e.Key] = true
		it := e.Item
		if _, ok := prev[e.Key]; prev != nil && !ok {
			it = withChange(it, ChangeAdded)
			added++
		}
		items = append(items, it)
	}
	for _, k := range slices.SortedFunc(maps.Keys(prev), compareKeys) {
		if !seen[k] {
			items = append(items, withChange(prev[k], ChangeRemoved))
			removed++
		}
	}
	return items, added, removed
}

func withChange(it event.ListeningPort, change string) event.ListeningPort {
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
	s := make(state, len(doc.Listeners))
	for _, e := range doc.Listeners {
		s[e.Key] = e.Item
	}
	return s, nil
}

// saveState replaces the persisted snapshot atomically.
func saveState(dir string, cur []entry) error {
	return statefile.Save(dir, stateFile, stateDoc{Version: stateVersion, Listeners: cur})
}

func newState(cur []entry) state {
	s := make(state, len(cur))
	for _, e := range cur {
		s[e.Key] = e.Item
	}
	return s
}
