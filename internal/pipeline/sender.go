package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

const maxRetryBackoff = time.Minute

// sendLoop sends on the High and Low timers, whenever a full message's
// worth is queued, and on flush requests. Once intake is done it sends
// what is left, giving up after ShutdownTimeout.
func (p *Pipeline) sendLoop(flushes <-chan chan error, changed <-chan struct{}) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A send may be retrying when shutdown starts: bound it from then on.
	go func() {
		select {
		case <-p.intakeDone:
			t := time.NewTimer(p.opt.ShutdownTimeout)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	if err := p.resend(ctx); err != nil {
		p.opt.Logger.WithError(err).Warn("messages of the previous run not resent; they stay spooled")
	}
	s := p.settings()
	high := time.NewTimer(s.HighFrequency)
	low := time.NewTimer(s.LowFrequency)
	defer high.Stop()
	defer low.Stop()
	for {
		select {
		case <-high.C:
			p.sendQueue(ctx, queue.High)
			high.Reset(p.settings().HighFrequency)
		case <-low.C:
			p.sendQueue(ctx, queue.Low)
			low.Reset(p.settings().LowFrequency)
		case <-p.q.Ready():
			for p.fullMessageQueued() {
				pref := queue.High
				if p.q.Len(queue.High) == 0 {
					pref = queue.Low
				}
				if sent, _ := p.sendOne(ctx, pref); !sent {
					break
				}
				if pref == queue.High {
					high.Reset(p.settings().HighFrequency)
				}
			}
		case req := <-flushes:
			req <- p.sendAll(ctx)
		case <-changed:
			s := p.settings()
			high.Reset(s.HighFrequency)
			low.Reset(s.LowFrequency)
		case <-p.intakeDone:
			if err := p.sendAll(ctx); err != nil {
				p.opt.Logger.WithError(err).Warn("shutdown flush incomplete")
			}
			return nil
		}
	}
}

func (p *Pipeline) fullMessageQueued() bool {
	var total int64
	for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
		total += p.q.Bytes(c)
	}
	return total >= int64(p.settings().bodyLimit())
}

// sendQueue empties class c (with operational events first and the other
// class filling the space left); operational events alone are sent too,
// so they never wait indefinitely behind empty queues.
func (p *Pipeline) sendQueue(ctx context.Context, c queue.Class) {
	for p.q.Len(c) > 0 || p.q.Len(queue.Operational) > 0 {
		if sent, err := p.sendOne(ctx, c); !sent || err != nil {
			return
		}
	}
}

func (p *Pipeline) sendAll(ctx context.Context) error {
	for _, c := range []queue.Class{queue.High, queue.Low, queue.Operational} {
		for p.q.Len(c) > 0 {
			sent, err := p.sendOne(ctx, c)
			if err != nil {
				return err
			}
			if !sent {
				break
			}
		}
	}
	return nil
}

func other(c queue.Class) queue.Class {
	if c == queue.High {
		return queue.Low
	}
	return queue.High
}

type taken struct {
	class queue.Class
	items []queue.Item
}

// pack takes, in order and never skipping ahead within a queue,
// operational events, then the preferred queue, then the other queue,
// while the exact message size stays within the body limit.
func (p *Pipeline) pack(pref queue.Class) []taken {
	limit := p.settings().bodyLimit()
	for _, c := range []queue.Class{queue.Operational, pref, other(pref)} {
		// An item that fits no message (the limit shrank after it was
		// queued) would block its queue forever: drop it, counted.
		for {
			it, ok := p.q.DropHeadIf(c, func(it queue.Item) bool { return p.messageSize(1, len(it.Data)) > limit })
			if !ok {
				break
			}
			p.opt.Stats.Dropped(queue.Dropped{Class: c, Name: it.Name, Reason: stats.ReasonOversized})
		}
	}
	size, n := p.overhead, 0
	fit := func(it queue.Item) bool {
		add := len(it.Data)
		if n > 0 {
			add++ // comma
		}
		if size+add > limit {
			return false
		}
		size += add
		n++
		return true
	}
	var out []taken
	for _, c := range []queue.Class{queue.Operational, pref, other(pref)} {
		if items := p.q.Take(c, fit); len(items) > 0 {
			out = append(out, taken{c, items})
		}
	}
	return out
}

// sendOne packs and sends one message, retrying the same message (same
// $.mid) until it is acknowledged or ctx ends.
func (p *Pipeline) sendOne(ctx context.Context, pref queue.Class) (bool, error) {
	batch := p.pack(pref)
	if len(batch) == 0 {
		return false, nil
	}
	var all []queue.Item
	for _, t := range batch {
		all = append(all, t.items...)
	}
	prio := event.Low
	if pref == queue.High {
		prio = event.High
	}
	mid := uuid.NewString()
	// Recorded before the first attempt: after a crash the message is
	// sent again with this id and these events.
	p.q.Hold(mid, prio, all)
	return p.deliver(ctx, mid, prio, all)
}

// resend delivers the messages the previous run left unacknowledged,
// before anything newer, each with its original $.mid.
func (p *Pipeline) resend(ctx context.Context) error {
	held := p.q.Held()
	for i, h := range held {
		if len(h.Items) == 0 {
			p.q.Release(h.ID, nil)
			continue
		}
		p.opt.Logger.WithField("message_id", h.ID).WithField("events", len(h.Items)).
			Info("resending a message left unacknowledged by the previous run")
		if _, err := p.deliver(ctx, h.ID, h.Priority, h.Items); err != nil {
			for _, rest := range held[i+1:] {
				p.opt.Stats.Dropped(p.q.Unsent(rest.ID, rest.Items)...)
			}
			return err
		}
	}
	return nil
}

// deliver sends one message until it is acknowledged, refused for good,
// or ctx ends.
func (p *Pipeline) deliver(ctx context.Context, mid string, prio event.Priority, items []queue.Item) (bool, error) {
	datas := make([][]byte, len(items))
	names := make([]string, len(items))
	for i, it := range items {
		datas[i], names[i] = it.Data, it.Name
	}
	s := p.settings()
	m := sink.Message{
		ID:              mid,
		Body:            p.opt.Envelope.AppendMessage(nil, datas),
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		InterfaceID:     sink.InterfaceID,
		Priority:        prio,
		Properties: []sink.Property{
			{Key: "MessagePriority", Value: prio.String()},
			{Key: "HubResourceId", Value: s.HubResourceID},
		},
		Events: len(datas),
	}
	backoff := p.opt.RetryBackoff
	for {
		err := p.opt.Sink.Send(ctx, m)
		if err == nil {
			p.q.Release(mid, items)
			p.opt.Stats.Sent(len(m.Body), names)
			p.mu.Lock()
			p.lastSend = p.opt.Now()
			p.mu.Unlock()
			return true, nil
		}
		p.opt.Stats.Failed()
		if errors.Is(err, sink.ErrRejected) {
			p.opt.Logger.WithError(err).WithField("message_id", m.ID).WithField("events", m.Events).
				Error("security message refused by the transport; its events are dropped")
			p.q.Release(mid, items)
			p.dropItems(items, stats.ReasonRejected)
			return true, nil
		}
		if ctx.Err() != nil {
			p.opt.Stats.Dropped(p.q.Unsent(mid, items)...)
			return false, ctx.Err()
		}
		p.opt.Logger.WithError(err).WithField("message_id", m.ID).WithField("retry_in", backoff).
			Warn("sending security message failed; retrying the same message")
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, maxRetryBackoff)
	}
}

func (p *Pipeline) dropItems(items []queue.Item, reason string) {
	for _, it := range items {
		p.opt.Stats.Dropped(queue.Dropped{Class: it.Class, Name: it.Name, Reason: reason})
	}
}
