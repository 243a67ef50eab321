package alert

import (
	"context"
	"os"
	"time"

	"go.uber.org/zap"
)

// RuleWatcher polls a rules file and applies it when it changes (mtime or size). An invalid
// file is rejected with a logged, clear message and the rules in force keep running.
type RuleWatcher struct {
	path     string
	interval time.Duration
	apply    func([]Rule) error
	log      *zap.Logger
	onResult func(ok bool, err error)
	modTime  time.Time
	size     int64
}

// NewRuleWatcher watches path every interval (default 2s) and calls a.SetRules on change.
// The current file state is taken as already applied (load it with LoadRules first).
func NewRuleWatcher(path string, interval time.Duration, a *Alerter, log *zap.Logger) *RuleWatcher {
	w := newRuleWatcher(path, interval, a.SetRules, log)
	w.onResult = func(ok bool, _ error) {
		if ok {
			a.m.reloads.WithLabelValues("ok").Inc()
		} else {
			a.m.reloads.WithLabelValues("invalid").Inc()
		}
	}
	return w
}

func newRuleWatcher(path string, interval time.Duration, apply func([]Rule) error, log *zap.Logger) *RuleWatcher {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if log == nil {
		log = zap.NewNop()
	}
	w := &RuleWatcher{path: path, interval: interval, apply: apply, log: log}
	if fi, err := os.Stat(path); err == nil {
		w.modTime, w.size = fi.ModTime(), fi.Size()
	}
	return w
}

// Check polls once; it reports whether the file changed and, if so, the load/apply error.
func (w *RuleWatcher) Check() (changed bool, err error) {
	fi, err := os.Stat(w.path)
	if err != nil {
		return false, err
	}
	if fi.ModTime().Equal(w.modTime) && fi.Size() == w.size {
		return false, nil
	}
	w.modTime, w.size = fi.ModTime(), fi.Size()
	rules, err := LoadRules(w.path)
	if err == nil {
		err = w.apply(rules)
	}
	if err != nil {
		w.log.Error("alert: rules rejected, keeping the rules in force", zap.String("path", w.path), zap.Error(err))
	} else {
		w.log.Info("alert: rules reloaded", zap.String("path", w.path), zap.Int("rules", len(rules)))
	}
	if w.onResult != nil {
		w.onResult(err == nil, err)
	}
	return true, err
}

// Run polls until ctx ends and returns nil. Blocking; run it in its own goroutine.
func (w *RuleWatcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_, _ = w.Check()
		}
	}
}
