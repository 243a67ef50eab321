package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// ringBuckets is how many recent buckets each term keeps (64 one-minute buckets: the longest
// detector window and two es_spike timeframes of up to 32m).
const ringBuckets = 64

// Alert statuses.
const (
	StatusFiring      = "firing"
	StatusStillFiring = "still_firing"
	StatusResolved    = "resolved"
)

// DetectorConfig tunes the SpikeDetector. Zero fields take the defaults in WithDefaults.
type DetectorConfig struct {
	// Bucket is the counting granularity (default 1m).
	Bucket time.Duration
	// Windows are the sliding test windows in buckets (default 1, 2, 5, 15, 60; each <= 64).
	Windows []int
	// HalfLife of the per-term EWMA baseline (default 24h: with its own daily profile a term's
	// level need not chase the day's curve).
	HalfLife time.Duration
	// Warmup: no alerts until this much stream time has been seen (default 1h). Terms first
	// seen after warmup are "new" (eligible for new-term alerts) for FreshFor. Negative: none.
	Warmup time.Duration
	// FreshFor is how long a never-seen-before term counts as new (default 6h).
	FreshFor time.Duration
	// MinLevelPerHour floors every term's baseline rate (default 0.1 mentions/hour).
	MinLevelPerHour float64
	// IdleTTL expires terms with no mention for this long and no open episode (default 24h).
	IdleTTL time.Duration
	// MaxTerms bounds the live term set; new terms beyond it are not tracked (default 250000).
	MaxTerms int
	// ResolveAfter: an episode resolves after this long below the exit test (default 10m).
	ResolveAfter time.Duration
	// ExitRatio is the hysteresis: an episode stays active while a window's count is at least
	// ExitRatio × expected and min_count (default 1.5; firing needs min_ratio).
	ExitRatio float64
	// BloomBits sizes the filter of expired term keys (default 1<<22 bits = 512 KiB).
	BloomBits int
	// DispersionPrior is the overdispersion c² (variance = μ + c²μ²) assumed before any term
	// has history (default 0.05); the all-terms estimate replaces it as evidence accrues.
	DispersionPrior float64
	// DispersionFloor: no term's c² is taken below this (default 0.05): real mention streams
	// are never Poisson, and a short quiet history must not make a term hair-trigger.
	DispersionFloor float64
	// DispersionWeight is how many windows of evidence the prior is worth against a term's
	// own estimate (default 20).
	DispersionWeight float64
	// ProfileMinMentions: a term gets its own hour-of-day × day-of-week profile after this
	// many mentions (default 300); lighter terms follow the global profile.
	ProfileMinMentions int
	// ProfilePrior shrinks a term's profile slots towards the global profile: a slot's own
	// ratio counts as much as the prior once it has this many mentions (default 50).
	ProfilePrior float64
	// RefireWithin: after an episode resolves, the same rule and term fire again within this
	// long only if the count rate exceeds the episode's peak rate (a burst decaying over hours
	// does not re-fire; default 6h; negative: off).
	RefireWithin time.Duration
}

// WithDefaults fills zero fields.
func (c DetectorConfig) WithDefaults() DetectorConfig {
	if c.Bucket <= 0 {
		c.Bucket = time.Minute
	}
	if len(c.Windows) == 0 {
		c.Windows = []int{1, 2, 5, 15, 60}
	}
	if c.HalfLife <= 0 {
		c.HalfLife = 24 * time.Hour
	}
	if c.Warmup == 0 {
		c.Warmup = time.Hour
	}
	if c.FreshFor <= 0 {
		c.FreshFor = 6 * time.Hour
	}
	if c.MinLevelPerHour <= 0 {
		c.MinLevelPerHour = 0.1
	}
	if c.IdleTTL <= 0 {
		c.IdleTTL = 24 * time.Hour
	}
	if c.MaxTerms <= 0 {
		c.MaxTerms = 250000
	}
	if c.ResolveAfter <= 0 {
		c.ResolveAfter = 10 * time.Minute
	}
	if c.ExitRatio <= 0 {
		c.ExitRatio = 1.5
	}
	if c.BloomBits <= 0 {
		c.BloomBits = 1 << 22
	}
	if c.DispersionPrior <= 0 {
		c.DispersionPrior = 0.2
	}
	if c.DispersionFloor == 0 {
		c.DispersionFloor = 0.05
	}
	if c.DispersionFloor < 0 {
		c.DispersionFloor = 0
	}
	if c.DispersionWeight <= 0 {
		c.DispersionWeight = 20
	}
	if c.ProfileMinMentions <= 0 {
		c.ProfileMinMentions = 300
	}
	if c.ProfilePrior <= 0 {
		c.ProfilePrior = 50
	}
	if c.RefireWithin == 0 {
		c.RefireWithin = 6 * time.Hour
	}
	return c
}

// Validate reports a configuration error.
func (c DetectorConfig) Validate() error {
	if c.Bucket < time.Second {
		return fmt.Errorf("alert: detector: bucket %s too small (>= 1s)", c.Bucket)
	}
	if len(c.Windows) > 8 {
		return fmt.Errorf("alert: detector: at most 8 windows (got %d)", len(c.Windows))
	}
	for _, w := range c.Windows {
		if w < 1 || w > ringBuckets {
			return fmt.Errorf("alert: detector: window %d buckets out of range 1..%d", w, ringBuckets)
		}
	}
	if math.IsNaN(c.DispersionPrior) || c.DispersionPrior > 4 || math.IsNaN(c.DispersionWeight) || math.IsInf(c.DispersionWeight, 0) {
		return fmt.Errorf("alert: detector: dispersion prior %v (want 0..4) or weight %v invalid", c.DispersionPrior, c.DispersionWeight)
	}
	if math.IsNaN(c.ProfilePrior) || math.IsInf(c.ProfilePrior, 0) {
		return fmt.Errorf("alert: detector: profile prior %v invalid", c.ProfilePrior)
	}
	if c.ExitRatio < 1 {
		return fmt.Errorf("alert: detector: exit ratio %v < 1", c.ExitRatio)
	}
	return nil
}

// termState is everything kept per live term (~250 bytes plus the key).
type termState struct {
	kind     string
	display  string
	hash     uint64
	ring     [ringBuckets]uint16
	head     int64 // newest bucket with data in ring
	created  int64
	lastSeen int64
	level    float64 // deseasonalised EWMA mentions per bucket, through bucket head-1
	total    uint32
	fresh    bool // first seen after warmup and not in the expired-keys filter
	open     int16
	thrB     int64
	thrGen   uint32
	thr      []uint16 // per (spike rule, window) minimal firing count at thrB
	es       []esState
	prof     *termProfile // own seasonal profile (nil while the term is light)
	disp     *dispersion  // own overdispersion sums (nil until the first full window)
}

// esState is ElastAlert2's per-query-key SpikeRule state.
type esState struct {
	First     int64 // bucket of first event since last clear; -1 unset
	SkipUntil int64
	RefFloor  int64 // ref window excludes buckets below (clear_windows)
}

// compiled rule.
type cRule struct {
	Rule
	idx      int
	kindMask uint8
	watchKey string
	esIdx    int // index into termState.es for es_spike rules
	spikeIdx int // index into thresholds for spike/watch rules
}

var kindBits = map[string]uint8{"PER": 1, "ORG": 2, "LOC": 4, "MISC": 8, KindKeyword: 16, KindWatch: 32}

func (r *cRule) windowBuckets(bucket time.Duration) int {
	w := int(r.Window.D() / bucket)
	if w < 1 {
		w = 1
	}
	if w > ringBuckets {
		w = ringBuckets
	}
	return w
}

func (r *cRule) applies(kind, key string) bool {
	if r.Type == RuleWatch {
		return key == r.watchKey
	}
	return r.kindMask&kindBits[kind] != 0
}

// episode is one (rule, term) alert lifecycle: firing → still_firing… → resolved → cooldown.
type episode struct {
	RuleID     string
	RuleType   string
	TermKey    string
	Start      int64 // window start bucket of the firing
	FiredB     int64
	LastActive int64
	LastUpdate int64
	Seq        int
	Peak       int
	PeakScore  float64
	Window     int
	Resolved   bool
	Until      int64 // cooldown end bucket once resolved
	// PeakRate is the highest count per bucket of any window while the episode was active;
	// until Forget a new firing of the same rule and term must exceed it.
	PeakRate float64
	PeakB    int64
	Forget   int64
}

// Emitted is an alert produced by the detector, with what the Alerter needs to attach the
// articles behind it.
type Emitted struct {
	Alert    article.Alert
	ID       string // stable alert id: hash(rule, term, episode start, status, seq)
	TermHash uint64
	From, To time.Time
}

// SpikeDetector counts term mentions in event-time buckets and tests each term against its
// own baseline. It is NOT safe for concurrent use: the Alerter serialises calls. Add reports
// upward spikes as soon as the observation that crosses the threshold arrives (counts only grow,
// so testing a partial bucket is sound); Advance closes buckets up to a watermark and evaluates
// still-firing, resolved, es_spike dips and expiry.
type SpikeDetector struct {
	cfg       DetectorConfig
	bucketNs  int64
	alpha     float64
	minLevel  float64 // per bucket
	maxWin    int
	rules     []*cRule
	spike     []*cRule
	es        []*cRule
	esFilled  []bool
	gen       uint32
	terms     map[string]*termState
	season    seasonal
	totals    [ringBuckets]float64
	started   bool
	first     int64 // first bucket ever seen
	open      int64 // earliest open bucket; buckets < open are closed
	maxB      int64
	episodes  map[string]*episode
	expired   *bloom
	out       []Emitted
	dropped   uint64
	sinceGC   int
	minCountG int
	sfMemo    [2]sfEntry
	dispG     dispersion // all terms' dispersion sums: the prior of light terms
}

type sfEntry struct {
	b  int64
	f  float64
	ok bool
}

// sf is the seasonal factor for bucket b, memoised until the next bucket closes.
func (d *SpikeDetector) sf(b int64) float64 {
	for i := range d.sfMemo {
		if e := d.sfMemo[i]; e.ok && e.b == b {
			return e.f
		}
	}
	f := d.season.factor(b, d.cfg.Bucket)
	d.sfMemo[1] = d.sfMemo[0]
	d.sfMemo[0] = sfEntry{b: b, f: f, ok: true}
	return f
}

// NewSpikeDetector returns a detector for the given validated rules.
func NewSpikeDetector(cfg DetectorConfig, rules []Rule) (*SpikeDetector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &SpikeDetector{
		cfg:      cfg,
		bucketNs: int64(cfg.Bucket),
		terms:    make(map[string]*termState),
		episodes: make(map[string]*episode),
		expired:  newBloom(cfg.BloomBits),
	}
	hlBuckets := float64(cfg.HalfLife) / float64(cfg.Bucket)
	d.alpha = 1 - math.Pow(0.5, 1/hlBuckets)
	d.minLevel = cfg.MinLevelPerHour * float64(cfg.Bucket) / float64(time.Hour)
	for _, w := range cfg.Windows {
		if w > d.maxWin {
			d.maxWin = w
		}
	}
	if err := d.SetRules(rules); err != nil {
		return nil, err
	}
	return d, nil
}

// SetRules replaces the rule set. Rules must have been validated (ValidateRules). Episodes of
// removed rules are dropped; es_spike windows restart for changed rule sets.
func (d *SpikeDetector) SetRules(rules []Rule) error {
	rules, err := ValidateRules(rules)
	if err != nil {
		return err
	}
	var cr, sp, es []*cRule
	keep := map[string]bool{}
	oldES := make([]string, len(d.es))
	for i, r := range d.es {
		oldES[i] = r.ID + "|" + fmt.Sprint(r.Rule.Timeframe, r.SpikeHeight, r.SpikeType, r.ThresholdCur, r.ThresholdRef, r.AlertOnNewData, r.Kinds)
	}
	for i, r := range rules {
		if r.Disabled {
			continue
		}
		c := &cRule{Rule: r, idx: i}
		for _, k := range r.Kinds {
			c.kindMask |= kindBits[k]
		}
		switch r.Type {
		case RuleWatch:
			c.watchKey = KindWatch + ":" + r.ID
			c.spikeIdx = len(sp)
			sp = append(sp, c)
		case RuleSpike:
			c.spikeIdx = len(sp)
			sp = append(sp, c)
		case RuleESSpike:
			if r.Timeframe.D() < d.cfg.Bucket || 2*int(r.Timeframe.D()/d.cfg.Bucket) > ringBuckets {
				return fmt.Errorf("alert: rule %q: timeframe %s must be between %s and %s", r.ID, r.Timeframe.D(), d.cfg.Bucket, time.Duration(ringBuckets/2)*d.cfg.Bucket)
			}
			c.esIdx = len(es)
			es = append(es, c)
		}
		keep[r.ID] = true
		cr = append(cr, c)
	}
	newES := make([]string, len(es))
	for i, r := range es {
		newES[i] = r.ID + "|" + fmt.Sprint(r.Rule.Timeframe, r.SpikeHeight, r.SpikeType, r.ThresholdCur, r.ThresholdRef, r.AlertOnNewData, r.Kinds)
	}
	sameES := fmt.Sprint(oldES) == fmt.Sprint(newES)
	d.rules, d.spike, d.es = cr, sp, es
	if !sameES {
		d.esFilled = make([]bool, len(es))
		for _, st := range d.terms {
			st.es = nil
		}
	}
	d.minCountG = math.MaxInt32
	for _, r := range sp {
		if r.MinCount < d.minCountG {
			d.minCountG = r.MinCount
		}
		if r.Threshold > 0 && r.Threshold < d.minCountG {
			d.minCountG = r.Threshold
		}
	}
	for k, ep := range d.episodes {
		if !keep[ep.RuleID] {
			if st := d.terms[ep.TermKey]; st != nil && st.open > 0 {
				st.open--
			}
			delete(d.episodes, k)
		}
	}
	d.gen++
	return nil
}

func (d *SpikeDetector) bucketOf(t time.Time) int64 {
	n := t.UnixNano()
	b := n / d.bucketNs
	if n < 0 && n%d.bucketNs != 0 {
		b--
	}
	return b
}

func (d *SpikeDetector) timeOf(b int64) time.Time { return time.Unix(0, b*d.bucketNs).UTC() }

// Live returns the number of live terms.
func (d *SpikeDetector) Live() int { return len(d.terms) }

// Dropped returns how many observations were not tracked because MaxTerms was reached.
func (d *SpikeDetector) Dropped() uint64 { return d.dropped }

// Drain returns and clears the alerts produced since the last Drain.
func (d *SpikeDetector) Drain() []Emitted {
	out := d.out
	d.out = nil
	return out
}

func (d *SpikeDetector) warm(b int64) bool {
	return d.started && time.Duration(b-d.first)*d.cfg.Bucket >= d.cfg.Warmup
}

// advanceTerm folds the term's head bucket into its baseline and moves head to b.
func (d *SpikeDetector) advanceTerm(st *termState, b int64) {
	if b <= st.head {
		return
	}
	h := st.head
	x := float64(st.ring[h%ringBuckets])
	s := d.factor(st, h)
	a := d.alpha
	if age := h - d.first + 1; age > 0 && 1/float64(age) > a {
		a = 1 / float64(age)
	}
	lvl := st.level
	if lvl < d.minLevel {
		lvl = d.minLevel
	}
	if d.warm(h) && h-st.created > 60 {
		// Robust update: a burst must not become the baseline in one go.
		mu := lvl * s
		if lim := math.Max(math.Min(4*mu, mu+5*math.Sqrt(mu+d.c2(st, 0, mu)*mu*mu)), 2); x > lim {
			x = lim
		}
	}
	d.dispUpdate(st, h)
	if st.prof == nil && st.total >= uint32(d.cfg.ProfileMinMentions) {
		st.prof = &termProfile{Hour: h / d.bucketsPerHour(), cacheHour: -1}
	}
	if st.prof != nil {
		d.profileAdd(st, h, x)
	}
	st.level = st.level*(1-a) + a*x/s
	if gap := b - h - 1; gap > 0 {
		// Empty buckets: the windows that end in them (within the ring) still teach the
		// dispersion model and the profile what a quiet stretch looks like.
		for e := h + 1; e <= min(b-1, h+ringBuckets); e++ {
			d.dispUpdate(st, e)
		}
		if st.prof != nil {
			for e := h + 1; e <= min(b-1, h+24*d.bucketsPerHour()); e++ {
				d.profileAdd(st, e, 0)
			}
		}
		// Empty buckets count as zeros in the level: a running mean while the stream is
		// young (1/age), the EWMA after.
		rest := gap
		for e := h + 1; e < b && rest > 0; e++ {
			age := e - d.first + 1
			if age <= 0 || 1/float64(age) <= d.alpha {
				break
			}
			st.level *= 1 - 1/float64(age)
			rest--
		}
		st.level *= math.Pow(1-d.alpha, float64(rest))
	}
	n := b - h
	if n > ringBuckets {
		n = ringBuckets
	}
	for i := int64(1); i <= n; i++ {
		st.ring[(h+i)%ringBuckets] = 0
	}
	st.head = b
}

// windowSum is the count over the w buckets ending at bucket end (inclusive).
func (st *termState) windowSum(end int64, w int) int {
	s := 0
	for i := 0; i < w; i++ {
		b := end - int64(i)
		if b > st.head || st.head-b >= ringBuckets {
			continue
		}
		s += int(st.ring[b%ringBuckets])
	}
	return s
}

func (d *SpikeDetector) expected(st *termState, b int64, w int) float64 {
	lvl := st.level
	if lvl < d.minLevel {
		lvl = d.minLevel
	}
	// A window can straddle hour slots with different seasonal factors (a term whose rush
	// ends at 06:00): sum each hour's part with its own factor.
	bph := d.bucketsPerHour()
	start := b - int64(w) + 1
	sum := 0.0
	for seg := start; seg <= b; {
		end := min(b, floorDiv(seg, bph)*bph+bph-1)
		sum += float64(end-seg+1) * d.factor(st, end)
		seg = end + 1
	}
	return lvl * sum
}

// floorDiv is a/b rounded towards minus infinity (bucket numbers before 1970 are negative).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Add records one mention of term at event time t (already deduplicated per story cluster).
func (d *SpikeDetector) Add(term Term, t time.Time) {
	b := d.bucketOf(t)
	if !d.started {
		d.started = true
		d.first, d.open, d.maxB = b, b, b
	}
	if b < d.open {
		b = d.open // late: count in the earliest open bucket
	}
	if b > d.maxB {
		d.maxB = b
	}
	d.totals[b%ringBuckets]++
	st := d.terms[term.Key]
	if st == nil {
		if len(d.terms) >= d.cfg.MaxTerms {
			d.dropped++
			return
		}
		h := termHash(term.Key)
		st = &termState{kind: term.Kind, display: term.Display, hash: h, head: b, created: b,
			fresh: d.warm(b) && !d.expired.has(h), thrB: -1}
		if d.expired.has(h) {
			st.level = d.minLevel
		}
		d.terms[term.Key] = st
	}
	d.advanceTerm(st, b)
	if b < st.head-ringBuckets+1 {
		return
	}
	if c := st.ring[b%ringBuckets]; c < math.MaxUint16 {
		st.ring[b%ringBuckets] = c + 1
	}
	st.total++
	if b > st.lastSeen {
		st.lastSeen = b
	}
	if !d.warm(b) {
		return
	}
	if len(d.spike) > 0 {
		d.testSpike(term.Key, st, t)
	}
	for _, r := range d.es {
		if r.applies(st.kind, term.Key) {
			d.testES(r, term.Key, st, st.head, t, false)
		}
	}
}

func (d *SpikeDetector) freshNow(st *termState, b int64) bool {
	return st.fresh && time.Duration(b-st.created)*d.cfg.Bucket < d.cfg.FreshFor
}

// thresholds returns per (spike rule, window) minimal firing counts for the term at bucket b.
func (d *SpikeDetector) thresholds(st *termState, b int64) []uint16 {
	if st.thrB == b && st.thrGen == d.gen && st.thr != nil {
		return st.thr
	}
	nW := len(d.cfg.Windows)
	n := len(d.spike) * nW
	if cap(st.thr) < 2*n {
		st.thr = make([]uint16, 2*n)
	}
	st.thr = st.thr[:2*n]
	fresh := d.freshNow(st, b)
	for _, r := range d.spike {
		for wi, w := range d.cfg.Windows {
			minC := r.MinCount
			if fresh && r.NewTerms != nil && *r.NewTerms {
				minC = r.NewTermMinCount
			}
			c := math.MaxUint16 // threshold-mode watch rules are tested in testSpike
			if r.Threshold == 0 {
				mu := d.expected(st, b, w)
				c = nbMinFiringCount(mu, d.c2(st, wi, mu), minC, r.MinRatio, r.MinScore*d.calFactor(st, wi))
			}
			if c > math.MaxUint16 {
				c = math.MaxUint16
			}
			st.thr[r.spikeIdx*nW+wi] = uint16(c)
			cc := math.MaxUint16
			if r.Threshold == 0 && r.ChangeScore > 0 && !fresh {
				if mu, c2, ok := d.changeModel(st, b, w); ok {
					floor := max(minC, int(math.Ceil(d.cfg.ExitRatio*d.expected(st, b, w))))
					cc = nbMinFiringCount(mu, c2, floor, r.ChangeRatio, r.ChangeScore*d.changeCal(st, wi))
				}
			}
			if cc > math.MaxUint16 {
				cc = math.MaxUint16
			}
			st.thr[n+r.spikeIdx*nW+wi] = uint16(cc)
		}
	}
	st.thrB, st.thrGen = b, d.gen
	return st.thr
}

func epKey(ruleID, termKey string) string { return ruleID + "\x00" + termKey }

func (d *SpikeDetector) testSpike(key string, st *termState, t time.Time) {
	b := st.head
	var counts [8]int
	nW := len(d.cfg.Windows)
	maxC := 0
	for i, w := range d.cfg.Windows {
		if i >= len(counts) {
			break
		}
		counts[i] = st.windowSum(b, w)
		if counts[i] > maxC {
			maxC = counts[i]
		}
	}
	if maxC < d.minCountG {
		return
	}
	thr := d.thresholds(st, b)
	for _, r := range d.spike {
		if !r.applies(st.kind, key) {
			continue
		}
		if r.Threshold > 0 {
			w := r.windowBuckets(d.cfg.Bucket)
			if c := st.windowSum(b, w); c >= r.Threshold && !d.busy(r, key, b, c, w) {
				d.fire(r, key, st, b, w, c, t, testSeasonal)
			}
			continue
		}
		if r.RiseScore > 0 && st.disp != nil && float64(st.disp.Rise) >= r.RiseScore && !d.freshNow(st, b) {
			w := min(ringBuckets, d.maxWin)
			if c := st.windowSum(b, w); c >= r.MinCount && float64(c) >= d.cfg.ExitRatio*d.expected(st, b, w) && !d.busy(r, key, b, c, w) {
				d.fire(r, key, st, b, w, c, t, testRise)
				continue
			}
		}
		for wi, w := range d.cfg.Windows {
			if wi >= len(counts) {
				continue
			}
			seasonal := counts[wi] >= int(thr[r.spikeIdx*nW+wi])
			if !seasonal && counts[wi] < int(thr[len(d.spike)*nW+r.spikeIdx*nW+wi]) {
				continue
			}
			if d.busy(r, key, b, counts[wi], w) {
				continue
			}
			test := testSeasonal
			if !seasonal {
				test = testChange
			}
			d.fire(r, key, st, b, w, counts[wi], t, test)
			break
		}
	}
}

// busy reports whether rule r must not open an episode for the term now: one is open or
// cooling down, or one resolved less than RefireWithin ago and c mentions in w buckets do not
// exceed its peak rate (a decaying burst is not news again). An expired memory is dropped.
func (d *SpikeDetector) busy(r *cRule, key string, b int64, c, w int) bool {
	k := epKey(r.ID, key)
	ep, ok := d.episodes[k]
	if !ok {
		return false
	}
	if !ep.Resolved || b < ep.Until {
		return true
	}
	if b < ep.Forget && float64(c)/float64(w) <= ep.PeakRate {
		return true
	}
	if st := d.terms[key]; st != nil && st.open > 0 {
		st.open--
	}
	delete(d.episodes, k)
	return false
}

func alertID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// explain is the human reason for c mentions in the w buckets ending at b: the count, how it
// compares with the usual for that weekday and hour, and the tail probability behind it.
func (d *SpikeDetector) explain(st *termState, b int64, w, c int, minScore float64) (reason string, mu, score float64) {
	mu = d.expected(st, b, w)
	wi := d.windowIndex(w)
	c2 := d.c2(st, wi, mu)
	score = nbScore(c, mu, c2)
	sd := math.Sqrt(mu + c2*mu*mu)
	win := time.Duration(w) * d.cfg.Bucket
	n := 0
	if st.disp != nil {
		n = int(st.disp.N[wi])
	}
	reason = fmt.Sprintf("%s %q: %d mentions in %s, about %.1f× the usual for %s (expected %s ± %s); p=%.0e under its own overdispersed model (score %.1f ≥ %.1f × %.2f calibration; c² %.2f from %d windows)",
		st.kind, st.display, c, shortDur(win), float64(c)/math.Max(mu, 1e-9), d.usualFor(b), fmtNum(mu), fmtNum(sd),
		math.Pow(10, -score), score, minScore, d.calFactor(st, wi), c2, n)
	return reason, mu, score
}

// windowIndex is the index of window w in cfg.Windows (the nearest shorter one otherwise).
func (d *SpikeDetector) windowIndex(w int) int {
	best := 0
	for i, x := range d.cfg.Windows {
		if x <= w && x >= d.cfg.Windows[best] {
			best = i
		}
	}
	return min(best, 7)
}

func fmtNum(x float64) string {
	switch {
	case x >= 10:
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	case x >= 1:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

func shortDur(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}

// firingTest is which of a spike rule's tests opened an episode.
type firingTest uint8

const (
	testSeasonal firingTest = iota // min_score against the term's weekday × hour usual
	testChange                     // change_score against its rate over the last hour
	testRise                       // rise_score: a sustained rise (CUSUM)
)

func (d *SpikeDetector) fire(r *cRule, key string, st *termState, b int64, w, c int, t time.Time, test firingTest) {
	ruleType := r.Type
	fresh := d.freshNow(st, b)
	if fresh && r.Type == RuleSpike && r.NewTerms != nil && *r.NewTerms {
		ruleType = KindNewTerm
	}
	var reason string
	var lambda, score float64
	switch test {
	case testChange:
		reason, lambda, score = d.explainChange(st, b, w, c, r)
	case testRise:
		reason, lambda, score = d.explainRise(st, b, w, c, r)
	default:
		reason, lambda, score = d.explain(st, b, w, c, r.MinScore)
	}
	if st.disp != nil {
		st.disp.Rise, st.disp.RiseFrom = 0, b+1
	}
	start := b - int64(w) + 1
	ep := &episode{RuleID: r.ID, RuleType: ruleType, TermKey: key, Start: start, FiredB: b,
		LastActive: b, LastUpdate: b, Peak: c, PeakScore: score, Window: w,
		PeakRate: float64(c) / float64(w), PeakB: b}
	d.episodes[epKey(r.ID, key)] = ep
	st.open++
	win := time.Duration(w) * d.cfg.Bucket
	switch {
	case r.Threshold > 0:
		reason = fmt.Sprintf("watch %q: %d matching articles in the last %s reached the threshold %d (expected %s)",
			r.ID, c, shortDur(win), r.Threshold, fmtNum(lambda))
	case ruleType == KindNewTerm:
		reason = fmt.Sprintf("new term %s %q: never seen before %s, now %d mentions in %s (new-term floor %d); score %.1f vs a %.2f/h prior",
			st.kind, st.display, d.timeOf(st.created).Format(time.RFC3339), c, shortDur(win), r.NewTermMinCount, score, d.cfg.MinLevelPerHour)
	case test != testSeasonal:
		// explainChange / explainRise wrote the whole reason
	default:
		reason += fmt.Sprintf("; floors ≥%d mentions, ≥%.1f×; syndicated copies counted once", r.MinCount, r.MinRatio)
	}
	d.emit(ep, st, StatusFiring, ruleType, b, w, float64(c), lambda, score, reason, t)
}

func (d *SpikeDetector) emit(ep *episode, st *termState, status, ruleType string, b int64, w int, cur, base, score float64, reason string, at time.Time) {
	from := d.timeOf(b - int64(w) + 1)
	to := d.timeOf(b + 1)
	if at.Before(to) && !at.IsZero() {
		to = at
	}
	seq := ""
	if status == StatusStillFiring {
		seq = strconv.Itoa(ep.Seq)
	}
	id := alertID(ep.RuleID, ep.TermKey, strconv.FormatInt(ep.Start, 10), status, seq)
	version := int64(1)
	switch status {
	case StatusStillFiring:
		version = int64(ep.Seq) + 1
	case StatusResolved:
		version = int64(ep.Seq) + 2
	}
	epStart := d.timeOf(ep.FiredB)
	peakAt := d.timeOf(ep.PeakB)
	if ep.PeakB == 0 {
		peakAt = epStart
	}
	var ended *time.Time
	if status == StatusResolved {
		e := d.timeOf(ep.LastActive + 1)
		ended = &e
	}
	d.out = append(d.out, Emitted{
		ID: id, TermHash: st.hash, From: from, To: to,
		Alert: article.Alert{
			RuleID: ep.RuleID, RuleType: ruleType, Term: st.display, TermKind: st.kind, Status: status,
			WindowStart: from, WindowEnd: to, Current: cur, Baseline: round2(base), Score: round2(score),
			Reason: reason, FirstSeen: d.timeOf(st.created), FiredAt: at.UTC(),
			EpisodeID: alertID(ep.RuleID, ep.TermKey, strconv.FormatInt(ep.Start, 10)), EpisodeVersion: version,
			EpisodeStart: &epStart, Peak: float64(max(ep.Peak, int(cur))), PeakAt: &peakAt, EndedAt: ended,
			PeakPerMin: round2(math.Max(ep.PeakRate, cur/float64(w)) * float64(time.Minute) / float64(d.cfg.Bucket)),
		},
	})
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Advance closes every bucket that ends at or before watermark and evaluates episodes,
// es_spike dips and term expiry for each.
func (d *SpikeDetector) Advance(watermark time.Time) {
	if !d.started {
		return
	}
	end := d.bucketOf(watermark) // buckets < end are closed
	if end-d.open > 7*24*60*int64(time.Minute)/d.bucketNs {
		// A jump of more than a week (clock skew, long outage): do not iterate every bucket.
		d.open = end - 2*ringBuckets
	}
	for ; d.open < end; d.open++ {
		d.closeBucket(d.open)
	}
	if end > d.maxB {
		d.maxB = end
	}
}

func (d *SpikeDetector) closeBucket(cb int64) {
	d.season.observe(cb, d.cfg.Bucket, d.totals[cb%ringBuckets])
	d.sfMemo = [2]sfEntry{}
	d.totals[cb%ringBuckets] = 0
	at := d.timeOf(cb + 1)
	keys := make([]string, 0, len(d.episodes))
	for k := range d.episodes {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic emission order
	for _, k := range keys {
		d.evalEpisode(k, d.episodes[k], cb, at)
	}
	if d.warm(cb) {
		for _, r := range d.es {
			if r.SpikeType == "up" {
				continue
			}
			for key, st := range d.terms {
				if r.applies(st.kind, key) && st.head >= cb-2*int64(r.Timeframe.D()/d.cfg.Bucket) {
					d.testES(r, key, st, cb, at, true)
				}
			}
		}
	}
	d.sinceGC++
	if d.sinceGC >= 60 {
		d.sinceGC = 0
		d.expire(cb)
	}
}

func (d *SpikeDetector) ruleByID(id string) *cRule {
	for _, r := range d.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (d *SpikeDetector) evalEpisode(k string, ep *episode, cb int64, at time.Time) {
	st := d.terms[ep.TermKey]
	r := d.ruleByID(ep.RuleID)
	if ep.Resolved || st == nil || r == nil || r.Type == RuleESSpike {
		if ep.Resolved && (cb < ep.Until || cb < ep.Forget) && st != nil && r != nil {
			return
		}
		if st != nil && st.open > 0 {
			st.open--
		}
		delete(d.episodes, k)
		return
	}
	active := false
	bestC, bestW, bestL := 0, ep.Window, 0.0
	if r.Threshold > 0 {
		w := r.windowBuckets(d.cfg.Bucket)
		if c := st.windowSum(cb, w); c >= r.Threshold {
			active, bestC, bestW, bestL = true, c, w, d.expected(st, cb, w)
		}
	}
	for _, w := range d.cfg.Windows {
		if r.Threshold > 0 {
			break
		}
		c := st.windowSum(cb, w)
		l := d.expected(st, cb, w)
		if c >= r.MinCount && float64(c) >= d.cfg.ExitRatio*l {
			if !active || float64(c)/math.Max(l, 1e-9) > float64(bestC)/math.Max(bestL, 1e-9) {
				bestC, bestW, bestL = c, w, l
			}
			active = true
			if rate := float64(c) / float64(w); rate > ep.PeakRate {
				ep.PeakRate, ep.PeakB = rate, cb
			}
		}
	}
	if active {
		ep.LastActive = cb
		if bestC > ep.Peak {
			ep.Peak = bestC
		}
		if r.StillEvery > 0 && time.Duration(cb-ep.LastUpdate)*d.cfg.Bucket >= r.StillEvery.D() {
			ep.LastUpdate = cb
			ep.Seq++
			why, mu, sc := d.explain(st, cb, bestW, bestC, r.MinScore)
			reason := fmt.Sprintf("still spiking since %s: %s; peak so far %s mentions/min at %s",
				d.timeOf(ep.FiredB).Format(time.RFC3339), why, fmtNum(ep.PeakRate*float64(time.Minute)/float64(d.cfg.Bucket)),
				d.timeOf(ep.PeakB).Format("15:04 UTC"))
			d.emit(ep, st, StatusStillFiring, ep.RuleType, cb, bestW, float64(bestC), mu, sc, reason, at)
		}
		return
	}
	if time.Duration(cb-ep.LastActive)*d.cfg.Bucket >= d.cfg.ResolveAfter {
		c := st.windowSum(cb, ep.Window)
		l := d.expected(st, cb, ep.Window)
		lasted := time.Duration(ep.LastActive+1-ep.FiredB) * d.cfg.Bucket
		reason := fmt.Sprintf("resolved: %s %q is back to normal (%d mentions in the last %s vs %s expected); the burst lasted %s and peaked at %s mentions/min at %s (%d in %s)",
			st.kind, st.display, c, shortDur(time.Duration(ep.Window)*d.cfg.Bucket), fmtNum(l), lasted.Round(time.Minute),
			fmtNum(ep.PeakRate*float64(time.Minute)/float64(d.cfg.Bucket)), d.timeOf(ep.PeakB).Format(time.RFC3339), ep.Peak,
			shortDur(time.Duration(ep.Window)*d.cfg.Bucket))
		d.emit(ep, st, StatusResolved, ep.RuleType, cb, ep.Window, float64(c), l, nbScore(c, l, d.c2(st, d.windowIndex(ep.Window), l)), reason, at)
		ep.Resolved = true
		if st.disp != nil { // a burst that has ended is no evidence of a rise to come
			st.disp.Rise, st.disp.RiseFrom = 0, cb+1
		}
		ep.Until = cb + int64(r.Cooldown.D()/d.cfg.Bucket)
		ep.Forget = cb + int64(d.cfg.RefireWithin/d.cfg.Bucket)
	}
}

// testES applies ElastAlert2's SpikeRule.handle_event/find_matches to the term's buckets
// ending at b (see esspike.go for the exact semantics and the ref=0 guard).
func (d *SpikeDetector) testES(r *cRule, key string, st *termState, b int64, at time.Time, placeholder bool) {
	if st.es == nil {
		st.es = make([]esState, len(d.es))
		for i := range st.es {
			st.es[i] = esState{First: -1}
		}
	}
	es := &st.es[r.esIdx]
	T := int64(r.Timeframe.D() / d.cfg.Bucket)
	if es.First < 0 {
		if placeholder {
			return
		}
		es.First = b
	}
	if b-es.First < 2*T {
		if !d.esFilled[r.esIdx] || !r.AlertOnNewData || b < es.SkipUntil {
			return
		}
	} else {
		d.esFilled[r.esIdx] = true
	}
	cur := st.windowSum(b, int(T))
	ref := 0
	for i := b - T; i > b-2*T; i-- {
		if i >= es.RefFloor {
			ref += st.windowSum(i, 1)
		}
	}
	up, down := esSpikeMatch(r.Rule, ref, cur)
	if !up && !down {
		return
	}
	dir := "up"
	if down && !up {
		dir = "down"
	}
	start := b - T + 1
	ep := &episode{RuleID: r.ID, RuleType: RuleESSpike, TermKey: key, Start: start, FiredB: b, Window: int(T)}
	reason := fmt.Sprintf("es_spike (%s): %d events in the last %s vs %d in the %s before (spike_height %.4g, threshold_cur %d, threshold_ref %d%s)",
		dir, cur, r.Timeframe.D(), ref, r.Timeframe.D(), r.SpikeHeight, r.ThresholdCur, r.ThresholdRef, refNote(ref))
	d.emit(ep, st, StatusFiring, RuleESSpike, b, int(T), float64(cur), float64(ref), float64(cur)/math.Max(float64(ref), 1), reason, at)
	// clear_windows: ref cleared, first_event forgotten, skip for 2 timeframes.
	es.RefFloor = b - T + 1
	es.First = -1
	es.SkipUntil = b + 2*T
}

func refNote(ref int) string {
	if ref == 0 {
		return "; reference window empty, counted as 1 (ref=0 guard)"
	}
	return ""
}

// expire forgets idle terms (remembering their keys in the Bloom filter) and old thresholds.
func (d *SpikeDetector) expire(cb int64) {
	idle := int64(d.cfg.IdleTTL / d.cfg.Bucket)
	for k, st := range d.terms {
		if st.open == 0 && cb-st.lastSeen > idle {
			d.expired.add(st.hash)
			delete(d.terms, k)
			continue
		}
		if st.thr != nil && cb-st.thrB > 60 {
			st.thr = nil
		}
	}
}
