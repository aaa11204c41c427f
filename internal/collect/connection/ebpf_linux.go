package connection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// ebpfBackend attaches bpf/conn.c to the inet_sock_set_state BTF
// tracepoint (needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN, and BTF). It
// sees TCP only: UDP has no state machine to trace.
type ebpfBackend struct {
	m *metrics
}

func (b *ebpfBackend) Name() string { return BackendEBPF }

func (b *ebpfBackend) Run(ctx context.Context, out chan<- rawConn) error {
	_ = rlimit.RemoveMemlock() // only matters before memcg accounting (5.11)
	var objs connbpfObjects
	if err := loadConnbpfObjects(&objs, nil); err != nil {
		return refuse("load eBPF program: %w", err)
	}
	defer objs.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: objs.HandleSetState})
	if err != nil {
		return refuse("attach inet_sock_set_state: %w", err)
	}
	defer l.Close()
	rd, err := ringbuf.NewReader(objs.Events)
	if err != nil {
		return refuse("ring buffer: %w", err)
	}
	defer rd.Close()
	bootWall, err := bootWallTime()
	if err != nil {
		return refuse("%w", err)
	}
	ready(ctx, out)
	var rec ringbuf.Record
	var lastDrops uint64
	for ctx.Err() == nil {
		rd.SetDeadline(time.Now().Add(250 * time.Millisecond))
		err := rd.ReadInto(&rec)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			lastDrops = b.countDrops(objs.Drops, lastDrops)
			continue
		case errors.Is(err, ringbuf.ErrClosed):
			return nil
		case err != nil:
			return fmt.Errorf("read ring buffer: %w", err)
		}
		ev, err := parseBPFEvent(rec.RawSample)
		if err != nil {
			b.m.drop(dropMalformed)
			continue
		}
		send(out, ev.raw(bootWall), b.m)
	}
	b.countDrops(objs.Drops, lastDrops)
	return nil
}

// countDrops adds the kernel's ring-full drops since last to the metric.
func (b *ebpfBackend) countDrops(m *ebpf.Map, last uint64) uint64 {
	var perCPU []uint64
	if err := m.Lookup(uint32(0), &perCPU); err != nil {
		return last
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	b.m.dropN(dropKernelRing, sum-last)
	return sum
}

// bootWallTime is the wall-clock time of CLOCK_BOOTTIME zero, to turn the
// kernel's boot-time stamps into event times.
func bootWallTime() (time.Time, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime(CLOCK_BOOTTIME): %w", err)
	}
	return time.Now().Add(-time.Duration(ts.Nano())), nil
}
