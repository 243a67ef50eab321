package fetch

import (
	"math/rand/v2"
	"time"
)

// schedule is a min-heap of (due time, feed index). Not safe for concurrent use: only the Run
// loop touches it. push and popDue are O(log n) and allocation-free once grown.
type schedule struct{ h []schedEntry }

type schedEntry struct {
	at  int64 // unix nanos
	idx int32
}

func (s *schedule) len() int { return len(s.h) }

func (s *schedule) push(idx int, at time.Time) {
	s.h = append(s.h, schedEntry{at: at.UnixNano(), idx: int32(idx)})
	i := len(s.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s.h[p].at <= s.h[i].at {
			break
		}
		s.h[p], s.h[i] = s.h[i], s.h[p]
		i = p
	}
}

// next returns the earliest due time.
func (s *schedule) next() (time.Time, bool) {
	if len(s.h) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, s.h[0].at), true
}

// popDue appends every index due at or before now to out.
func (s *schedule) popDue(now time.Time, out []int) []int {
	n := now.UnixNano()
	for len(s.h) > 0 && s.h[0].at <= n {
		out = append(out, int(s.h[0].idx))
		last := len(s.h) - 1
		s.h[0] = s.h[last]
		s.h = s.h[:last]
		s.down(0)
	}
	return out
}

func (s *schedule) down(i int) {
	n := len(s.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.h[r].at < s.h[l].at {
			m = r
		}
		if s.h[i].at <= s.h[m].at {
			return
		}
		s.h[i], s.h[m] = s.h[m], s.h[i]
		i = m
	}
}

// policy computes poll intervals. Pure; safe for concurrent use.
type policy struct{ cfg Config }

func clampDur(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}

// cadence estimates the gap between items from their dates (newest ≤10 dated items).
func cadence(items []Item) time.Duration {
	var newest, oldest time.Time
	n := 0
	for _, it := range items {
		t := it.Published
		if t == nil {
			t = it.Updated
		}
		if t == nil || t.IsZero() {
			continue
		}
		if n == 0 || t.After(newest) {
			newest = *t
		}
		if n == 0 || t.Before(oldest) {
			oldest = *t
		}
		n++
		if n >= 10 {
			break
		}
	}
	if n < 2 || !newest.After(oldest) {
		return 0
	}
	return newest.Sub(oldest) / time.Duration(n-1)
}

// backlogRepoll is the delay before polling a feed again whose last poll published new items
// but left more for the next poll (the per-poll item limit) without any failing item: a
// backlog already in the feed is drained at the pipeline's speed, not one batch of
// MaxItemsPerPoll per interval. Feeds with failing items keep their interval, so a page's
// ItemAttempts stay spread over polls.
const backlogRepoll = 100 * time.Millisecond

// startSpread is the window the first polls are spread over: one second per Workers feeds,
// at most StartSpread. Thousands of feeds do not all hit the network at once; a handful are
// polled right away instead of up to StartSpread later.
func startSpread(sources, workers int, most time.Duration) time.Duration {
	return min(time.Duration(sources/max(workers, 1))*time.Second, most)
}

// startAt is when feed i of n is first polled: uniformly within startSpread from now.
func (p policy) startAt(now time.Time, n int) time.Time {
	spread := startSpread(n, p.cfg.Workers, p.cfg.StartSpread)
	if spread <= 0 {
		return now
	}
	return now.Add(time.Duration(rand.Int64N(int64(spread))))
}

// success returns the next interval after a successful poll. fixed is the source's own
// interval (0 = adaptive); hint is max(ttl, Cache-Control/Expires freshness).
func (p policy) success(st *FeedState, fixed time.Duration, newItems int, observed, hint time.Duration) time.Duration {
	c := p.cfg
	iv := st.Interval
	if iv <= 0 {
		iv = c.DefaultInterval
	}
	if observed > 0 {
		if st.Cadence > 0 {
			st.Cadence = (st.Cadence + observed) / 2
		} else {
			st.Cadence = observed
		}
	}
	switch {
	case fixed > 0:
		iv = fixed
	case newItems > 0 && st.Cadence > 0:
		iv = st.Cadence / 2 // poll about twice per expected item
	case newItems > 0:
		iv = iv / 2
	default:
		iv = iv * 3 / 2 // quiet feed: slow down gradually
	}
	if fixed <= 0 {
		iv = clampDur(iv, c.MinInterval, c.MaxInterval)
	}
	st.Interval = iv
	if backlogRepollDue(st, newItems) {
		return backlogRepoll // the interval above applies once the backlog is drained
	}
	if hint > iv {
		iv = min(hint, c.MaxInterval)
	}
	if fixed > 0 && iv == fixed {
		return p.jitterDown(iv) // a source's own interval is a promise: never polled later
	}
	return p.jitter(iv)
}

// failure returns the delay after a failed poll: exponential from the current interval,
// at least retryAfter, capped by MaxBackoff (ParkedRetry once parked).
func (p policy) failure(st *FeedState, retryAfter time.Duration) time.Duration {
	c := p.cfg
	if st.Parked {
		return p.jitter(c.ParkedRetry)
	}
	d := c.MinInterval
	for i := 1; i < st.Failures && d < c.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxBackoff)
	if retryAfter > d {
		d = min(retryAfter, 24*time.Hour)
	}
	return p.jitter(d)
}

// jitterDown spreads d over [d·(1−2·Jitter), d]: as much spread as jitter, never later than d.
// A feed with a fixed interval of 5 s is polled every 4–5 s, so an item waits at most the
// interval for its poll (the live benchmark's searchable − appeared is bounded by it).
func (p policy) jitterDown(d time.Duration) time.Duration {
	j := p.cfg.Jitter
	if j <= 0 || d <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 - 2*j*rand.Float64()))
}

func (p policy) jitter(d time.Duration) time.Duration {
	j := p.cfg.Jitter
	if j <= 0 || d <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 - j + 2*j*rand.Float64()))
}
