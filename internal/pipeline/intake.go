package pipeline

import (
	"context"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// aggregationTick is how often aggregation windows are checked; windows
// are at least a second long, so this adds at most a second of delay.
const aggregationTick = time.Second

// Run drives intake and sending until ctx ends, then shuts down in
// pipeline order: it keeps taking events until upstreamDone is closed
// (the collectors have stopped), flushes the aggregation windows into the
// queues, and sends what is queued within ShutdownTimeout.
func (p *Pipeline) Run(ctx context.Context, upstreamDone <-chan struct{}) error {
	toSender := make(chan chan error)
	changed := make(chan struct{}, 1)
	senderDone := make(chan error, 1)
	go func() { senderDone <- p.sendLoop(toSender, changed) }()

	tick := time.NewTicker(aggregationTick)
	defer tick.Stop()
loop:
	for {
		select {
		case ev := <-p.in:
			p.accept(ev)
			p.acceptBurst()
		case s := <-p.update:
			p.applyAndNotify(s, changed)
		case <-tick.C:
			p.enqueueAll(p.win.Due(p.opt.Now()))
			p.commit()
		case req := <-p.flush:
			// Settings handed over before the flush was asked for apply
			// to it (select would otherwise pick either at random).
			select {
			case s := <-p.update:
				p.applyAndNotify(s, changed)
			default:
			}
			p.drainIntake()
			toSender <- req
		case <-ctx.Done():
			break loop
		}
	}
	// Collectors may still be emitting until they notice the cancellation.
	for waiting := true; waiting; {
		select {
		case ev := <-p.in:
			p.accept(ev)
		case <-upstreamDone:
			waiting = false
		}
	}
	p.drainIntake()
	p.enqueueAll(p.win.Flush(p.opt.Now()))
	p.commit()
	close(p.intakeDone)
	return <-senderDone
}

func (p *Pipeline) drainIntake() {
	for {
		select {
		case ev := <-p.in:
			p.accept(ev)
		default:
			p.commit()
			return
		}
	}
}

// burstSize bounds how many waiting events are accepted before the store
// commits them: one durable write per burst instead of per event.
const burstSize = 256

// acceptBurst takes the events already waiting (at most burstSize) and
// commits them together.
func (p *Pipeline) acceptBurst() {
	for range burstSize {
		select {
		case ev := <-p.in:
			p.accept(ev)
		default:
			p.commit()
			return
		}
	}
	p.commit()
}

func (p *Pipeline) commit() { p.opt.Stats.Dropped(p.q.Commit()...) }

func (p *Pipeline) applyAndNotify(s Settings, changed chan<- struct{}) {
	p.apply(s)
	select {
	case changed <- struct{}{}:
	default:
	}
}

func (p *Pipeline) apply(s Settings) {
	p.mu.Lock()
	p.set = s
	p.mu.Unlock()
	p.enqueueAll(p.win.Update(s.Aggregation, p.opt.Now()))
	p.commit()
	p.opt.Stats.Dropped(p.q.SetBudget(s.CacheBytes)...)
}

func (p *Pipeline) accept(ev event.Event) {
	if _, ok := p.classify(ev); !ok {
		return // priority Off: not collected at all
	}
	p.enqueueAll(p.win.Add(ev, p.opt.Now()))
}

func (p *Pipeline) enqueueAll(evs []event.Event) {
	for _, ev := range evs {
		p.enqueue(ev)
	}
}

// classify maps an event to its queue; false means its priority is Off.
func (p *Pipeline) classify(ev event.Event) (queue.Class, bool) {
	prio := p.settings().Priority(ev.Name)
	switch {
	case prio == event.Off:
		return 0, false
	case ev.Type == event.Operational:
		return queue.Operational, true
	case prio == event.High, ev.IsChange():
		return queue.High, true
	}
	return queue.Low, true
}

func (p *Pipeline) classOf(ev event.Event) queue.Class {
	c, _ := p.classify(ev)
	return c
}

// enqueue encodes an event once and queues it. An event too large for one
// message is split into several events of the same name when it has more
// than one payload item (large snapshots), or dropped and counted.
func (p *Pipeline) enqueue(ev event.Event) {
	c, ok := p.classify(ev)
	if !ok {
		return
	}
	data, err := event.Encode(ev)
	if err != nil {
		p.opt.Logger.WithError(err).WithField("event", ev.Name).Error("cannot encode event")
		p.opt.Stats.Dropped(queue.Dropped{Class: c, Name: ev.Name, Reason: stats.ReasonOversized})
		return
	}
	if p.messageSize(1, len(data)) > p.settings().bodyLimit() {
		if len(ev.Payload) < 2 {
			p.opt.Logger.WithField("event", ev.Name).WithField("bytes", len(data)).
				Warn("event cannot fit in one message; dropped")
			p.opt.Stats.Dropped(queue.Dropped{Class: c, Name: ev.Name, Reason: stats.ReasonOversized})
			return
		}
		half := len(ev.Payload) / 2
		first, second := ev, ev
		first.Payload, second.Payload = ev.Payload[:half], ev.Payload[half:]
		second.ID = event.New(ev.Name, ev.Time).ID
		p.enqueue(first)
		p.enqueue(second)
		return
	}
	p.opt.Stats.Collected(c, ev.Name)
	p.opt.Stats.Dropped(p.q.Add(c, queue.Item{Name: ev.Name, Data: data, Enqueued: p.opt.Now()})...)
}
