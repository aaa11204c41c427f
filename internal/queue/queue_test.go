package queue

import (
	"fmt"
	"testing"
)

func item(name string, n int) Item { return Item{Name: name, Data: make([]byte, n)} }

func TestEvictionOrderLowThenHighThenOperational(t *testing.T) {
	q := New(5 * (100 + itemOverhead))
	q.Add(Operational, item("op", 100))
	q.Add(High, item("h1", 100))
	q.Add(High, item("h2", 100))
	q.Add(Low, item("l1", 100))
	q.Add(Low, item("l2", 100))
	var dropped []Dropped
	for i := range 4 {
		dropped = append(dropped, q.Add(High, item(fmt.Sprint("h", 3+i), 100))...)
	}
	want := []string{"l1", "l2", "h1", "h2"}
	if len(dropped) != len(want) {
		t.Fatalf("dropped %v", dropped)
	}
	for i, d := range dropped {
		if d.Name != want[i] || d.Reason != ReasonEvicted {
			t.Fatalf("drop %d = %+v, want %s evicted", i, d, want[i])
		}
	}
	if q.Len(Operational) != 1 || q.Len(High) != 4 || q.Len(Low) != 0 {
		t.Fatalf("lens op=%d high=%d low=%d", q.Len(Operational), q.Len(High), q.Len(Low))
	}
	if q.Used() > 5*(100+itemOverhead) {
		t.Fatalf("budget exceeded: %d", q.Used())
	}
}

func TestTooLargeItemIsRefused(t *testing.T) {
	q := New(1000)
	if d := q.Add(High, item("big", 2000)); len(d) != 1 || d[0].Reason != ReasonTooLarge {
		t.Fatalf("got %v", d)
	}
	if q.Used() != 0 || q.Len(High) != 0 {
		t.Fatal("refused item was kept")
	}
}

func TestTakeKeepsOrderAndBudgetUntilRelease(t *testing.T) {
	q := New(1 << 20)
	for i := range 10 {
		q.Add(Low, item(fmt.Sprint(i), 10))
	}
	n := 0
	got := q.Take(Low, func(Item) bool { n++; return n <= 4 })
	if len(got) != 4 || got[0].Name != "0" || got[3].Name != "3" {
		t.Fatalf("took %v", got)
	}
	before := q.Used()
	if before != 10*(10+itemOverhead) {
		t.Fatalf("in-flight items must stay counted: used %d", before)
	}
	q.Release(got)
	if q.Used() != 6*(10+itemOverhead) || q.Bytes(Low) != 60 {
		t.Fatalf("after release used %d bytes %d", q.Used(), q.Bytes(Low))
	}
}

func TestShrinkingBudgetEvicts(t *testing.T) {
	q := New(1 << 20)
	for range 10 {
		q.Add(Low, item("x", 100))
	}
	if d := q.SetBudget(3 * (100 + itemOverhead)); len(d) != 7 {
		t.Fatalf("evicted %d, want 7", len(d))
	}
}

func TestDropHeadIf(t *testing.T) {
	q := New(1 << 20)
	q.Add(High, item("big", 500))
	q.Add(High, item("small", 5))
	big := func(it Item) bool { return len(it.Data) > 100 }
	if it, ok := q.DropHeadIf(High, big); !ok || it.Name != "big" {
		t.Fatal("head not dropped")
	}
	if _, ok := q.DropHeadIf(High, big); ok {
		t.Fatal("small head dropped")
	}
	if q.Used() != 5+itemOverhead {
		t.Fatalf("used %d", q.Used())
	}
}

// TestFIFOMemoryFollowsLength checks that a long-lived queue compacts its
// backing array instead of growing with its history.
func TestFIFOMemoryFollowsLength(t *testing.T) {
	var f fifo
	for i := range 100000 {
		f.push(Item{Name: fmt.Sprint(i)})
		if i%2 == 1 {
			f.pop()
			f.pop()
		}
	}
	if f.len() != 0 || cap(f.items) > 1024 {
		t.Fatalf("len %d cap %d", f.len(), cap(f.items))
	}
}
