package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// StateDir holds small snapshots a stage keeps across restarts (template learner, near-dup
// index, alert baselines). Writes are atomic (temp file + rename). A zero StateDir ("")
// disables persistence.
type StateDir string

// Load returns the snapshot called name, or nil when there is none.
func (d StateDir) Load(name string) ([]byte, error) {
	if d == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("service: load state %s: %w", name, err)
	}
	return b, nil
}

// Save writes the snapshot atomically and durably: the temporary file is synced before the
// rename and the directory after it, so a snapshot that Save reported written survives a
// power loss (callers ack messages on the strength of it).
func (d StateDir) Save(name string, b []byte) error {
	if d == "" {
		return nil
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return fmt.Errorf("service: state dir: %w", err)
	}
	tmp, err := os.CreateTemp(string(d), name+".tmp*")
	if err != nil {
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("service: save state %s: sync: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(string(d), name)); err != nil {
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	if dir, err := os.Open(string(d)); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			return fmt.Errorf("service: save state %s: sync dir: %w", name, err)
		}
	}
	return nil
}

// Quarantine renames the snapshot name to name.bad-<unix seconds> so that a snapshot that
// could not be restored is kept for inspection instead of being overwritten by the next
// save. It returns the new path ("" when there was nothing to rename).
func (d StateDir) Quarantine(name string) (string, error) {
	if d == "" {
		return "", nil
	}
	from := filepath.Join(string(d), name)
	to := fmt.Sprintf("%s.bad-%d", from, time.Now().Unix())
	if err := os.Rename(from, to); err != nil {
		if os.IsNotExist(err) {
			return "", nil
		}
		return "", fmt.Errorf("service: quarantine state %s: %w", name, err)
	}
	return to, nil
}

// PersistEvery adds an actor that saves snapshot() under name every interval and once more
// when the service stops.
func (r *Runtime) PersistEvery(d StateDir, name string, interval time.Duration, snapshot func() []byte) {
	if d == "" {
		return
	}
	save := func() {
		if err := d.Save(name, snapshot()); err != nil {
			r.Log.Warn("state not saved", zap.String("name", name), zap.Error(err))
		}
	}
	r.Go("persist "+name, func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				save()
			}
		}
	})
	r.OnStop(save)
}
