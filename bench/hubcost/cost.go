package hubcost

import (
	"context"
	"sync"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

// BlockBytes is IoT Hub's billing unit for device-to-cloud messages.
const BlockBytes = 4096

// Cost is what a day of messages is billed.
type Cost struct {
	Messages, Blocks, Bytes, Events, Under4KB int64
}

// Blocks is the number of 4 KB blocks a body of n bytes is billed; every
// message costs at least one.
func Blocks(n int) int64 {
	if n <= 0 {
		return 1
	}
	return int64((n + BlockBytes - 1) / BlockBytes)
}

// Add accounts one message of bodyBytes holding events events.
func (c *Cost) Add(bodyBytes, events int) {
	c.Messages++
	c.Blocks += Blocks(bodyBytes)
	c.Bytes += int64(bodyBytes)
	c.Events += int64(events)
	if bodyBytes < BlockBytes {
		c.Under4KB++
	}
}

// FillRatio is the share of the billed blocks the bodies use.
func (c Cost) FillRatio() float64 {
	if c.Blocks == 0 {
		return 0
	}
	return float64(c.Bytes) / float64(c.Blocks*BlockBytes)
}

// BytesPerEvent divides the bytes sent by the events collected (before
// aggregation), so aggregation shows as fewer bytes per collected event.
func (c Cost) BytesPerEvent(collected int) float64 {
	if collected == 0 {
		return 0
	}
	return float64(c.Bytes) / float64(collected)
}

// meter is a sink that accounts every message instead of sending it.
type meter struct {
	mu   sync.Mutex
	cost Cost
}

func (m *meter) Send(ctx context.Context, msg sink.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	m.cost.Add(len(msg.Body), msg.Events)
	m.mu.Unlock()
	return nil
}

func (m *meter) total() Cost {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cost
}
