package fetch

import (
	"testing"
	"time"
)

// TestBacklogRepoll: a poll that published items but left more behind (the per-poll limit)
// is followed by another at once; with failing items, or nothing left, the interval holds.
func TestBacklogRepoll(t *testing.T) {
	p := policy{Config{Jitter: 0.0001}.Defaults()}
	tests := []struct {
		name     string
		st       FeedState
		fixed    time.Duration
		newItems int
		want     time.Duration // 0: about the interval
	}{
		{name: "backlog left, fixed interval", st: FeedState{Pending: true}, fixed: 10 * time.Second, newItems: 100, want: backlogRepoll},
		{name: "backlog left, adaptive", st: FeedState{Pending: true}, newItems: 100, want: backlogRepoll},
		{name: "backlog drained", st: FeedState{}, fixed: 10 * time.Second, newItems: 40},
		{name: "items failing", st: FeedState{Pending: true, ItemFailures: map[string]int{"u.x": 1}}, fixed: 10 * time.Second, newItems: 5},
		{name: "nothing new", st: FeedState{Pending: true}, fixed: 10 * time.Second, newItems: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			got := p.success(&st, tt.fixed, tt.newItems, 0, 0)
			if tt.want != 0 && got != tt.want {
				t.Errorf("next poll in %s, want %s", got, tt.want)
			}
			if tt.want == 0 && got < time.Second {
				t.Errorf("next poll in %s, want the interval", got)
			}
			if st.Interval < time.Second {
				t.Errorf("stored interval %s: the repoll must not become the feed's interval", st.Interval)
			}
		})
	}
}

func TestStartSpread(t *testing.T) {
	tests := []struct {
		sources, workers int
		want             time.Duration
	}{
		{4, 8, 0},
		{12, 8, time.Second},
		{800, 8, time.Minute},
		{100000, 8, time.Minute},
		{5, 0, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := startSpread(tt.sources, tt.workers, time.Minute); got != tt.want {
			t.Errorf("startSpread(%d, %d) = %s, want %s", tt.sources, tt.workers, got, tt.want)
		}
	}
	p := policy{Config{}.Defaults()}
	now := time.Now()
	for i := 0; i < 100; i++ {
		if at := p.startAt(now, 3); !at.Equal(now) {
			t.Fatalf("3 feeds: first poll at +%s, want now", at.Sub(now))
		}
		if at := p.startAt(now, 80000); at.Before(now) || !at.Before(now.Add(time.Minute)) {
			t.Fatalf("80,000 feeds: first poll at +%s, want within a minute", at.Sub(now))
		}
	}
}

// TestFixedIntervalNeverLate: a source's own interval is jittered downwards only (polled
// within [interval·(1−2·Jitter), interval]); adaptive intervals keep the symmetric jitter.
func TestFixedIntervalNeverLate(t *testing.T) {
	p := policy{Config{Jitter: 0.1}.Defaults()}
	tests := []struct {
		name   string
		fixed  time.Duration
		hint   time.Duration
		lo, hi time.Duration
	}{
		{name: "fixed 5s", fixed: 5 * time.Second, lo: 4 * time.Second, hi: 5 * time.Second},
		{name: "fixed 10m", fixed: 10 * time.Minute, lo: 8 * time.Minute, hi: 10 * time.Minute},
		{name: "fixed, the server asks for longer", fixed: 5 * time.Second, hint: time.Minute, lo: 54 * time.Second, hi: 66 * time.Second},
		{name: "adaptive", lo: 27 * time.Minute * 3 / 2, hi: 33 * time.Minute * 3 / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var minD, maxD time.Duration
			for i := range 2000 {
				st := FeedState{}
				d := p.success(&st, tt.fixed, 0, 0, tt.hint)
				if d < tt.lo || d > tt.hi {
					t.Fatalf("next poll in %s, want within [%s, %s]", d, tt.lo, tt.hi)
				}
				if i == 0 || d < minD {
					minD = d
				}
				maxD = max(maxD, d)
			}
			if maxD-minD < (tt.hi-tt.lo)/2 {
				t.Errorf("polls spread over %s..%s only", minD, maxD)
			}
		})
	}
}
