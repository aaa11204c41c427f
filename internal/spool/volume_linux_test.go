package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// tmpfs mounts a small tmpfs, the real thing a full or read-only volume
// is made of; it needs root.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func remount(t *testing.T, dir string, flags uintptr, data string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|flags, data); err != nil {
		t.Fatalf("remount %s: %v", data, err)
	}
}

func numbered(i int) queue.Item {
	return queue.Item{Name: "E", Data: fmt.Appendf(nil, `{"n":%06d,"pad":%q}`, i, strings.Repeat("p", 400))}
}

func number(it queue.Item) int {
	var n int
	_, _ = fmt.Sscanf(string(it.Data), `{"n":%d`, &n)
	return n
}

// drain takes everything from class c and checks it comes in order.
func drain(t *testing.T, st *Store, c queue.Class) []int {
	t.Helper()
	var out []int
	for {
		items := st.Take(c, upTo(50))
		if len(items) == 0 {
			return out
		}
		for _, it := range items {
			if n := number(it); len(out) > 0 && n <= out[len(out)-1] {
				t.Fatalf("out of order: %d after %d", n, out[len(out)-1])
			}
			out = append(out, number(it))
		}
		st.Release("", items)
	}
}

func TestDiskFullFallsBackToMemoryAndRecovers(t *testing.T) {
	dir := tmpfs(t, "256k")
	clk := newClock()
	log, lines := capturingLogger()
	st, d, reg := newStore(t, StoreOptions{Options: Options{Dir: dir, Budget: 64 << 20, Now: clk.Now}, MemoryBytes: 100 << 10, Logger: log})
	const n = 2000 // about 900 KB: far more than the volume holds
	var dropped []queue.Dropped
	for i := range n {
		dropped = append(dropped, st.Add(queue.Low, numbered(i))...)
		if i%50 == 49 {
			dropped = append(dropped, st.Commit()...)
		}
	}
	dropped = append(dropped, st.Commit()...)
	if st.Degraded() == nil {
		t.Fatal("a full volume was not noticed")
	}
	if got := testutil.ToFloat64(st.m.degraded); got != 1 {
		t.Fatalf("degraded gauge %v", got)
	}
	if !strings.Contains(strings.Join(lines.all(), ""), "keeping events in memory only") {
		t.Fatalf("no clear warning: %v", lines.all())
	}
	got := drain(t, st, queue.Low)
	if len(got)+len(dropped)+d.count(queue.ReasonEvicted) != n || len(dropped) == 0 {
		t.Fatalf("took %d, dropped %d of %d: every event must be sent or counted, and memory is small", len(got), len(dropped), n)
	}
	t.Logf("volume full: %d events taken (disk and memory), %d evicted from memory and counted", len(got), len(dropped))

	// Space returns: after the retry interval new events go to disk again.
	remount(t, dir, 0, "size=16m")
	clk.Add(time.Minute)
	st.Add(queue.Low, numbered(n))
	st.Commit()
	if err := st.Degraded(); err != nil {
		t.Fatalf("still degraded after space returned: %v", err)
	}
	if st.spool().Len(queue.Low) != 1 {
		t.Fatal("new event not on disk")
	}
	_ = reg
}

// TestReadOnlyVolume starts on a volume that is read-only (tmpfs refuses
// to turn read-only under an open writer, so the change happens between
// runs; a volume failing mid-run takes the same path as a full one).
func TestReadOnlyVolume(t *testing.T) {
	dir := tmpfs(t, "4m")
	clk := newClock()
	st, _, _ := newStore(t, StoreOptions{Options: Options{Dir: dir, Budget: 1 << 20, Now: clk.Now}})
	for i := range 10 {
		st.Add(queue.High, numbered(i))
	}
	st.Commit()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	remount(t, dir, syscall.MS_RDONLY, "")

	log, lines := capturingLogger()
	st2, _, _ := newStore(t, StoreOptions{Options: Options{Dir: dir, Budget: 1 << 20, Now: clk.Now}, Logger: log})
	if st2.Degraded() == nil || st2.spool() != nil {
		t.Fatal("opened a spool on a read-only volume")
	}
	if !strings.Contains(strings.Join(lines.all(), ""), "keeping events in memory only") {
		t.Fatalf("no clear warning: %v", lines.all())
	}
	for i := 100; i < 105; i++ {
		st2.Add(queue.High, numbered(i))
	}
	if got := drain(t, st2, queue.High); len(got) != 5 {
		t.Fatalf("memory events: %v", got)
	}

	// Writable again: the next event after the retry interval reopens the
	// spool, and the first run's events are still there, before it.
	remount(t, dir, 0, "")
	clk.Add(time.Minute)
	st2.Add(queue.High, numbered(200))
	if st2.Degraded() != nil || st2.spool() == nil {
		t.Fatalf("spool not reopened once writable: %v", st2.Degraded())
	}
	got := drain(t, st2, queue.High)
	if len(got) != 11 || got[0] != 0 || got[10] != 200 {
		t.Fatalf("after reopen took %v", got)
	}
}
