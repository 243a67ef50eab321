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

// Save writes the snapshot atomically.
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
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(string(d), name)); err != nil {
		return fmt.Errorf("service: save state %s: %w", name, err)
	}
	return nil
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
