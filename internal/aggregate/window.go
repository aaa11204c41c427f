// Package aggregate collapses identical triggered events within a time
// window into one event with a hit count, as the retired agents did, but
// in a schema-valid form: the event stays "Triggered" and the count and
// window go into ExtraDetails as strings.
package aggregate

import (
	"sort"
	"strconv"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Setting is the twin's aggregationEnabled*/aggregationInterval* pair.
type Setting struct {
	Enabled  bool
	Interval time.Duration
}

// DefaultMaxEntries caps distinct keys per event name, so an attacker who
// varies command lines cannot grow the window without bound; a full
// window is flushed early.
const DefaultMaxEntries = 4096

// ExtraDetails keys written on aggregated items.
const (
	KeyHitCount       = "HitCount"
	KeyStartTimeUTC   = "StartTimeUtc"
	KeyStartTimeLocal = "StartTimeLocal"
	KeyEndTimeUTC     = "EndTimeUtc"
	KeyEndTimeLocal   = "EndTimeLocal"
	KeyAggregated     = "Aggregated"
)

type entry struct {
	item  any // payload item with the per-process fields zeroed
	count int64
	first time.Time
	last  time.Time
	seq   int // arrival order, so output order is stable
}

type window struct {
	setting Setting
	start   time.Time
	entries map[string]*entry
	seq     int
}

// Window is not safe for concurrent use: the pipeline owns it.
type Window struct {
	maxEntries int
	windows    map[string]*window
	// Overflows counts early flushes caused by the entry cap.
	Overflows int64
}

// New returns a window; names without a setting pass through unchanged.
func New(maxEntries int) *Window {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Window{maxEntries: maxEntries, windows: map[string]*window{}}
}

// Update applies new settings. Names whose aggregation is switched off are
// flushed at once and returned, so nothing counted is lost.
func (w *Window) Update(settings map[string]Setting, now time.Time) []event.Event {
	var out []event.Event
	for name, win := range w.windows {
		s, ok := settings[name]
		if !ok || !s.Enabled {
			out = append(out, w.flush(name, win, now)...)
			delete(w.windows, name)
		}
	}
	for name, s := range settings {
		if !s.Enabled || aggregatable[name] == nil {
			continue
		}
		if win, ok := w.windows[name]; ok {
			win.setting = s
			continue
		}
		w.windows[name] = &window{setting: s, start: now, entries: map[string]*entry{}}
	}
	sortEvents(out)
	return out
}

// Add takes one event. It returns the events to forward now: the event
// itself when its name is not aggregated, or an early flush when the
// window is full.
func (w *Window) Add(ev event.Event, now time.Time) []event.Event {
	win, ok := w.windows[ev.Name]
	key := aggregatable[ev.Name]
	if !ok || key == nil {
		return []event.Event{ev}
	}
	var out []event.Event
	var passthrough []any
	for _, item := range ev.Payload {
		k, zeroed, ok := key(item)
		if !ok {
			passthrough = append(passthrough, item)
			continue
		}
		if e, ok := win.entries[k]; ok {
			e.count++
			e.last = ev.Time
			continue
		}
		if len(win.entries) >= w.maxEntries {
			w.Overflows++
			out = append(out, w.flush(ev.Name, win, now)...)
		}
		win.seq++
		win.entries[k] = &entry{item: zeroed, count: 1, first: ev.Time, last: ev.Time, seq: win.seq}
	}
	if len(passthrough) > 0 {
		ev.Payload = passthrough
		out = append(out, ev)
	}
	return out
}

// Due flushes every window whose interval has passed.
func (w *Window) Due(now time.Time) []event.Event {
	var out []event.Event
	for name, win := range w.windows {
		if now.Sub(win.start) >= win.setting.Interval {
			out = append(out, w.flush(name, win, now)...)
		}
	}
	sortEvents(out)
	return out
}

// Flush empties every window (shutdown).
func (w *Window) Flush(now time.Time) []event.Event {
	var out []event.Event
	for name, win := range w.windows {
		out = append(out, w.flush(name, win, now)...)
	}
	sortEvents(out)
	return out
}

// Pending is the number of distinct keys held.
func (w *Window) Pending() int {
	n := 0
	for _, win := range w.windows {
		n += len(win.entries)
	}
	return n
}

// flush emits one event per key, in arrival order, and restarts the window.
func (w *Window) flush(name string, win *window, now time.Time) []event.Event {
	entries := make([]*entry, 0, len(win.entries))
	for _, e := range win.entries {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq < entries[j].seq })
	out := make([]event.Event, 0, len(entries))
	for _, e := range entries {
		out = append(out, event.New(name, now, withDetails(e.item, map[string]string{
			KeyAggregated:     "true",
			KeyHitCount:       strconv.FormatInt(e.count, 10),
			KeyStartTimeUTC:   e.first.UTC().Format(event.UTCLayout),
			KeyStartTimeLocal: e.first.Local().Format(event.LocalLayout),
			KeyEndTimeUTC:     e.last.UTC().Format(event.UTCLayout),
			KeyEndTimeLocal:   e.last.Local().Format(event.LocalLayout),
		})))
	}
	win.entries = map[string]*entry{}
	win.start = now
	return out
}

func sortEvents(evs []event.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
}
