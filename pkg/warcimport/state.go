package warcimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fileState is what was imported of one file: records before Offset are published (their
// batch was acknowledged); Done when the whole file is.
type fileState struct {
	Size   int64 `json:"size"`
	Offset int64 `json:"offset"`
	Done   bool  `json:"done"`
}

// state is the resume file: absolute path → fileState.
type state struct {
	Version int                  `json:"version"`
	Files   map[string]fileState `json:"files"`
}

// loadState reads path ("" or missing: empty state). A state file that does not parse is an
// error (resuming from a wrong offset would skip records; delete it to start over).
func loadState(path string) (*state, error) {
	st := &state{Version: 1, Files: map[string]fileState{}}
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("warcimport: state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("warcimport: state file %s does not parse (delete it to import from the start): %w", path, err)
	}
	if st.Files == nil {
		st.Files = map[string]fileState{}
	}
	return st, nil
}

// save writes the state atomically (temp file, fsync, rename); "" does nothing.
func (st *state) save(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("warcimport: state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".warcimport-state-*")
	if err != nil {
		return fmt.Errorf("warcimport: state: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("warcimport: state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("warcimport: state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("warcimport: state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("warcimport: state: %w", err)
	}
	return nil
}
