package bpfmap

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// SumPerCPU reads key 0 of a per-CPU array of counters and adds the CPUs
// up (the BPF programs count ring-full drops this way, without atomics).
func SumPerCPU(m *ebpf.Map) (uint64, error) {
	var perCPU []uint64
	if err := m.Lookup(uint32(0), &perCPU); err != nil {
		return 0, fmt.Errorf("read per-CPU counter: %w", err)
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	return sum, nil
}

// BootWallTime is the wall-clock time of CLOCK_BOOTTIME zero, to turn the
// kernel's boot-time stamps (bpf_ktime_get_boot_ns) into event times.
func BootWallTime() (time.Time, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime(CLOCK_BOOTTIME): %w", err)
	}
	return time.Now().Add(-time.Duration(ts.Nano())), nil
}
