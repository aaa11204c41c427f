package process

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
	"golang.org/x/sys/unix"
)

// ebpfBackend attaches bpf/exec.c to the sched_process_{fork,exec,exit}
// BTF tracepoints (needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN, and BTF).
type ebpfBackend struct {
	m *metrics
}

// ringPoll is how often the reader drains the ring. The program wakes
// the reader only when a quarter MiB is pending (WAKE_BYTES in
// bpf/exec.c): one wakeup per event was most of the collector's CPU under
// an exec storm. Events therefore reach the engine up to ringPoll late.
const ringPoll = 100 * time.Millisecond

func (b *ebpfBackend) Name() string { return BackendEBPF }

func (b *ebpfBackend) Run(ctx context.Context, out chan<- rawEvent) error {
	_ = rlimit.RemoveMemlock() // only matters before memcg accounting (5.11)
	var objs execbpfObjects
	if err := loadExecbpfObjects(&objs, nil); err != nil {
		return refuse("load eBPF program: %w", err)
	}
	defer objs.Close()
	for _, p := range []*ebpf.Program{objs.HandleFork, objs.HandleExec, objs.HandleExit} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p})
		if err != nil {
			return refuse("attach %s: %w", p, err)
		}
		defer l.Close()
	}
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
	nextDrops := time.Now()
	rd.SetDeadline(time.Now().Add(ringPoll))
	for ctx.Err() == nil {
		err := rd.ReadInto(&rec)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The ring is drained; records written without a wakeup
			// wait for the next deadline.
			now := time.Now()
			if now.After(nextDrops) {
				lastDrops, nextDrops = b.countDrops(objs.Drops, lastDrops), now.Add(time.Second)
			}
			rd.SetDeadline(now.Add(ringPoll))
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

// cnBackend listens to the netlink proc connector and reads /proc at once
// on exec: the event carries only pids, so very short processes may be
// gone before their command line is read.
type cnBackend struct {
	m   *metrics
	enr enricher
}

func (b *cnBackend) Name() string { return BackendProcCn }

func (b *cnBackend) Run(ctx context.Context, out chan<- rawEvent) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return refuse("proc connector socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return refuse("proc connector bind: %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	tv := unix.NsecToTimeval(int64(250 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return refuse("proc connector timeout: %w", err)
	}
	dst := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}
	if err := unix.Sendto(fd, cnListenRequest(cnOpListen, 0), 0, dst); err != nil {
		return refuse("proc connector listen (needs CAP_NET_ADMIN before Linux 6.6): %w", err)
	}
	defer unix.Sendto(fd, cnListenRequest(cnOpIgnore, 0), 0, dst)
	ready(ctx, out)
	buf := make([]byte, 1<<16)
	var evs []cnEvent
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			b.m.drop(dropSocket)
			continue
		case err != nil:
			return fmt.Errorf("proc connector receive: %w", err)
		}
		evs, err = parseCnMessages(buf[:n], evs[:0])
		if err != nil {
			b.m.drop(dropMalformed)
		}
		now := time.Now()
		for _, ev := range evs {
			if r, ok := cnRaw(ev, now, b.enr); ok {
				send(out, r, b.m)
			}
		}
	}
	return nil
}
