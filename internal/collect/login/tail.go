package login

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// chunkBytes bounds one read of an appended file: 170 utmp records or a
// few hundred log lines. A larger backlog is read chunk by chunk.
const chunkBytes = 64 << 10

// tailer reads what is appended to one host file (wtmp, btmp, auth.log).
type tailer struct {
	root hostfs.Root
	name string // host path, e.g. /var/log/wtmp; also the state key
	st   fileState
	// known is false until a position exists (from the state file or a
	// first look at the file).
	known bool
	buf   []byte
	// skipped counts the chunks dropped for holding no whole record (a
	// line beyond chunkBytes, garbage without newlines); the stream
	// counts them as malformed.
	skipped int
}

// consumer gets a chunk read at file offset off and returns how many of
// its bytes it used: whole records or lines; the rest is read again with
// the next chunk.
type consumer func(chunk []byte, off int64) (used int)

// poll passes everything appended since the last call to fn. Without a
// known position (first start, no state) it starts at the end of the file:
// the history before the module was installed is not replayed. A new inode
// means rotation: the rest of the old file is read from its rotated name
// (name.1) when it is there, then the new file from its start. A file
// shorter than the offset was truncated in place and is read from 0. A
// missing file keeps its position; one missing at the first start is read
// from its start when it appears.
func (t *tailer) poll(fn consumer) error {
	f, err := t.root.Open(t.name)
	if errors.Is(err, fs.ErrNotExist) {
		// Known as absent: when it appears it is new, read from its start.
		t.known = true
		return nil
	}
	if err != nil {
		return err // *PathError names the file
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	ino, size := inode(fi), fi.Size()
	switch {
	case !t.known:
		t.st, t.known = fileState{Inode: ino, Offset: size, Size: size}, true
		return nil
	case ino != t.st.Inode:
		t.drainRotated(fn)
		t.st = fileState{Inode: ino}
	case size < t.st.Offset || !t.sameTail(f):
		t.st.Offset = 0
	}
	t.st.Size = size
	start := t.st.Offset
	err = t.read(f, size, fn)
	if t.st.Offset != start {
		t.st.Tail = t.tailAt(f, t.st.Offset)
	}
	return err
}

// tailBytes is how much of the end of the read part identifies it: more
// than the varying fields of the last utmp record or log line.
const tailBytes = 128

// tailAt returns the tailBytes before off (fewer near the start).
func (t *tailer) tailAt(f *os.File, off int64) []byte {
	n := min(off, tailBytes)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off-n); err != nil {
		return nil
	}
	return b
}

// sameTail reports whether the bytes before the offset are still those
// read; without a recorded tail (old state) it trusts the offset.
func (t *tailer) sameTail(f *os.File) bool {
	if len(t.st.Tail) == 0 || t.st.Offset == 0 {
		return true
	}
	return bytes.Equal(t.tailAt(f, t.st.Offset), t.st.Tail)
}

// drainRotated reads the end of the file the position belongs to if
// logrotate renamed it to name.1. Errors only cost those records.
func (t *tailer) drainRotated(fn consumer) {
	if t.st.Inode == 0 {
		return
	}
	old, err := t.root.Open(t.name + ".1")
	if err != nil {
		return
	}
	defer old.Close()
	if fi, err := old.Stat(); err == nil && inode(fi) == t.st.Inode && fi.Size() > t.st.Offset {
		_ = t.read(old, fi.Size(), fn)
	}
}

// read passes f from t.st.Offset up to size in chunks.
func (t *tailer) read(f *os.File, size int64, fn consumer) error {
	if t.buf == nil {
		t.buf = make([]byte, chunkBytes)
	}
	for t.st.Offset < size {
		n := int(min(size-t.st.Offset, int64(len(t.buf))))
		got, err := f.ReadAt(t.buf[:n], t.st.Offset)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s at %d: %w", f.Name(), t.st.Offset, err)
		}
		if got == 0 {
			return nil // shrank under us; the next poll sees it
		}
		used := fn(t.buf[:got], t.st.Offset)
		if used == 0 {
			if got < len(t.buf) {
				return nil // a partial record or line: wait for the rest
			}
			used = got // a full chunk without one record: skip it
			t.skipped++
		}
		t.st.Offset += int64(used)
	}
	return nil
}
