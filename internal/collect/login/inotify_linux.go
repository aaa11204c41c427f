package login

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// watcher wakes the collector when one of the watched files changes. It
// watches the files' directories, not the files, so that a file created
// or renamed into place (rotation, first sshd login creating btmp) is seen.
type watcher struct {
	f     *os.File
	names map[int32]map[string]bool // watch descriptor → base names
	wake  chan struct{}
}

const inotifyMask = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_DELETE

// newWatcher watches the directories of files (host paths already under
// the root). Directories that do not exist are skipped; no directory at
// all is an error, and the caller polls instead.
func newWatcher(files []string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking fd makes the File pollable: Close interrupts Read.
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), names: map[int32]map[string]bool{}, wake: make(chan struct{}, 1)}
	for _, p := range files {
		wd, err := unix.InotifyAddWatch(fd, filepath.Dir(p), inotifyMask)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			w.f.Close()
			return nil, fmt.Errorf("inotify watch %s: %w", filepath.Dir(p), err)
		}
		if w.names[int32(wd)] == nil {
			w.names[int32(wd)] = map[string]bool{}
		}
		w.names[int32(wd)][filepath.Base(p)] = true
	}
	if len(w.names) == 0 {
		w.f.Close()
		return nil, fmt.Errorf("inotify: none of the directories exists")
	}
	return w, nil
}

// Run reads events until ctx ends and signals wake, coalesced, for the
// watched names (and their rotated ".1" names).
func (w *watcher) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { w.f.Close() })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("inotify read: %w", err)
		}
		if w.relevant(buf[:n]) {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

// relevant reports whether a batch of inotify_event structs names a
// watched file or the queue overflowed.
func (w *watcher) relevant(b []byte) bool {
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:]))
		mask := binary.NativeEndian.Uint32(b[4:])
		nameLen := int(binary.NativeEndian.Uint32(b[12:]))
		if unix.SizeofInotifyEvent+nameLen > len(b) {
			return true
		}
		name := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+nameLen]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		if mask&unix.IN_Q_OVERFLOW != 0 {
			return true
		}
		s := string(name)
		if names := w.names[wd]; names[s] || (len(s) > 2 && s[len(s)-2:] == ".1" && names[s[:len(s)-2]]) {
			return true
		}
		b = b[unix.SizeofInotifyEvent+nameLen:]
	}
	return false
}

// inode returns the file's inode number.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
