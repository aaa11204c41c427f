package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/uuid"
)

// agentID returns the configured id, or the one kept in the state
// directory, creating it on first start so it survives restarts.
func agentID(configured, stateDir string) (string, error) {
	if configured != "" {
		id, err := uuid.Parse(configured)
		if err != nil {
			return "", fmt.Errorf("agent id %q: %w", configured, err)
		}
		return id.String(), nil
	}
	path := filepath.Join(stateDir, "agent-id")
	b, err := os.ReadFile(path)
	if err == nil {
		id, perr := uuid.Parse(string(bytes.TrimSpace(b)))
		if perr == nil {
			return id.String(), nil
		}
		return "", fmt.Errorf("agent id file %s is corrupt (%w); remove it to generate a new id", path, perr)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read agent id: %w", err)
	}
	id := uuid.NewString()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write agent id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write agent id: %w", err)
	}
	return id, nil
}

func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	return nil
}
