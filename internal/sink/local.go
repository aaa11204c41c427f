package sink

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Local writes each message body as one JSON line, for running the module
// outside IoT Edge. It never fails a message except on a write error.
type Local struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLocal writes to w (standard output or a file).
func NewLocal(w io.Writer) *Local { return &Local{w: w} }

var _ Sink = (*Local)(nil)

var newline = []byte{'\n'}

// Send writes m.Body and a newline.
func (l *Local) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(m.Body); err != nil {
		return fmt.Errorf("write message %s: %w", m.ID, err)
	}
	if _, err := l.w.Write(newline); err != nil {
		return fmt.Errorf("write message %s: %w", m.ID, err)
	}
	return nil
}
