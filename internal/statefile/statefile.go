// Package statefile keeps the small JSON documents collectors remember
// between runs (read positions, the last snapshot) in the state
// directory, written so that a crash or power loss leaves the old
// document or the new one, never a torn one.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Load decodes dir/name into v. found is false, with no error, when there
// is no state directory or no file yet (a first run). A file over limit
// bytes or not valid JSON is an error naming the file.
func Load(dir, name string, limit int64, v any) (found bool, err error) {
	if dir == "" {
		return false, nil
	}
	p := filepath.Join(dir, name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load state: %w", err)
	}
	defer f.Close()
	if err := json.NewDecoder(hostfs.LimitedReader(f, limit)).Decode(v); err != nil {
		return false, fmt.Errorf("load state %s: %w", p, err)
	}
	return true, nil
}

// Save replaces dir/name with v encoded as JSON: written to a temporary
// file, synced, renamed over the old one, and the directory synced so the
// rename itself survives a power loss. Without a state directory it does
// nothing.
func Save(dir, name string, v any) error {
	if dir == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save state %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	// Sync before the rename: on power loss the rename may otherwise
	// survive the data.
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
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save state: sync %s: %w", dir, err)
	}
	return nil
}
