package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Result is the outcome of applying desired properties.
type Result struct {
	Config Config
	// Errors lists every problem of the current document, in registry
	// order, then the cross-key rules. They repeat on every apply while
	// the document still holds the problem.
	Errors []KeyError
	// Version is the desired $version last seen, -1 when never given.
	Version int64
	// Changed says whether Config differs from the one before the apply.
	Changed bool
}

func (r Result) clone() Result {
	r.Config = r.Config.Clone()
	r.Errors = slices.Clone(r.Errors)
	return r
}

// Store holds the desired document as IoT Hub holds it (only our two
// objects), the last good value of every key, and the effective result.
// It is safe for concurrent use.
type Store struct {
	path string

	mu      sync.Mutex
	doc     map[string]any // ObjectName and ModuleObjectName, as merged
	good    map[string]any // key name → last good value, before cross-key fixes
	cur     Result
	written []byte // what path holds, to skip rewriting the same bytes
}

// stateFile is what the store persists. Good lets the next start fall
// back to the same last good values as this run for keys that are
// invalid in Desired.
type stateFile struct {
	Version int64          `json:"version"`
	Desired map[string]any `json:"desired"`
	Good    map[string]any `json:"good"`
}

// NewStore returns a store with the defaults, or with the document last
// persisted at path. path "" disables persistence. A file that cannot be
// read or parsed gives an error alongside a usable store with defaults;
// the next apply replaces the file.
func NewStore(path string) (*Store, error) {
	s := &Store{path: path, doc: map[string]any{}}
	s.cur.Config, s.good, s.cur.Errors = evaluate(s.doc, nil)
	s.cur.Version = -1
	if path == "" {
		return s, nil
	}
	b, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err == nil {
		err = s.load(b)
	}
	if err != nil {
		return s, fmt.Errorf("load last configuration from %s: %w", path, err)
	}
	s.written = b
	return s, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDocumentSize+1))
	if err == nil && len(b) > maxDocumentSize {
		err = fmt.Errorf("larger than %d bytes", maxDocumentSize)
	}
	return b, err
}

func (s *Store) load(b []byte) error {
	m, err := decodeObject(b)
	if err != nil {
		return err
	}
	desired, ok := m["desired"].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: no \"desired\" object", ErrMalformed)
	}
	good, _ := m["good"].(map[string]any)
	_, s.good, _ = evaluate(good, nil)
	for _, o := range objects {
		if v := desired[o]; v != nil {
			s.doc[o] = v
		}
	}
	s.cur.Config, s.good, s.cur.Errors = evaluate(s.doc, s.good)
	s.cur.Version = parseVersion(m["version"])
	return nil
}

// ApplyFull applies the twin's whole desired section, replacing the
// previous document. $version and other modules' keys may be present; a
// whole twin ({"properties": {"desired": …}} or {"desired": …}) is
// accepted too. An ErrMalformed error means nothing was applied; any
// other error means the result is in effect but was not persisted.
func (s *Store) ApplyFull(desired []byte) (Result, error) {
	m, err := decodeObject(desired)
	if err != nil {
		return s.unchanged(), err
	}
	m = desiredSection(m)
	doc := map[string]any{}
	for _, o := range objects {
		if v, ok := m[o]; ok && v != nil {
			doc[o] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(doc, version(m))
}

// ApplyPatch merges a desired-properties patch into the previous document
// (RFC 7386: null deletes a key, which then takes its default; keys not
// in the patch keep their values). $version, when present, becomes
// Result.Version. Errors are as for ApplyFull.
func (s *Store) ApplyPatch(patch []byte) (Result, error) {
	m, err := decodeObject(patch)
	if err != nil {
		return s.unchanged(), err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := maps.Clone(s.doc)
	for _, o := range objects {
		v, ok := m[o]
		switch {
		case !ok:
		case v == nil:
			delete(doc, o)
		default:
			doc[o] = mergePatch(doc[o], v)
		}
	}
	ver := s.cur.Version
	if v := version(m); v >= 0 {
		ver = v
	}
	return s.apply(doc, ver)
}

// Current returns the result in effect.
func (s *Store) Current() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.clone()
}

// unchanged is the result of an apply that changed nothing.
func (s *Store) unchanged() Result {
	r := s.Current()
	r.Changed = false
	return r
}

// apply evaluates doc and makes it current. s.mu must be held.
func (s *Store) apply(doc map[string]any, version int64) (Result, error) {
	cfg, good, errs := evaluate(doc, s.good)
	s.cur = Result{Config: cfg, Errors: errs, Version: version, Changed: !cfg.Equal(s.cur.Config)}
	s.doc, s.good = doc, good
	return s.cur.clone(), s.persist()
}

func (s *Store) persist() error {
	if s.path == "" {
		return nil
	}
	good := document(func(k key) any { return s.good[k.name] })
	b, err := json.Marshal(stateFile{Version: s.cur.Version, Desired: s.doc, Good: good})
	if err != nil {
		return fmt.Errorf("persist configuration: %w", err)
	}
	if len(b) > maxDocumentSize {
		return fmt.Errorf("persist configuration: %d bytes, more than %d", len(b), maxDocumentSize)
	}
	if bytes.Equal(b, s.written) {
		return nil // spare the flash
	}
	if err := writeAtomic(s.path, b); err != nil {
		return fmt.Errorf("persist configuration: %w", err)
	}
	s.written = b
	return nil
}

// writeAtomic replaces path with b so that a crash leaves the old or the
// new file, never a torn one.
func writeAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename durable; not every file system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
