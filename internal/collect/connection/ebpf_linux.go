package connection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/bpfmap"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
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
	bootWall, err := bpfmap.BootWallTime()
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

// countDrops adds the kernel's ring-full drops since last to the metric;
// a failed read keeps last, so the next read counts them.
func (b *ebpfBackend) countDrops(m *ebpf.Map, last uint64) uint64 {
	sum, err := bpfmap.SumPerCPU(m)
	if err != nil {
		return last
	}
	b.m.dropN(dropKernelRing, sum-last)
	return sum
}
