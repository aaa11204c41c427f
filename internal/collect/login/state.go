package login

import "github.com/azureiotsecurity/azureiotsecurity/internal/statefile"

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
	ok, err = statefile.Load(dir, stateFile, maxStateBytes, &p)
	if err != nil || !ok {
		return persisted{}, false, err
	}
	return p, true, nil
}

// saveState replaces the state file atomically.
func saveState(dir string, p persisted) error {
	return statefile.Save(dir, stateFile, p)
}
