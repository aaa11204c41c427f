package hubcost

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// The retired C# agent's rules (shared/reference/reference-agents.md §4),
// reimplemented as the baseline: per-queue budgets (High 0.5, Low 0.5 of
// the cache) with drop-head eviction, sizes estimated as UTF-16 (twice the
// UTF-8 bytes), a consumer that wakes every 2 minutes and sends at most
// one message per trigger, both timers due on its first tick, and packing
// that stops at the first event that does not fit. Events are encoded
// with this module's encoder and aggregated into the same hourly windows,
// so only the queueing and packing rules differ.
const consumerInterval = 2 * time.Minute

type item struct {
	data []byte
	est  int
}

type csQueue struct {
	items  []item
	est    int
	budget int
}

func (q *csQueue) add(it item) {
	if it.est > q.budget || it.est > maxMessageBytes {
		return // rejected at enqueue, counted as dropped by the agent
	}
	q.items = append(q.items, it)
	q.est += it.est
	for q.est > q.budget {
		q.est -= q.items[0].est
		q.items = q.items[1:]
	}
}

// take removes items from the head while their estimates fit in room.
func (q *csQueue) take(room *int) [][]byte {
	var out [][]byte
	for len(q.items) > 0 && q.items[0].est <= *room {
		*room -= q.items[0].est
		q.est -= q.items[0].est
		out = append(out, q.items[0].data)
		q.items = q.items[1:]
	}
	return out
}

// Baseline plays the day through the C# agent's rules. The agent sends
// nothing at shutdown; what is still queued at the end of the day is sent
// here as the next day's first ticks would, so both runs carry the same
// events.
func Baseline(events []Timed, simStart time.Time) (Cost, error) {
	timed, err := encodeAggregated(events, simStart)
	if err != nil {
		return Cost{}, err
	}
	high := &csQueue{budget: cacheBytes / 2}
	low := &csQueue{budget: cacheBytes / 2}
	var cost Cost
	send := func(p, o *csQueue) bool {
		if len(p.items) == 0 {
			return false
		}
		room := maxMessageBytes
		datas := append(p.take(&room), o.take(&room)...)
		cost.Add(len(Envelope.AppendMessage(nil, datas)), len(datas))
		return true
	}
	lastHigh, lastLow := time.Duration(-1<<62), time.Duration(-1<<62)
	i := 0
	for tick := time.Duration(0); tick <= day || len(high.items)+len(low.items) > 0; tick += consumerInterval {
		for ; i < len(timed) && timed[i].at <= tick; i++ {
			it := item{data: timed[i].data, est: 2 * len(timed[i].data)}
			if priority(timed[i].name) == event.High {
				high.add(it)
			} else {
				low.add(it)
			}
		}
		if high.est+low.est >= maxMessageBytes {
			p, o := high, low
			if len(p.items) == 0 {
				p, o = low, high
			}
			send(p, o)
			lastHigh = tick
		}
		if tick-lastHigh >= highFrequency {
			send(high, low)
			lastHigh = tick
		}
		if tick-lastLow >= lowFrequency || tick > day {
			send(low, high)
			lastLow = tick
		}
	}
	return cost, nil
}

type encoded struct {
	at   time.Duration
	name string
	data []byte
}

// encodeAggregated folds the aggregated names into hourly windows (one
// event per distinct key, emitted when the window ends, with the hit
// count and window bounds in ExtraDetails as this module sends them) and
// encodes every event.
func encodeAggregated(events []Timed, simStart time.Time) ([]encoded, error) {
	type win struct {
		ev       event.Event
		hits     int
		end, beg time.Duration
	}
	wins := map[string]*win{}
	var order []string
	var out []encoded
	isAgg := map[string]bool{}
	for _, n := range aggregated {
		isAgg[n] = true
	}
	for _, t := range events {
		if !isAgg[t.Ev.Name] {
			data, err := event.Encode(t.Ev)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", t.Ev.Name, err)
			}
			out = append(out, encoded{t.At, t.Ev.Name, data})
			continue
		}
		end := (t.At/aggregateWindow + 1) * aggregateWindow
		k := fmt.Sprintf("%s|%d|%s", t.Ev.Name, end, keyOf(t.Ev.Payload[0]))
		if w, ok := wins[k]; ok {
			w.hits++
			continue
		}
		wins[k] = &win{ev: t.Ev, hits: 1, beg: t.At, end: end}
		order = append(order, k)
	}
	for _, k := range order {
		w := wins[k]
		ev := event.New(w.ev.Name, simStart.Add(w.end), withAggregate(w.ev.Payload[0], map[string]string{
			"Aggregated": "true", "HitCount": strconv.Itoa(w.hits),
			"StartTimeUtc": simStart.Add(w.beg).UTC().Format(time.RFC3339), "EndTimeUtc": simStart.Add(w.end).UTC().Format(time.RFC3339),
			"StartTimeLocal": simStart.Add(w.beg).Format(time.RFC3339), "EndTimeLocal": simStart.Add(w.end).Format(time.RFC3339),
		}))
		data, err := event.Encode(ev)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ev.Name, err)
		}
		out = append(out, encoded{w.end, ev.Name, data})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out, nil
}

// keyOf is what makes two events the same for aggregation: everything
// but process ids and the local ephemeral port.
func keyOf(p any) string {
	switch v := p.(type) {
	case event.ProcessCreate:
		return v.Executable + "|" + v.CommandLine + "|" + v.UserID
	case event.ProcessTerminate:
		return v.Executable + "|" + strconv.FormatInt(v.ExitStatus, 10)
	case event.ConnectionCreate:
		return v.RemoteAddress + "|" + v.RemotePort + "|" + v.Protocol + "|" + v.Direction + "|" + v.Executable + "|" + v.CommandLine
	}
	return fmt.Sprintf("%v", p)
}

func withAggregate(p any, extra map[string]string) any {
	switch v := p.(type) {
	case event.ProcessCreate:
		v.ProcessID, v.ParentProcessID, v.ExtraDetails = 0, 0, extra
		return v
	case event.ProcessTerminate:
		v.ProcessID, v.ExtraDetails = 0, extra
		return v
	case event.ConnectionCreate:
		v.ProcessID, v.LocalPort, v.ExtraDetails = 0, "", extra
		return v
	}
	return p
}
