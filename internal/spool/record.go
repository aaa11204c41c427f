package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// Record encodings are versioned so a later module can still read (or at
// least recognise and quarantine) what an earlier one wrote.
const (
	recordV1 = 1
	heldV1   = 1
)

// Limits on decoded fields: anything larger is corruption, not data.
const (
	maxNameLen   = 255
	maxMIDLen    = 255
	maxHeldItems = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt spool record")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// record is one spooled event. Its key is the big-endian sequence number
// within its class bucket; the checksum covers the key too, so a value
// found under the wrong key is caught.
//
// Layout v1: version(1) class(1) enqueued-unix-nano(8) nameLen(1) name
// data crc32c(4).
type record struct {
	class    queue.Class
	seq      uint64
	enqueued time.Time
	name     string
	data     []byte
}

const recordFixed = 1 + 1 + 8 + 1 + 4

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

func encodeRecord(r record) []byte {
	b := make([]byte, 0, recordFixed+len(r.name)+len(r.data))
	b = append(b, recordV1, byte(r.class))
	b = binary.BigEndian.AppendUint64(b, uint64(r.enqueued.UnixNano()))
	b = append(b, byte(len(r.name)))
	b = append(b, r.name...)
	b = append(b, r.data...)
	return binary.BigEndian.AppendUint32(b, checksum(seqKey(r.seq), b))
}

func checksum(key, body []byte) uint32 {
	c := crc32.Update(0, castagnoli, key)
	return crc32.Update(c, castagnoli, body)
}

// decodeRecord checks and decodes one value. The returned data aliases
// val: bbolt memory is only valid inside its transaction, so callers copy.
func decodeRecord(key, val []byte) (record, error) {
	if len(key) != 8 {
		return record{}, corrupt("key of %d bytes", len(key))
	}
	if len(val) < recordFixed {
		return record{}, corrupt("record of %d bytes", len(val))
	}
	body, sum := val[:len(val)-4], binary.BigEndian.Uint32(val[len(val)-4:])
	if got := checksum(key, body); got != sum {
		return record{}, corrupt("checksum %08x, want %08x", got, sum)
	}
	if body[0] != recordV1 {
		return record{}, corrupt("record version %d", body[0])
	}
	r := record{class: queue.Class(body[1]), seq: binary.BigEndian.Uint64(key)}
	if r.class > queue.Low {
		return record{}, corrupt("class %d", body[1])
	}
	r.enqueued = time.Unix(0, int64(binary.BigEndian.Uint64(body[2:10])))
	n := int(body[10])
	rest := body[11:]
	if n == 0 || n > len(rest) {
		return record{}, corrupt("name of %d bytes in %d", n, len(rest))
	}
	r.name, r.data = string(rest[:n]), rest[n:]
	return r, nil
}

// held is a message handed to the sink and not yet acknowledged: its
// $.mid and the records it carries, in message order. It is written
// before the first attempt, so a message retried after a crash is the
// same message with the same id.
//
// Layout v1: version(1) priority(1) midLen(1) mid count(4)
// count×(class(1) seq(8)) crc32c(4).
type held struct {
	mid      string
	priority event.Priority
	items    []ref
}

type ref struct {
	class queue.Class
	seq   uint64
}

func encodeHeld(key []byte, h held) []byte {
	b := make([]byte, 0, 7+len(h.mid)+9*len(h.items)+4)
	b = append(b, heldV1, byte(h.priority), byte(len(h.mid)))
	b = append(b, h.mid...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(h.items)))
	for _, it := range h.items {
		b = append(b, byte(it.class))
		b = binary.BigEndian.AppendUint64(b, it.seq)
	}
	return binary.BigEndian.AppendUint32(b, checksum(key, b))
}

func decodeHeld(key, val []byte) (held, error) {
	if len(key) != 8 {
		return held{}, corrupt("held key of %d bytes", len(key))
	}
	if len(val) < 7+4 {
		return held{}, corrupt("held record of %d bytes", len(val))
	}
	body, sum := val[:len(val)-4], binary.BigEndian.Uint32(val[len(val)-4:])
	if got := checksum(key, body); got != sum {
		return held{}, corrupt("held checksum %08x, want %08x", got, sum)
	}
	if body[0] != heldV1 {
		return held{}, corrupt("held version %d", body[0])
	}
	h := held{priority: event.Priority(body[1])}
	n := int(body[2])
	rest := body[3:]
	if n == 0 || n+4 > len(rest) {
		return held{}, corrupt("mid of %d bytes in %d", n, len(rest))
	}
	h.mid, rest = string(rest[:n]), rest[n:]
	count := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if count > maxHeldItems || uint64(len(rest)) != uint64(count)*9 {
		return held{}, corrupt("held count %d with %d bytes", count, len(rest))
	}
	h.items = make([]ref, count)
	for i := range h.items {
		c := queue.Class(rest[0])
		if c > queue.Low {
			return held{}, corrupt("held class %d", rest[0])
		}
		h.items[i] = ref{c, binary.BigEndian.Uint64(rest[1:9])}
		rest = rest[9:]
	}
	return h, nil
}
