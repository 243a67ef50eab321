// Package alerteval generates labelled synthetic news streams and scores alerters on them:
// precision, recall and detection delay in stream time. Used by cmd/eval-alerts and tests.
//
// The default stream imitates what real mention streams do to a detector:
//
//   - Quiet and loud terms side by side: rates log-uniform in 0.05–30/h, plus Terms/30 very
//     loud terms at 30–300/h.
//   - Overdispersion: each term's count is a gamma-Poisson (negative binomial) mixture. Its
//     log-rate follows a stationary AR(1) walk (per-term volatility 0.2–0.7, correlation time
//     20 min–4 h) and every minute's rate is further multiplied by gamma noise of mean 1 and
//     per-term variance 0.05–1. Loud terms' 15-minute counts have variance/mean (seasonal
//     profile taken out) of about 1.5–30, median about 4; quiet terms' stay near 1, as in real
//     mention streams.
//   - Per-term weekly × daily profiles: business-hours terms (weekday peak 10–15h, weekends
//     ×0.3–0.5), evening terms, weekend terms (sport: weekends ×1.5–2.5) and round-the-clock
//     terms of other time zones, each with its own peak hour, amplitude and second harmonic.
//     The default start is a Friday noon so that a 72h stream holds a weekend and a Monday
//     morning.
//   - Bursts, all at least 3.5× the term's baseline and 10 mentions: step (1.5–10/min for 5–20
//     min), ramp (rising from p/4 to p, p 2–10/min, over 10–30 min), spike (10–40 mentions in
//     1–3 min) and (30% of bursts) heavy-tailed "decay" bursts: a 1–10 min rise to a
//     Pareto(α=1.5, from 1/min, capped at 200/min) peak rate, then exponential decay to 5% of the
//     peak over 1–6 h. A decay burst is one labelled burst whose End is the end of its tail,
//     so alerts anywhere in the tail match it.
//   - Never-seen-term bursts, and floods of syndicated copies (which must not fire).
//
// GenConfig{Poisson: true} gives the older, easier stream instead: Poisson counts around one
// shared daily sine, rates 0.2–30/h and step/ramp/spike bursts only (identical, seed for seed,
// to the stream of earlier versions).
package alerteval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// GenConfig describes a synthetic stream. Zero fields take defaults; where the default
// differs with Poisson, both are given (default / Poisson).
type GenConfig struct {
	Terms         int           // background terms (3000)
	Hours         int           // stream length (72)
	Seed          uint64        // RNG seed (1)
	Bursts        int           // bursts on existing terms (Hours, i.e. one per hour on average)
	NewTermBursts int           // bursts of never-seen terms (Hours/6)
	Floods        int           // syndicated-copy floods that must not fire (Hours/3)
	FloodCopies   int           // reprints per flood (200)
	QuietStart    time.Duration // no bursts or floods before this (3h: detector warm-up)
	// MinRatePerH and MaxRatePerH bound background term rates: log-uniform in
	// [MinRatePerH, MaxRatePerH/10] for most terms and in [MaxRatePerH/10, MaxRatePerH] for
	// LoudTerms of them (0.05, 300 / Poisson: all log-uniform in [0.2, 30]).
	MinRatePerH float64
	MaxRatePerH float64
	// LoudTerms is how many terms get the loud rates (Terms/30; negative: none). Not with Poisson.
	LoudTerms int
	// Seasonality is the shared daily amplitude of the Poisson stream: rate × (1 + A·sin)
	// (0.6). Only with Poisson (or Weekly < 0).
	Seasonality float64
	// Dispersion scales every term's overdispersion: its log-rate walk's volatility and its
	// per-minute gamma noise's variance (0: 1; negative: none, i.e. Poisson counts around each
	// term's profile). Not with Poisson.
	Dispersion float64
	// Weekly scales the log-amplitudes of the per-term day-of-week × hour-of-day profiles (0: 1;
	// negative: the shared daily sine of amplitude Seasonality instead). Not with Poisson.
	Weekly float64
	// HeavyTail is the share of bursts that are heavy-tailed decay bursts (0: 0.3; negative:
	// none). Not with Poisson.
	HeavyTail float64
	// Poisson selects the older stream (see the package doc); it ignores LoudTerms,
	// Dispersion, Weekly and HeavyTail.
	Poisson bool
	Start   time.Time // stream start (Friday 2026-01-09 12:00 UTC / Poisson: Monday 2026-01-05 00:00 UTC)
}

// Decay-burst parameters (see the package doc).
const (
	paretoAlpha   = 1.5   // tail index of decay bursts' peak rates
	paretoMinPerM = 1.0   // Pareto scale: smallest peak rate, mentions/min (or 3.5× the baseline)
	maxPeakPerM   = 200.0 // cap on a peak rate, mentions/min (keeps the stream's size bounded)
	decayTail     = 3.0   // tail cut at exp(−3) ≈ 5% of the peak
)

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
	if c.Seasonality == 0 {
		c.Seasonality = 0.6
	}
	if c.Poisson {
		if c.MinRatePerH == 0 {
			c.MinRatePerH = 0.2
		}
		if c.MaxRatePerH == 0 {
			c.MaxRatePerH = 30
		}
		if c.Start.IsZero() {
			c.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		}
		c.LoudTerms, c.Dispersion, c.Weekly, c.HeavyTail = 0, -1, -1, -1
		return c
	}
	if c.MinRatePerH == 0 {
		c.MinRatePerH = 0.05
	}
	if c.MaxRatePerH == 0 {
		c.MaxRatePerH = 300
	}
	if c.LoudTerms == 0 {
		c.LoudTerms = c.Terms / 30
	}
	c.LoudTerms = min(max(c.LoudTerms, 0), c.Terms)
	if c.Dispersion == 0 {
		c.Dispersion = 1
	}
	if c.Weekly == 0 {
		c.Weekly = 1
	}
	if c.HeavyTail == 0 {
		c.HeavyTail = 0.3
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 9, 12, 0, 0, 0, time.UTC)
	}
	return c
}

// Burst is a labelled injected burst (a positive).
type Burst struct {
	Term     string    // display name
	Key      string    // term key (kind:normalized)
	Shape    string    // step, ramp, spike, decay
	New      bool      // term never seen before
	Start    time.Time // first burst mention
	End      time.Time // last burst mention; for a decay burst the end of its tail
	Mentions int
	BasePerH float64 // background rate of the term at burst time (profile × current level)
	PeakPerH float64 // the burst's own peak rate (decay: the Pareto draw)
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
	profiles [][168]float32 // per term: rate multiplier by hour of week (Sunday 0h = 0), mean 1
	levels   [][]float32    // per term: level multiplier (mean 1) every levelStep from Start
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

// levelStep is the resolution at which each term's level walk is kept for burst baselines.
const levelStep = 15 * time.Minute

// hourOfWeek is t's position in the week in hours since Sunday 00:00 UTC.
func hourOfWeek(t time.Time) float64 {
	t = t.UTC()
	return float64(int(t.Weekday())*24+t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
}

// profileAt is term i's seasonal rate multiplier at t (the shared sine without per-term profiles).
func (s *Stream) profileAt(i int32, t time.Time) float64 {
	if s.profiles == nil {
		return s.season(t)
	}
	return interpProfile(&s.profiles[i], hourOfWeek(t))
}

// interpProfile interpolates a profile linearly between its hourly values at hour of week x.
func interpProfile(p *[168]float32, x float64) float64 {
	j := int(x)
	f := x - float64(j)
	return float64(p[j%168])*(1-f) + float64(p[(j+1)%168])*f
}

// levelAt is term i's slowly varying level multiplier at t (1 without dispersion).
func (s *Stream) levelAt(i int32, t time.Time) float64 {
	if s.levels == nil || int(i) >= len(s.levels) {
		return 1
	}
	k := int(t.Sub(s.cfg.Start) / levelStep)
	lv := s.levels[i]
	if len(lv) == 0 {
		return 1
	}
	return float64(lv[min(max(k, 0), len(lv)-1)])
}

// expectedPerH is term i's background rate at t without the per-minute gamma noise.
func (s *Stream) expectedPerH(i int32, t time.Time) float64 {
	return s.rates[i] * s.profileAt(i, t) * s.levelAt(i, t)
}

// makeProfile draws a term's day-of-week × hour-of-day profile: an archetype (business hours,
// evening, weekend, round the clock), its own peak hour, daily amplitude, second harmonic and
// weekend factor; log-amplitudes scaled by strength; normalised to mean 1 over the week.
func makeProfile(rng *rand.Rand, strength float64) [168]float32 {
	u := func(a, b float64) float64 { return a + rng.Float64()*(b-a) }
	var peak, amp, weekend float64 // weekend: log factor of Saturday and Sunday
	switch x := rng.Float64(); {
	case x < 0.35: // business hours, quiet weekends
		peak, amp, weekend = u(10, 15), u(0.5, 1.0), -u(math.Log(2), math.Log(3.5))
	case x < 0.55: // evening
		peak, amp, weekend = u(18, 22), u(0.4, 0.9), u(math.Log(0.9), math.Log(1.2))
	case x < 0.70: // weekend (sport, leisure)
		peak, amp, weekend = u(13, 18), u(0.3, 0.7), u(math.Log(1.5), math.Log(2.5))
	default: // round the clock, any time zone
		peak, amp, weekend = u(0, 24), u(0.1, 0.4), u(math.Log(0.8), math.Log(1.1))
	}
	amp2, peak2 := u(0, amp/3), u(0, 12)
	var day [7]float64 // log factor per weekday (Sunday 0), with a little jitter
	for d := range day {
		if d == 0 || d == 6 {
			day[d] = weekend
		}
		day[d] += 0.05 * rng.NormFloat64()
	}
	var p [168]float32
	var sum float64
	vals := make([]float64, 168)
	for x := range vals {
		h := float64(x % 24)
		// Day factors are interpolated between day noons, so weekends fade in and out.
		dx := float64(x) - 12
		if dx < 0 {
			dx += 168
		}
		d0 := int(dx / 24)
		f := dx/24 - float64(d0)
		wk := day[d0%7]*(1-f) + day[(d0+1)%7]*f
		lg := amp*math.Cos(2*math.Pi*(h-peak)/24) + amp2*math.Cos(4*math.Pi*(h-peak2)/24) + wk
		vals[x] = math.Exp(strength * lg)
		sum += vals[x]
	}
	for x := range vals {
		p[x] = float32(vals[x] * 168 / sum)
	}
	return p
}

// gammaRand draws Gamma(k, 1) (Marsaglia–Tsang).
func gammaRand(rng *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaRand(rng, k+1) * math.Pow(rng.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		uu := rng.Float64()
		if uu < 1-0.0331*x*x*x*x || math.Log(uu) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// poissonRand draws Poisson(lam): inversion, or the normal approximation above 60.
func poissonRand(rng *rand.Rand, lam float64) int {
	if lam <= 0 {
		return 0
	}
	if lam > 60 {
		return max(0, int(math.Round(lam+math.Sqrt(lam)*rng.NormFloat64())))
	}
	p := math.Exp(-lam)
	c, k, uu := p, 0, rng.Float64()
	for uu > c && k < 1000 {
		k++
		p *= lam / float64(k)
		c += p
	}
	return k
}

// logUniform draws from [lo, hi] uniformly on a log scale.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
}

// termNoise is a term's overdispersion: an AR(1) walk on the log-rate (stationary sd sigma,
// correlation time tau) and per-minute gamma noise of mean 1 and variance gammaVar.
type termNoise struct {
	sigma    float64
	tau      time.Duration
	gammaVar float64
}

// background draws term i's mentions minute by minute (gamma-Poisson around its profile and
// level walk), with its own RNG so terms are independent of each other, and records its level.
func (s *Stream) background(i int32, nz termNoise, ms []mention) []mention {
	cfg := s.cfg
	rng := rand.New(rand.NewPCG(cfg.Seed^0x5bd1e995, uint64(i)*0x9e3779b97f4a7c15+1))
	minutes := cfg.Hours * 60
	var lv []float32
	if nz.sigma > 0 {
		lv = make([]float32, (minutes+int(levelStep/time.Minute)-1)/int(levelStep/time.Minute))
	}
	phi := math.Exp(-float64(time.Minute) / float64(max(nz.tau, time.Minute)))
	innov := nz.sigma * math.Sqrt(1-phi*phi)
	l := nz.sigma * rng.NormFloat64()
	perMin := s.rates[i] / 60
	start := cfg.Start.UnixNano()
	how0 := hourOfWeek(cfg.Start)
	step := int(levelStep / time.Minute)
	for m := 0; m < minutes; m++ {
		level := 1.0
		if nz.sigma > 0 {
			level = math.Exp(l - nz.sigma*nz.sigma/2)
			if m%step == 0 {
				lv[m/step] = float32(level)
			}
			l = phi*l + innov*rng.NormFloat64()
		}
		var prof float64
		if s.profiles != nil {
			prof = interpProfile(&s.profiles[i], math.Mod(how0+float64(m)/60, 168))
		} else {
			prof = s.season(cfg.Start.Add(time.Duration(m) * time.Minute))
		}
		lam := perMin * prof * level
		if nz.gammaVar > 0 {
			k := 1 / nz.gammaVar
			lam *= gammaRand(rng, k) / k
		}
		t0 := start + int64(m)*int64(time.Minute)
		for n := poissonRand(rng, lam); n > 0; n-- {
			ms = append(ms, mention{t0 + rng.Int64N(int64(time.Minute)), i})
		}
	}
	if lv != nil {
		s.levels[i] = lv
	}
	return ms
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
	var ms []mention
	if cfg.Poisson {
		lo, hi := math.Log(cfg.MinRatePerH), math.Log(cfg.MaxRatePerH)
		for i := 0; i < cfg.Terms; i++ {
			addTerm(fmt.Sprintf("Term%05d", i), kindsCycle[i%len(kindsCycle)], math.Exp(lo+rng.Float64()*(hi-lo)))
		}
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
	} else {
		// Rates: the loud terms are spread over the index range.
		mid := cfg.MaxRatePerH / 10
		loud := make([]bool, cfg.Terms)
		for _, j := range rng.Perm(cfg.Terms)[:cfg.LoudTerms] {
			loud[j] = true
		}
		noise := make([]termNoise, cfg.Terms)
		for i := 0; i < cfg.Terms; i++ {
			r := logUniform(rng, cfg.MinRatePerH, math.Max(mid, cfg.MinRatePerH))
			if loud[i] {
				r = logUniform(rng, math.Max(mid, cfg.MinRatePerH), cfg.MaxRatePerH)
			}
			addTerm(fmt.Sprintf("Term%05d", i), kindsCycle[i%len(kindsCycle)], r)
			if cfg.Weekly > 0 {
				s.profiles = append(s.profiles, makeProfile(rng, cfg.Weekly))
			}
			if cfg.Dispersion > 0 {
				noise[i] = termNoise{
					sigma:    cfg.Dispersion * logUniform(rng, 0.2, 0.7),
					tau:      time.Duration(logUniform(rng, 20, 240) * float64(time.Minute)),
					gammaVar: cfg.Dispersion * cfg.Dispersion * logUniform(rng, 0.05, 1),
				}
			}
		}
		if cfg.Dispersion > 0 {
			s.levels = make([][]float32, cfg.Terms)
		}
		for i := 0; i < cfg.Terms; i++ {
			ms = s.background(int32(i), noise[i], ms)
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
		basePerMin := s.expectedPerH(ti, bt) / 60
		if isNew {
			basePerMin = 0
		}
		var shape string
		if cfg.HeavyTail > 0 && rng.Float64() < cfg.HeavyTail {
			shape = "decay"
		} else {
			shape = shapes[rng.IntN(3)]
		}
		var times []int64
		var peak float64 // per minute
		endAt := int64(0)
		switch shape {
		case "spike":
			m := 10 + rng.IntN(31)
			d := int64(60+rng.IntN(121)) * int64(time.Second)
			// At least 3.5× the baseline over the spike (only binds on loud terms).
			m = max(m, int(math.Ceil(3.5*basePerMin*float64(d)/float64(time.Minute))))
			for i := 0; i < m; i++ {
				times = append(times, bs+rng.Int64N(d))
			}
			peak = float64(m) / (float64(d) / float64(time.Minute))
		case "step":
			r := math.Exp(math.Log(1.5) + rng.Float64()*(math.Log(10)-math.Log(1.5))) // per minute
			r = math.Max(r, 3.5*basePerMin)
			d := math.Max(math.Ceil(10/r), 5+rng.Float64()*15) // minutes
			m := max(10, int(math.Round(r*d)))
			for i := 0; i < m; i++ {
				times = append(times, bs+int64(rng.Float64()*d*float64(time.Minute)))
			}
			peak = r
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
			peak = p
		case "decay":
			// Linear rise over `rise` minutes to a Pareto peak, then exp(−t/tau) for 3·tau.
			rise := logUniform(rng, 1, 10)
			tail := logUniform(rng, 60, 360)
			tau := tail / decayTail
			xm := math.Max(paretoMinPerM, 3.5*basePerMin)
			peak = math.Max(xm, math.Min(xm*math.Pow(1-rng.Float64(), -1/paretoAlpha), maxPeakPerM))
			cut := 1 - math.Exp(-decayTail)
			massRise, massDecay := peak*rise/2, peak*tau*cut
			m := max(10, int(math.Round(massRise+massDecay)))
			for i := 0; i < m; i++ {
				u := rng.Float64() * (massRise + massDecay)
				var x float64 // minutes
				if u < massRise {
					x = rise * math.Sqrt(u/massRise)
				} else {
					x = rise - tau*math.Log(1-(u-massRise)/massDecay*cut)
				}
				times = append(times, bs+int64(x*float64(time.Minute)))
			}
			endAt = bs + int64((rise+tail)*float64(time.Minute))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		endAt = max(endAt, times[len(times)-1])
		b := Burst{Term: s.names[ti], Key: s.key(ti), Shape: shape, New: isNew,
			Start: time.Unix(0, times[0]).UTC(), End: time.Unix(0, endAt).UTC(),
			Mentions: len(times), BasePerH: basePerMin * 60, PeakPerH: peak * 60, times: times}
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
		if s.profiles != nil {
			s.profiles = append(s.profiles, s.profiles[0]) // unused: a new term has no background
		}
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
