package spool

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// filled writes n Low and n High records with recognisable data and
// closes the spool.
func filled(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s, _, err := Open(Options{Dir: dir, Budget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.Add(queue.Low, queue.Item{Name: "L", Data: []byte(strings.Repeat("l", 200) + string(rune('A'+i%26)))}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(queue.High, queue.Item{Name: "H", Data: []byte(strings.Repeat("h", 200))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func quarantined(t *testing.T, dir, prefix string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	return m
}

// checkUsable takes everything the reopened spool holds: every record
// must be intact, and the spool must accept new records.
func checkUsable(t *testing.T, s *Spool) int {
	t.Helper()
	n := 0
	for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
		for _, it := range mustTake(t, s, c, all) {
			if it.Name != "L" && it.Name != "H" {
				t.Fatalf("damaged record came back: %+v", it)
			}
			n++
		}
	}
	mustAdd(t, s, queue.High, ev("after", 1))
	if got := mustTake(t, s, queue.High, all); len(got) != 1 {
		t.Fatalf("new record not usable: %v", got)
	}
	return n
}

func TestFlippedRecordIsQuarantinedRestKept(t *testing.T) {
	dir := filled(t, 50)
	path := filepath.Join(dir, FileName)
	b, _ := os.ReadFile(path)
	i := bytes.Index(b, []byte(strings.Repeat("l", 200)+"C"))
	if i < 0 {
		t.Fatal("record not found in file")
	}
	b[i+10] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, rep := mustOpen(t, Options{Dir: dir, Budget: 64 << 20})
	if rep.Corrupt != 1 || len(rep.Quarantined) != 0 || rep.Records != 99 {
		t.Fatalf("report %+v, want one corrupt record and 99 kept", rep)
	}
	if d := s.Drops(); len(d) != 1 || d[0].Reason != queue.ReasonCorrupt || d[0].Class != queue.Low {
		t.Fatalf("drops %v", d)
	}
	if q := quarantined(t, dir, FileName+".records-"); len(q) != 1 {
		t.Fatalf("quarantined record files %v", q)
	}
	if n := checkUsable(t, s); n != 99 {
		t.Fatalf("took %d records, want 99", n)
	}
}

func TestTruncatedFileIsQuarantinedAndSalvaged(t *testing.T) {
	// A torn tail (not a whole page), half the file, and all but the two
	// meta pages. (A cut in the free space past bbolt's high-water mark
	// loses nothing and is not damage.)
	for _, keep := range []func(int64) int64{
		func(n int64) int64 { return n - 100 },
		func(n int64) int64 { return n / 2 / 4096 * 4096 },
		func(int64) int64 { return 2 * 4096 },
	} {
		dir := filled(t, 200)
		path := filepath.Join(dir, FileName)
		fi, _ := os.Stat(path)
		cut := fi.Size() - keep(fi.Size())
		if err := os.Truncate(path, fi.Size()-cut); err != nil {
			t.Fatal(err)
		}
		s, rep := mustOpen(t, Options{Dir: dir, Budget: 64 << 20})
		if len(rep.Quarantined) != 1 || rep.Reason == nil {
			t.Fatalf("cut %d: report %+v, want the file quarantined", cut, rep)
		}
		if q := quarantined(t, dir, FileName+".corrupt-"); len(q) != 1 {
			t.Fatalf("cut %d: quarantined files %v", cut, q)
		}
		n := checkUsable(t, s)
		if n != rep.Salvaged {
			t.Fatalf("cut %d: took %d, salvaged %d", cut, n, rep.Salvaged)
		}
		t.Logf("cut %d bytes: %v; salvaged %d of 400", cut, rep.Reason, rep.Salvaged)
	}
}

func TestGarbageFileIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	junk := make([]byte, 3*4096)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	s, rep := mustOpen(t, Options{Dir: dir, Budget: 1 << 20})
	if len(rep.Quarantined) != 1 {
		t.Fatalf("report %+v", rep)
	}
	checkUsable(t, s)
}

// TestRandomDamageNeverStopsTheSpool flips random bytes anywhere in the
// file (meta, branch and leaf pages, freelist): opening must always
// succeed, without a panic, and return only intact records.
func TestRandomDamageNeverStopsTheSpool(t *testing.T) {
	src := filled(t, 300)
	orig, _ := os.ReadFile(filepath.Join(src, FileName))
	rounds, seed := 40, uint64(1)
	if v, err := strconv.Atoi(os.Getenv("SPOOL_DAMAGE_ROUNDS")); err == nil && v > 0 {
		rounds, seed = v, uint64(time.Now().UnixNano())
	}
	t.Logf("%d rounds, seed %d", rounds, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for round := range rounds {
		dir := t.TempDir()
		b := bytes.Clone(orig)
		for range 1 + rng.IntN(8) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, _, _ := newStore(t, StoreOptions{Options: Options{Dir: dir, Budget: 64 << 20}})
		if err := st.Degraded(); err != nil {
			t.Fatalf("round %d: no spool: %v", round, err)
		}
		n := 0
		for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
			// A Take that meets damage repairs the file and returns
			// nothing; the next one reads the repaired spool.
			for tries := 0; st.Len(c) > 0 && tries < 1000; tries++ {
				items := st.Take(c, upTo(100))
				for _, it := range items {
					if it.Name != "L" && it.Name != "H" {
						t.Fatalf("round %d: damaged record came back: %q", round, it.Name)
					}
				}
				n += len(items)
				st.Release("", items)
			}
		}
		// The store keeps working: a new event comes back (after any
		// record a repair salvaged again).
		st.Add(queue.High, ev("after", 1))
		after := false
		for tries := 0; !after && tries < 1000; tries++ {
			for _, it := range st.Take(queue.High, all) {
				after = after || it.Name == "after"
			}
		}
		if !after {
			t.Fatalf("round %d: new record not usable", round)
		}
		if err := st.Close(); err != nil {
			t.Logf("round %d: close: %v", round, err)
		}
		if n != 600 {
			t.Logf("round %d: %d of 600 records came back", round, n)
		}
	}
}

func TestQuarantinedFilesArePruned(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	for range keepQuarantined + 2 {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte("not a spool"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, rep, err := Open(Options{Dir: dir, Budget: 1 << 20, Now: clk.Now})
		if err != nil || len(rep.Quarantined) != 1 {
			t.Fatalf("open: %v %+v", err, rep)
		}
		_ = s.Close()
		clk.Add(1e9)
	}
	if q := quarantined(t, dir, FileName+".corrupt-"); len(q) != keepQuarantined {
		t.Fatalf("kept %d quarantined files, want %d", len(q), keepQuarantined)
	}
}
