// Package alerteval generates labelled synthetic news streams (background Poisson traffic with
// daily seasonality, injected bursts, syndicated-copy floods) and scores alerters on them:
// precision, recall and detection delay in stream time. Used by cmd/eval-alerts and tests.
package alerteval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// GenConfig describes a synthetic stream. Zero fields take defaults.
type GenConfig struct {
	Terms         int           // background terms (3000)
	Hours         int           // stream length (72)
	Seed          uint64        // RNG seed (1)
	Bursts        int           // bursts on existing terms (Hours, i.e. one per hour on average)
	NewTermBursts int           // bursts of never-seen terms (Hours/6)
	Floods        int           // syndicated-copy floods that must not fire (Hours/3)
	FloodCopies   int           // reprints per flood (200)
	QuietStart    time.Duration // no bursts or floods before this (3h: detector warm-up)
	MinRatePerH   float64       // background term rates are log-uniform in [MinRatePerH, MaxRatePerH] (0.2, 30)
	MaxRatePerH   float64
	Seasonality   float64 // daily amplitude: rate × (1 + A·sin) (0.6)
	Start         time.Time
}

func (c GenConfig) withDefaults() GenConfig {
	if c.Terms <= 0 {
		c.Terms = 3000
	}
	if c.Hours <= 0 {
		c.Hours = 72
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Bursts == 0 {
		c.Bursts = c.Hours
	}
	if c.NewTermBursts == 0 {
		c.NewTermBursts = max(1, c.Hours/6)
	}
	if c.Floods == 0 {
		c.Floods = max(1, c.Hours/3)
	}
	if c.FloodCopies == 0 {
		c.FloodCopies = 200
	}
	if c.QuietStart == 0 {
		c.QuietStart = 3 * time.Hour
	}
	if c.MinRatePerH == 0 {
		c.MinRatePerH = 0.2
	}
	if c.MaxRatePerH == 0 {
		c.MaxRatePerH = 30
	}
	if c.Seasonality == 0 {
		c.Seasonality = 0.6
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// Burst is a labelled injected burst (a positive).
type Burst struct {
	Term     string // display name
	Key      string // term key (kind:normalized)
	Shape    string // step, ramp, spike
	New      bool   // term never seen before
	Start    time.Time
	End      time.Time
	Mentions int
	BasePerH float64 // background rate of the term at burst time
	times    []int64
}

// Flood is a labelled syndicated-copy flood (must not fire).
type Flood struct {
	Keys    []string
	Cluster string
	Start   time.Time
	End     time.Time
	Copies  int
}

type event struct {
	t       int64
	terms   []int32
	cluster int32 // flood index, -1 none
	source  int16
}

// Stream is a generated stream: events in time order plus labels.
type Stream struct {
	cfg      GenConfig
	names    []string
	kinds    []string
	rates    []float64
	events   []event
	Bursts   []Burst
	Floods   []Flood
	Mentions int
}

var kindsCycle = []string{"PER", "ORG", "LOC", "MISC", "keyword"}

func (s *Stream) key(i int32) string {
	k := s.kinds[i]
	return k + ":" + normalized(s.names[i])
}

func normalized(n string) string {
	b := []byte(n)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// Len is the number of articles.
func (s *Stream) Len() int { return len(s.events) }

// Span returns the stream's start and end.
func (s *Stream) Span() (time.Time, time.Time) {
	return s.cfg.Start, s.cfg.Start.Add(time.Duration(s.cfg.Hours) * time.Hour)
}

// Article fills e (reused between calls) with article i.
func (s *Stream) Article(i int, e *article.Enriched) {
	ev := &s.events[i]
	t := time.Unix(0, ev.t).UTC()
	*e = article.Enriched{Entities: e.Entities[:0], Keywords: e.Keywords[:0]}
	e.FetchedAt = t
	e.PublishedAt = &t
	id := fmt.Sprintf("a%07d", i)
	e.URL = "https://src" + fmt.Sprint(ev.source) + ".example/" + id
	e.CanonicalURL = e.URL
	e.Title = "Story " + id
	e.Source = article.Source{Name: fmt.Sprintf("source-%02d", ev.source), Domain: fmt.Sprintf("src%d.example", ev.source)}
	e.Language = "en"
	if ev.cluster >= 0 {
		// One copy in five was missed by the cleaner's near-duplicate clustering; all keep
		// the wire headline.
		if i%5 != 0 {
			e.ClusterID = s.Floods[ev.cluster].Cluster
		}
		e.Title = "Wire story " + s.Floods[ev.cluster].Cluster + " reprinted across the network"
	}
	for _, ti := range ev.terms {
		if s.kinds[ti] == "keyword" {
			e.Keywords = append(e.Keywords, article.Keyword{Term: normalized(s.names[ti]), Score: 1})
		} else {
			e.Entities = append(e.Entities, article.Entity{Type: s.kinds[ti], Name: s.names[ti], Normalized: normalized(s.names[ti]), Mentions: 1})
		}
	}
}

func (s *Stream) season(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	return 1 + s.cfg.Seasonality*math.Sin(2*math.Pi*(h-9)/24)
}

type mention struct {
	t    int64
	term int32
}

// Generate builds a stream. Deterministic for a seed.
func Generate(cfg GenConfig) *Stream {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed*7919+1))
	s := &Stream{cfg: cfg}
	start := cfg.Start.UnixNano()
	end := cfg.Start.Add(time.Duration(cfg.Hours) * time.Hour).UnixNano()
	addTerm := func(name, kind string, rate float64) int32 {
		s.names = append(s.names, name)
		s.kinds = append(s.kinds, kind)
		s.rates = append(s.rates, rate)
		return int32(len(s.names) - 1)
	}
	lo, hi := math.Log(cfg.MinRatePerH), math.Log(cfg.MaxRatePerH)
	for i := 0; i < cfg.Terms; i++ {
		addTerm(fmt.Sprintf("Term%05d", i), kindsCycle[i%len(kindsCycle)], math.Exp(lo+rng.Float64()*(hi-lo)))
	}
	var ms []mention
	// Background: non-homogeneous Poisson by thinning.
	for i := 0; i < cfg.Terms; i++ {
		maxRate := s.rates[i] * (1 + cfg.Seasonality) / float64(time.Hour) // per ns
		t := float64(start)
		for {
			t += rng.ExpFloat64() / maxRate
			if t >= float64(end) {
				break
			}
			if rng.Float64()*(1+cfg.Seasonality) <= s.season(time.Unix(0, int64(t))) {
				ms = append(ms, mention{int64(t), int32(i)})
			}
		}
	}
	quiet := start + int64(cfg.QuietStart)
	lastStart := end - int64(time.Hour)
	used := map[int32]bool{}
	// Floods first, on light terms (the worst case: a flood would look like a big spike).
	var light []int32
	for i := 0; i < cfg.Terms; i++ {
		if s.rates[i] < 2 {
			light = append(light, int32(i))
		}
	}
	var floodEvents []event
	for f := 0; f < cfg.Floods && len(light) >= 5; f++ {
		var terms []int32
		var keys []string
		for len(terms) < 5 {
			ti := light[rng.IntN(len(light))]
			if used[ti] {
				continue
			}
			used[ti] = true
			terms = append(terms, ti)
			keys = append(keys, s.key(ti))
		}
		fs := quiet + rng.Int64N(lastStart-quiet)
		dur := int64(30+rng.IntN(60)) * int64(time.Minute)
		fl := Flood{Keys: keys, Cluster: fmt.Sprintf("wire%03d", f), Start: time.Unix(0, fs).UTC(),
			End: time.Unix(0, fs+dur).UTC(), Copies: cfg.FloodCopies}
		s.Floods = append(s.Floods, fl)
		for c := 0; c < cfg.FloodCopies; c++ {
			// Most reprints land early: exponential with mean dur/4, truncated.
			off := int64(rng.ExpFloat64() * float64(dur) / 4)
			if off > dur {
				off = rng.Int64N(dur)
			}
			floodEvents = append(floodEvents, event{t: fs + off, terms: terms, cluster: int32(f), source: int16(rng.IntN(50))})
		}
	}
	// Bursts.
	shapes := []string{"step", "ramp", "spike"}
	addBurst := func(ti int32, isNew bool) {
		bs := quiet + rng.Int64N(lastStart-quiet)
		bt := time.Unix(0, bs)
		basePerMin := s.rates[ti] * s.season(bt) / 60
		if isNew {
			basePerMin = 0
		}
		shape := shapes[rng.IntN(3)]
		var times []int64
		switch shape {
		case "spike":
			m := 10 + rng.IntN(31)
			d := int64(60+rng.IntN(121)) * int64(time.Second)
			for i := 0; i < m; i++ {
				times = append(times, bs+rng.Int64N(d))
			}
		case "step":
			r := math.Exp(math.Log(1.5) + rng.Float64()*(math.Log(10)-math.Log(1.5))) // per minute
			r = math.Max(r, 3.5*basePerMin)
			d := math.Max(math.Ceil(10/r), 5+rng.Float64()*15) // minutes
			m := max(10, int(math.Round(r*d)))
			for i := 0; i < m; i++ {
				times = append(times, bs+int64(rng.Float64()*d*float64(time.Minute)))
			}
		case "ramp":
			// Rate rises linearly from p/4 to p over d minutes (coverage building up).
			p := math.Exp(math.Log(2) + rng.Float64()*(math.Log(10)-math.Log(2)))
			p = math.Max(p, 5.6*basePerMin) // mean rate 5p/8 >= 3.5× baseline
			d := 10 + rng.Float64()*20
			m := max(10, int(math.Round(p*d*5/8)))
			for i := 0; i < m; i++ {
				// Inverse CDF of density ∝ 1 + 3x on [0,1]: x = (−1 + sqrt(1 + 15u)) / 3.
				x := (-1 + math.Sqrt(1+15*rng.Float64())) / 3
				times = append(times, bs+int64(x*d*float64(time.Minute)))
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		b := Burst{Term: s.names[ti], Key: s.key(ti), Shape: shape, New: isNew,
			Start: time.Unix(0, times[0]).UTC(), End: time.Unix(0, times[len(times)-1]).UTC(),
			Mentions: len(times), BasePerH: basePerMin * 60, times: times}
		s.Bursts = append(s.Bursts, b)
		for _, t := range times {
			ms = append(ms, mention{t, ti})
		}
	}
	for b := 0; b < cfg.Bursts; b++ {
		var ti int32
		for {
			ti = int32(rng.IntN(cfg.Terms))
			if !used[ti] {
				break
			}
		}
		used[ti] = true
		addBurst(ti, false)
	}
	for b := 0; b < cfg.NewTermBursts; b++ {
		ti := addTerm(fmt.Sprintf("Newterm%03d", b), kindsCycle[b%len(kindsCycle)], 0)
		addBurst(ti, true)
	}
	s.Mentions = len(ms)
	sort.Slice(ms, func(i, j int) bool { return ms[i].t < ms[j].t })
	// Pack consecutive mentions into articles of 1–6 distinct terms.
	for i := 0; i < len(ms); {
		n := 1 + rng.IntN(6)
		ev := event{t: ms[i].t, cluster: -1, source: int16(rng.IntN(50))}
		for len(ev.terms) < n && i < len(ms) {
			dup := false
			for _, x := range ev.terms {
				dup = dup || x == ms[i].term
			}
			if dup {
				break
			}
			ev.terms = append(ev.terms, ms[i].term)
			i++
		}
		s.events = append(s.events, ev)
	}
	s.events = append(s.events, floodEvents...)
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].t < s.events[j].t })
	return s
}

// mentionsUpTo counts burst i's injected mentions at or before t.
func (s *Stream) mentionsUpTo(i int, t time.Time) int {
	ts := s.Bursts[i].times
	return sort.Search(len(ts), func(j int) bool { return ts[j] > t.UnixNano() })
}
