package spool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// The kill test re-runs this test binary as the child: a busy producer
// and sender on a real spool, killed with SIGKILL at random points.
const (
	childEnv = "SPOOL_KILL_CHILD" // the child's state directory
	roundEnv = "SPOOL_KILL_ROUND" // round number, or "drain" for the final run
	killsEnv = "SPOOL_KILLS"      // kills per run (default 20)
)

// The child writes two logs beside the spool, each line in one write(2)
// so a kill never tears it:
//   - committed: ids of events whose Commit returned (acknowledged to the
//     producer; these must never be lost);
//   - delivered: "mid id,id,..." for every message the sink accepted.
const (
	committedLog = "committed.log"
	deliveredLog = "delivered.log"
	childLog     = "child.log"
)

func TestKillNineAtRandomPoints(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChild(dir, os.Getenv(roundEnv))
		return
	}
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	kills := 20
	if v := os.Getenv(killsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q", killsEnv, v)
		}
		kills = n
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d kills", seed, kills)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range kills {
		cmd := child(t, dir, strconv.Itoa(round))
		before := size(filepath.Join(dir, committedLog))
		if err := cmd.Start(); errors.Is(err, syscall.ENOEXEC) {
			// Under qemu-user without binfmt the binary cannot run
			// itself; the native pass runs this test.
			t.Skipf("cannot re-execute the test binary: %v", err)
		} else if err != nil {
			t.Fatal(err)
		}
		// Kill at a random point once the child is busy (its start-up
		// time varies a lot, under -race or qemu): bounded, never a
		// reason to fail.
		for deadline := time.Now().Add(10 * time.Second); size(filepath.Join(dir, committedLog)) == before && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := child(t, dir, "drain")
	cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+dir, roundEnv+"=drain")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkKillRun(t, dir)
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func child(t *testing.T, dir, round string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineAtRandomPoints$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, roundEnv+"="+round)
	return cmd
}

func checkKillRun(t *testing.T, dir string) {
	logText, _ := os.ReadFile(filepath.Join(dir, childLog))
	for _, bad := range []string{"damaged", "checksum", "memory only", "cannot"} {
		if strings.Contains(string(logText), bad) {
			t.Fatalf("the spool did not open cleanly every time (%q):\n%s", bad, logText)
		}
	}
	committed := readLines(t, filepath.Join(dir, committedLog))
	seen := map[string][]string{} // event id -> mids it was delivered in
	bodies := map[string]string{} // mid -> its event list
	messages, dups := 0, 0
	for _, line := range readLines(t, filepath.Join(dir, deliveredLog)) {
		mid, ids, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("torn delivered line %q", line)
		}
		if prev, ok := bodies[mid]; ok {
			if prev != ids {
				t.Fatalf("message %s delivered twice with different events:\n%s\n%s", mid, prev, ids)
			}
			dups++
		}
		bodies[mid] = ids
		messages++
		for _, id := range strings.Split(ids, ",") {
			seen[id] = append(seen[id], mid)
		}
	}
	for id, mids := range seen {
		for _, m := range mids[1:] {
			if m != mids[0] {
				t.Fatalf("event %s delivered in different messages %v: a duplicate must be the whole message with its $.mid", id, mids)
			}
		}
	}
	lost := 0
	for _, id := range committed {
		if _, ok := seen[id]; !ok {
			lost++
			t.Errorf("committed event %s never delivered", id)
		}
	}
	t.Logf("%d committed events, %d distinct delivered, %d messages, %d whole-message duplicates, %d lost", len(committed), len(seen), messages, dups, lost)
	if len(committed) == 0 {
		t.Fatal("the child never committed anything: the test proved nothing")
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// appendLog writes each line with one write(2) on an O_APPEND file.
type appendLog struct {
	mu sync.Mutex
	f  *os.File
}

func openLog(dir, name string) *appendLog {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return &appendLog{f: f}
}

func (l *appendLog) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.WriteString(s + "\n"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

// runChild mirrors the pipeline's use of the store: one goroutine adds
// and commits bursts, another resends held messages, then takes, holds,
// "sends" (appends to the delivered log) and releases. In the drain
// round it only sends, until the spool is empty.
func runChild(dir, round string) {
	l := logrus.New()
	l.SetOutput(openLog(dir, childLog).f)
	l.SetLevel(logrus.WarnLevel)
	st := NewStore(StoreOptions{Options: Options{Dir: dir, Budget: 256 << 20}, Logger: logrus.NewEntry(l)})
	committed, delivered := openLog(dir, committedLog), openLog(dir, deliveredLog)
	send := func(mid string, items []queue.Item) {
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.Name + ":" + string(it.Data)
		}
		delivered.line(mid + " " + strings.Join(ids, ","))
		st.Release(mid, items)
	}
	for _, h := range st.Held() {
		send(h.ID, h.Items)
	}
	sendOne := func() bool {
		var items []queue.Item
		for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
			items = append(items, st.Take(c, upTo(25-len(items)))...)
		}
		if len(items) == 0 {
			return false
		}
		mid := uuid.NewString()
		st.Hold(mid, event.Low, items)
		send(mid, items)
		return true
	}
	if round == "drain" {
		for sendOne() {
		}
		if err := st.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	go func() {
		for {
			if !sendOne() {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	classes := []queue.Class{queue.Low, queue.High, queue.Low, queue.Operational}
	for i := 0; ; i++ {
		var burst []string
		for j := range 1 + i%40 {
			id := fmt.Sprintf("r%s-%d-%d", round, i, j)
			st.Add(classes[(i+j)%len(classes)], queue.Item{Name: "E", Data: []byte(id)})
			burst = append(burst, "E:"+id)
		}
		st.Commit()
		if st.Degraded() != nil {
			os.Exit(3) // the producer must not pretend these are durable
		}
		committed.line(strings.Join(burst, "\n"))
	}
}
