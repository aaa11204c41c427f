package bpfmap

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestBootWallTimeIsBeforeNowAndStable(t *testing.T) {
	a, err := BootWallTime()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BootWallTime()
	if !a.Before(time.Now()) {
		t.Fatalf("boot time %v is not in the past", a)
	}
	// Both readings name the same instant; only clock reading jitter differs.
	if d := b.Sub(a); d > time.Second || d < -time.Second {
		t.Fatalf("two readings differ by %v", d)
	}
}

// TestSumPerCPU uses a real per-CPU array map (needs root or CAP_BPF).
func TestSumPerCPU(t *testing.T) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if errors.Is(err, os.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("cannot create a BPF map here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]uint64, n)
	var want uint64
	for i := range vals {
		vals[i] = uint64(i + 1)
		want += vals[i]
	}
	if err := m.Put(uint32(0), vals); err != nil {
		t.Fatal(err)
	}
	got, err := SumPerCPU(m)
	if err != nil || got != want {
		t.Fatalf("SumPerCPU = %d, %v; want %d", got, err, want)
	}
}
