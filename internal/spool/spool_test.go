package spool

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

func TestFIFOPerClassAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	for i := range 10 {
		mustAdd(t, s, queue.Low, ev("L", i))
		mustAdd(t, s, queue.High, ev("H", i))
	}
	mustAdd(t, s, queue.Operational, ev("O", 0))
	first := mustTake(t, s, queue.Low, upTo(3))
	if err := s.Release("", first); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, rep := mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	if rep.Records != 18 || rep.Held != 0 || rep.Corrupt != 0 {
		t.Fatalf("report %+v, want 18 records", rep)
	}
	var want []string
	for i := 3; i < 10; i++ {
		want = append(want, fmt.Sprintf(`{"Name":"L","n":%d}`, i))
	}
	if got := datas(mustTake(t, s, queue.Low, all)); !slices.Equal(got, want) {
		t.Fatalf("Low after restart = %v, want %v", got, want)
	}
	if got := mustTake(t, s, queue.High, all); len(got) != 10 || string(got[0].Data) != `{"Name":"H","n":0}` {
		t.Fatalf("High after restart = %v", datas(got))
	}
	if s.Len(queue.Operational) != 1 {
		t.Fatalf("operational len %d", s.Len(queue.Operational))
	}
}

func TestHeldMessageComesBackWithItsID(t *testing.T) {
	dir := t.TempDir()
	s, _ := mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	for i := range 5 {
		mustAdd(t, s, queue.Low, ev("L", i))
	}
	mustAdd(t, s, queue.Operational, ev("O", 0))
	msg := append(mustTake(t, s, queue.Operational, all), mustTake(t, s, queue.Low, upTo(2))...)
	if err := s.Hold("mid-1", event.Low, msg); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // as if the process died before PUBACK

	s, rep := mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	if rep.Held != 1 || rep.Records != 3 {
		t.Fatalf("report %+v, want 1 held and 3 queued", rep)
	}
	held := s.Held()
	if len(held) != 1 || held[0].ID != "mid-1" || held[0].Priority != event.Low {
		t.Fatalf("held %+v", held)
	}
	if got, want := datas(held[0].Items), datas(msg); !slices.Equal(got, want) {
		t.Fatalf("held events %v, want %v", got, want)
	}
	// What is queued comes after the held message and does not repeat it.
	rest := mustTake(t, s, queue.Low, all)
	if len(rest) != 3 || string(rest[0].Data) != `{"Name":"L","n":2}` {
		t.Fatalf("queued after restart %v", datas(rest))
	}
	if err := s.Release("mid-1", held[0].Items); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, rep = mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	if rep.Held != 0 || rep.Records != 3 {
		t.Fatalf("after release: %+v", rep)
	}
}

func TestEvictionLowThenHighThenOperational(t *testing.T) {
	one := cost(1, len(ev("L", 0).Data))
	s, _ := mustOpen(t, Options{Dir: t.TempDir(), Budget: 5 * one})
	mustAdd(t, s, queue.Operational, ev("O", 0))
	mustAdd(t, s, queue.High, ev("H", 1))
	mustAdd(t, s, queue.High, ev("H", 2))
	mustAdd(t, s, queue.Low, ev("L", 1))
	mustAdd(t, s, queue.Low, ev("L", 2))
	var dropped []queue.Dropped
	for i := range 4 {
		dropped = append(dropped, mustAdd(t, s, queue.High, ev("H", 3+i))...)
	}
	want := []string{"L", "L", "H", "H"}
	if len(dropped) != 4 {
		t.Fatalf("dropped %v", dropped)
	}
	for i, d := range dropped {
		if d.Name != want[i] || d.Reason != queue.ReasonEvicted {
			t.Fatalf("drop %d = %+v, want %s evicted", i, d, want[i])
		}
	}
	if got := datas(mustTake(t, s, queue.High, all)); got[0] != `{"Name":"H","n":3}` || len(got) != 4 {
		t.Fatalf("High kept %v", got)
	}
	if s.Len(queue.Operational) != 1 || s.Used() > 5*one {
		t.Fatalf("operational %d used %d", s.Len(queue.Operational), s.Used())
	}
}

func TestInFlightIsNeverEvicted(t *testing.T) {
	one := cost(1, len(ev("L", 0).Data))
	s, _ := mustOpen(t, Options{Dir: t.TempDir(), Budget: 3 * one})
	for i := range 3 {
		mustAdd(t, s, queue.Low, ev("L", i))
	}
	taken := mustTake(t, s, queue.Low, upTo(2))
	d := mustAdd(t, s, queue.Low, ev("L", 3))
	if len(d) != 1 || s.Len(queue.Low) != 1 {
		t.Fatalf("dropped %v, len %d", d, s.Len(queue.Low))
	}
	if err := s.Release("", taken); err != nil {
		t.Fatal(err)
	}
	if got := datas(mustTake(t, s, queue.Low, all)); len(got) != 1 || got[0] != `{"Name":"L","n":3}` {
		t.Fatalf("left %v", got)
	}
}

func TestTooLargeAndShrinkingBudget(t *testing.T) {
	s, _ := mustOpen(t, Options{Dir: t.TempDir(), Budget: 1000})
	big := queue.Item{Name: "X", Data: make([]byte, 2000)}
	if d, _ := s.Add(queue.Low, big); len(d) != 1 || d[0].Reason != queue.ReasonTooLarge {
		t.Fatalf("got %v", d)
	}
	if _, err := s.SetBudget(1 << 20); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustAdd(t, s, queue.Low, ev("L", i))
	}
	d, err := s.SetBudget(3 * cost(1, len(ev("L", 0).Data)))
	if err != nil || len(d) != 7 {
		t.Fatalf("shrink evicted %d (%v)", len(d), err)
	}
}

func TestTTLDropsOldEventsWhenSending(t *testing.T) {
	clk := newClock()
	s, _ := mustOpen(t, Options{Dir: t.TempDir(), Budget: 1 << 20, TTL: time.Hour, Now: clk.Now})
	mustAdd(t, s, queue.High, ev("H", 0))
	clk.Add(59 * time.Minute)
	mustAdd(t, s, queue.High, ev("H", 1))
	clk.Add(2 * time.Minute)
	got := mustTake(t, s, queue.High, all)
	if len(got) != 1 || string(got[0].Data) != `{"Name":"H","n":1}` {
		t.Fatalf("sent %v", datas(got))
	}
	d := s.Drops()
	if len(d) != 1 || d[0].Reason != queue.ReasonExpired || d[0].Name != "H" {
		t.Fatalf("drops %v", d)
	}
	if s.Used() != cost(1, len(got[0].Data)) {
		t.Fatalf("used %d", s.Used())
	}
}

func TestPendingCountsBeforeCommit(t *testing.T) {
	s, _ := mustOpen(t, Options{Dir: t.TempDir(), Budget: 1 << 20})
	for i := range 3 {
		if _, err := s.Add(queue.Low, ev("L", i)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len(queue.Low) != 3 || s.Bytes(queue.Low) == 0 {
		t.Fatalf("len %d bytes %d", s.Len(queue.Low), s.Bytes(queue.Low))
	}
	// Take commits first, so order and content are the same.
	if got := mustTake(t, s, queue.Low, all); len(got) != 3 || got[0].Seq == 0 {
		t.Fatalf("took %+v", got)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	_, _, err := Open(Options{Dir: dir, Budget: 1 << 20, LockTimeout: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("a second process could open the same spool")
	}
}
