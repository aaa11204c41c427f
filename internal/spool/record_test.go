package spool

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

func TestRecordRoundTrip(t *testing.T) {
	r := record{class: queue.High, seq: 42, enqueued: time.Unix(1700000000, 5), name: "ProcessCreate", data: []byte(`{"a":1}`)}
	k := seqKey(r.seq)
	got, err := decodeRecord(k, encodeRecord(r))
	if err != nil {
		t.Fatal(err)
	}
	if got.class != r.class || got.seq != r.seq || !got.enqueued.Equal(r.enqueued) || got.name != r.name || !bytes.Equal(got.data, r.data) {
		t.Fatalf("got %+v, want %+v", got, r)
	}
}

func TestRecordDecodeRejectsDamage(t *testing.T) {
	good := encodeRecord(record{class: queue.Low, seq: 7, enqueued: time.Unix(1, 0), name: "Login", data: []byte("{}")})
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x40; return b }
	for _, tc := range []struct {
		name     string
		key, val []byte
	}{
		{"empty", seqKey(7), nil},
		{"short", seqKey(7), good[:recordFixed-1]},
		{"truncated", seqKey(7), good[:len(good)-1]},
		{"flipped version", seqKey(7), flip(0)},
		{"flipped name", seqKey(7), flip(12)},
		{"flipped checksum", seqKey(7), flip(len(good) - 1)},
		{"wrong key", seqKey(8), good},
		{"short key", []byte{7}, good},
		{"bad class", seqKey(7), reencode(good, func(b []byte) { b[1] = 9 })},
		{"bad version", seqKey(7), reencode(good, func(b []byte) { b[0] = 2 })},
		{"name past end", seqKey(7), reencode(good, func(b []byte) { b[10] = 200 })},
		{"empty name", seqKey(7), reencode(good, func(b []byte) { b[10] = 0 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeRecord(tc.key, tc.val); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// reencode changes a record's body and recomputes its checksum, to reach
// the checks behind the checksum.
func reencode(val []byte, change func([]byte)) []byte {
	body := bytes.Clone(val[:len(val)-4])
	change(body)
	out := append(body, 0, 0, 0, 0)
	sum := checksum(seqKey(7), body)
	out[len(out)-4], out[len(out)-3], out[len(out)-2], out[len(out)-1] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	return out
}

func TestHeldRoundTripAndDamage(t *testing.T) {
	h := held{mid: "0b9c6d1e-2f3a-4b5c-8d7e-9f0a1b2c3d4e", priority: event.High, items: []ref{{queue.Operational, 1}, {queue.High, 9}, {queue.Low, 1 << 40}}}
	k := seqKey(3)
	val := encodeHeld(k, h)
	got, err := decodeHeld(k, val)
	if err != nil {
		t.Fatal(err)
	}
	if got.mid != h.mid || got.priority != h.priority || len(got.items) != 3 || got.items[2] != h.items[2] {
		t.Fatalf("got %+v", got)
	}
	for i := range val {
		b := bytes.Clone(val)
		b[i] ^= 1
		if _, err := decodeHeld(k, b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: err = %v", i, err)
		}
	}
	for n := range len(val) {
		if _, err := decodeHeld(k, val[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: err = %v", n, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(seqKey(1), encodeRecord(record{class: queue.High, seq: 1, name: "Login", data: []byte(`{"x":1}`)}))
	f.Add(seqKey(2), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, key, val []byte) {
		r, err := decodeRecord(key, val)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not wrapping ErrCorrupt: %v", err)
			}
			return
		}
		// Whatever decodes must encode back to the same bytes.
		if again := encodeRecord(r); !bytes.Equal(again, val) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, val)
		}
	})
}

func FuzzDecodeHeld(f *testing.F) {
	f.Add(seqKey(1), encodeHeld(seqKey(1), held{mid: "m", priority: event.Low, items: []ref{{queue.Low, 5}}}))
	f.Add(seqKey(1), []byte{1, 1, 1, 'm', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, key, val []byte) {
		h, err := decodeHeld(key, val)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not wrapping ErrCorrupt: %v", err)
			}
			return
		}
		if again := encodeHeld(key, h); !bytes.Equal(again, val) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, val)
		}
	})
}
