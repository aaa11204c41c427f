package process

import (
	"context"
	"runtime"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

type eventEvent = event.Event

func commandLineOf(ev event.Event) string {
	if p, ok := ev.Payload[0].(*event.ProcessCreate); ok {
		return p.CommandLine
	}
	return ""
}

func testContext(b *testing.B) (context.Context, context.CancelFunc) {
	return context.WithCancel(b.Context())
}

func cpus() int { return runtime.NumCPU() }
