package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"sync"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Bounds on /etc/passwd: far beyond any local account database.
const (
	maxPasswdBytes = 8 << 20
	maxPasswdUsers = 100_000
)

// UserResolver maps uids to names from the host's /etc/passwd (no NSS:
// inside the container, getpwuid would answer from the container's
// files). The file is parsed once and again only when its size or mtime
// changes, checked at most once per second. It is safe for concurrent
// use.
type UserResolver struct {
	root hostfs.Root
	now  func() time.Time

	mu      sync.Mutex
	checked time.Time // last stat
	size    int64
	mtime   time.Time
	names   map[uint32]string
	err     error // last load error, returned until the file changes
}

// NewUserResolver returns a resolver over root's /etc/passwd.
func NewUserResolver(root hostfs.Root) *UserResolver {
	return &UserResolver{root: root, now: time.Now}
}

// recheckEvery bounds how often the file is stat'ed on a busy exec path.
const recheckEvery = time.Second

// Name returns uid's account name; ok is false for a uid with no entry.
// An error means /etc/passwd could not be read or parsed.
func (u *UserResolver) Name(uid uint32) (name string, ok bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if now := u.now(); u.names == nil && u.err == nil || now.Sub(u.checked) >= recheckEvery {
		u.checked = now
		u.refresh()
	}
	if u.err != nil {
		return "", false, u.err
	}
	name, ok = u.names[uid]
	return name, ok, nil
}

// refresh reloads the file if its size or mtime changed.
func (u *UserResolver) refresh() {
	fi, err := statFile(u.root, "etc", "passwd")
	if err != nil {
		u.names, u.err, u.size, u.mtime = nil, fmt.Errorf("user names: %w", err), -1, time.Time{}
		return
	}
	if u.names != nil && fi.Size() == u.size && fi.ModTime().Equal(u.mtime) {
		return
	}
	b, err := u.root.ReadFile(maxPasswdBytes, "etc", "passwd")
	if err != nil {
		u.names, u.err = nil, fmt.Errorf("user names: %w", err)
		return
	}
	u.names, u.err = ParsePasswdNames(bytes.NewReader(b)), nil
	u.size, u.mtime = fi.Size(), fi.ModTime()
}

// ParsePasswdNames maps uid to name from passwd(5) text. As getpwuid
// does, the first entry for a uid wins. Malformed and NIS lines ("+…",
// "-…") are skipped: a name is a best-effort enrichment, and
// internal/collect/users reports bad lines.
func ParsePasswdNames(r io.Reader) map[uint32]string {
	names := make(map[uint32]string)
	br := bufio.NewReaderSize(r, 64<<10) // longer lines are skipped
	for len(names) < maxPasswdUsers {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			line = nil
			_, err = br.ReadSlice('\n')
		}
		if f := bytes.SplitN(bytes.TrimRight(line, "\r\n"), []byte(":"), 4); len(f) == 4 &&
			len(f[0]) > 0 && f[0][0] != '+' && f[0][0] != '-' && f[0][0] != '#' {
			if uid, perr := strconv.ParseUint(string(f[2]), 10, 32); perr == nil {
				if _, dup := names[uint32(uid)]; !dup {
					names[uint32(uid)] = string(f[0])
				}
			}
		}
		if err != nil {
			break
		}
	}
	return names
}

// statFile stats a host file through the root, following in-root links.
func statFile(root hostfs.Root, elem ...string) (fs.FileInfo, error) {
	f, err := root.Open(elem...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}
