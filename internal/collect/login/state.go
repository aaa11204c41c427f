package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// stateFile holds the read positions in Deps.StateDir.
const stateFile = "login-state.json"

// maxStateBytes bounds the state file read: positions plus at most
// maxSessions live sessions of a few hundred bytes.
const maxStateBytes = 4 << 20

// fileState is the read position in one append-only file. The inode tells
// a rotated file from the same file; a size below the offset tells a file
// truncated in place.
type fileState struct {
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	// Tail is the last bytes before Offset. A file truncated and written
	// again past Offset between two polls (copytruncate) keeps its inode
	// and size; different bytes there reveal it.
	Tail []byte `json:"tail,omitempty"`
}

// persisted is the state file's content.
type persisted struct {
	Files map[string]fileState `json:"files"`
	// Utmp is the live sessions of /run/utmp at the last read, so that
	// sessions that ended while the module was down are reported and the
	// ones still open are not reported again.
	Utmp []session `json:"utmp,omitempty"`
}

// loadState reads the state; a missing file is a first start (ok false).
func loadState(dir string) (p persisted, ok bool, err error) {
	f, err := os.Open(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return persisted{}, false, nil
	}
	if err != nil {
		return persisted{}, false, fmt.Errorf("load state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(hostfs.LimitedReader(f, maxStateBytes))
	if err != nil {
		return persisted{}, false, fmt.Errorf("load state %s: %w", f.Name(), err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return persisted{}, false, fmt.Errorf("load state %s: %w", f.Name(), err)
	}
	return p, true, nil
}

// saveState replaces the state file atomically: a crash leaves the old or
// the new state, never a torn one.
func saveState(dir string, p persisted) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, stateFile+".*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}
