package alerteval

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
)

// Grace is how long after a burst's last mention an alert still counts as detecting it.
const Grace = 15 * time.Minute

// Result scores one system.
type Result struct {
	System      string
	Alerts      int // firing alerts (new episodes)
	TP          int // alerts that are the first detection of a burst
	Refires     int // further episodes opened on a burst already detected
	FP          int
	FloodFP     int // false positives on flood terms during a flood
	Bursts      int
	Detected    int
	Precision   float64
	Recall      float64
	DelayMedian time.Duration
	DelayP95    time.Duration
	// MentionsMedian is the median number of burst mentions up to detection (a measure of
	// sensitivity that does not depend on the generator's burst rates).
	MentionsMedian int
	ByShape        map[string][2]int // shape → detected, total
	DelayShape     map[string]time.Duration
	FPExamples     []string
	Missed         []string
}

// Score matches firing alerts (by term key and time) to bursts.
func Score(system string, s *Stream, alerts []*article.Alert) Result {
	r := Result{System: system, Bursts: len(s.Bursts), ByShape: map[string][2]int{}, DelayShape: map[string]time.Duration{}}
	byKey := map[string][]int{}
	for i, b := range s.Bursts {
		byKey[b.Key] = append(byKey[b.Key], i)
	}
	floodKey := map[string][]int{}
	for i, f := range s.Floods {
		for _, k := range f.Keys {
			floodKey[k] = append(floodKey[k], i)
		}
	}
	first := make([]time.Time, len(s.Bursts))
	var mentionsAt []time.Duration
	for _, a := range alerts {
		if a.Status != alert.StatusFiring {
			continue
		}
		r.Alerts++
		key := a.TermKind + ":" + strings.ToLower(a.Term)
		matched, fresh := false, false
		for _, bi := range byKey[key] {
			b := s.Bursts[bi]
			if !a.FiredAt.Before(b.Start) && !a.FiredAt.After(b.End.Add(Grace)) {
				matched = true
				if first[bi].IsZero() || a.FiredAt.Before(first[bi]) {
					first[bi] = a.FiredAt
					fresh = true
				}
			}
		}
		if matched && fresh {
			r.TP++
			continue
		}
		if matched {
			// A second episode of a burst already alerted on (a decaying burst re-firing):
			// not a detection, and counted against precision.
			r.Refires++
			continue
		}
		r.FP++
		for _, fi := range floodKey[key] {
			f := s.Floods[fi]
			if !a.FiredAt.Before(f.Start) && !a.FiredAt.After(f.End.Add(Grace)) {
				r.FloodFP++
			}
		}
		if len(r.FPExamples) < 5 {
			r.FPExamples = append(r.FPExamples, fmt.Sprintf("%s %s %s: %s", a.FiredAt.Format("Jan02 15:04"), a.RuleType, key, a.Reason))
		}
	}
	var delays []time.Duration
	shapeDelays := map[string][]time.Duration{}
	for i, b := range s.Bursts {
		shape := b.Shape
		if b.New {
			shape = "new-" + shape
		}
		c := r.ByShape[shape]
		c[1]++
		if !first[i].IsZero() {
			c[0]++
			r.Detected++
			d := first[i].Sub(b.Start)
			delays = append(delays, d)
			mentionsAt = append(mentionsAt, time.Duration(s.mentionsUpTo(i, first[i])))
			shapeDelays[shape] = append(shapeDelays[shape], d)
		} else if len(r.Missed) < 5 {
			r.Missed = append(r.Missed, fmt.Sprintf("%s %s %d mentions over %s, base %.1f/h", b.Key, shape, b.Mentions, b.End.Sub(b.Start).Round(time.Second), b.BasePerH))
		}
		r.ByShape[shape] = c
	}
	if r.Alerts > 0 {
		r.Precision = float64(r.TP) / float64(r.Alerts)
	}
	if r.Bursts > 0 {
		r.Recall = float64(r.Detected) / float64(r.Bursts)
	}
	r.DelayMedian = quantile(delays, 0.5)
	r.DelayP95 = quantile(delays, 0.95)
	r.MentionsMedian = int(quantileRaw(mentionsAt, 0.5))
	for sh, ds := range shapeDelays {
		r.DelayShape[sh] = quantile(ds, 0.5)
	}
	return r
}

func quantile(ds []time.Duration, q float64) time.Duration {
	return quantileRaw(ds, q).Round(time.Second)
}

func quantileRaw(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

// Options adjust an eval run. The zero value runs the defaults with the full grid.
type Options struct {
	// SkipGrid skips the ElastAlert2 configuration grid (faster runs).
	SkipGrid bool
	// Tune, when set, adjusts newsflow's rule before a run (parameter sweeps in
	// cmd/eval-alerts). It is called once per DefaultRules call, from the caller's goroutine.
	Tune func(*alert.Rule)
}

// DefaultRules are the rules the eval runs: newsflow's shipped spike rule (the first enabled
// spike rule of alert.DefaultRules, adjusted by opt.Tune), and the ElastAlert2-style baseline (query_key = term, timeframe 10m,
// spike_height 3, threshold_cur 10, alert_on_new_data) — the usual way such a rule is
// configured for "≥3× and ≥10".
func DefaultRules(opt Options) (ours, baseline alert.Rule) {
	ours = alert.Rule{Type: alert.RuleSpike}
	for _, r := range alert.DefaultRules() {
		if r.Type == alert.RuleSpike && !r.Disabled {
			ours = r
			break
		}
	}
	ours.ID = "newsflow"
	if opt.Tune != nil {
		opt.Tune(&ours)
	}
	baseline = alert.Rule{ID: "elastalert2", Type: alert.RuleESSpike, Timeframe: alert.Duration(10 * time.Minute),
		SpikeHeight: 3, SpikeType: "up", ThresholdCur: 10, AlertOnNewData: true}
	return
}

// Replay feeds the stream to an Alerter built from cfg and rules and returns every alert.
// The alerter is driven in event time only (no wall clock).
func Replay(s *Stream, cfg alert.Config, rules []alert.Rule) ([]*article.Alert, *alert.Alerter, error) {
	var out []*article.Alert
	cfg.OnAlert = func(a *article.Alert) { out = append(out, a) }
	a, err := alert.New(cfg, rules, nil, nil, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	var e article.Enriched
	ctx := context.Background()
	for i := 0; i < s.Len(); i++ {
		s.Article(i, &e)
		if err := a.Observe(ctx, &e); err != nil {
			return nil, nil, err
		}
	}
	_, end := s.Span()
	a.Tick(end.Add(time.Hour))
	return out, a, nil
}

// Report is a full eval run.
type Report struct {
	Stream  *Stream
	Results []Result
	Grid    []Result // every es_spike configuration tried (every-document counting)
	Elapsed time.Duration
}

// esGrid is the ElastAlert2 configurations tried for the best-of-grid baseline.
func esGrid() []alert.Rule {
	var out []alert.Rule
	for _, tf := range []time.Duration{5 * time.Minute, 10 * time.Minute, 30 * time.Minute} {
		for _, h := range []float64{3, 5} {
			for _, ref := range []int{0, 3} {
				out = append(out, alert.Rule{ID: fmt.Sprintf("es tf=%s h=%g ref>=%d", tf, h, ref), Type: alert.RuleESSpike,
					Timeframe: alert.Duration(tf), SpikeHeight: h, SpikeType: "up", ThresholdCur: 10, ThresholdRef: ref,
					AlertOnNewData: true})
			}
		}
	}
	return out
}

func f1(r Result) float64 {
	if r.Precision+r.Recall == 0 {
		return 0
	}
	return 2 * r.Precision * r.Recall / (r.Precision + r.Recall)
}

// Evaluate replays the stream through newsflow's detector and the ElastAlert2-style rule in the
// same Alerter (with story-cluster dedup), and, in a second Alerter counting every document
// (what ElastAlert2 over the index sees), the same rule plus a small grid of ElastAlert2
// configurations of which the best by F1 is reported too (unless opt.SkipGrid). opt.Tune
// adjusts newsflow's rule.
func Evaluate(s *Stream, cfg alert.Config, opt Options) (*Report, error) {
	start := time.Now()
	ours, base := DefaultRules(opt)
	grid := esGrid()
	if opt.SkipGrid {
		grid = nil
	}
	alerts, a, err := Replay(s, cfg, []alert.Rule{ours, base})
	if err != nil {
		return nil, err
	}
	_ = a.Close()
	raw := cfg
	raw.DisableClusterDedup = true
	alertsRaw, a2, err := Replay(s, raw, append([]alert.Rule{base}, grid...))
	if err != nil {
		return nil, err
	}
	_ = a2.Close()
	split := func(as []*article.Alert) map[string][]*article.Alert {
		m := map[string][]*article.Alert{}
		for _, al := range as {
			m[al.RuleID] = append(m[al.RuleID], al)
		}
		return m
	}
	d, r := split(alerts), split(alertsRaw)
	rep := &Report{Stream: s}
	best := Score("es_spike tf=10m h=3 (every document)", s, r["elastalert2"])
	for _, g := range grid {
		res := Score(g.ID, s, r[g.ID])
		rep.Grid = append(rep.Grid, res)
		if f1(res) > f1(best) {
			best = res
		}
	}
	rep.Results = append(rep.Results,
		Score("newsflow spike (cluster dedup)", s, d["newsflow"]),
		Score("es_spike tf=10m h=3 (cluster dedup)", s, d["elastalert2"]),
		Score("es_spike tf=10m h=3 (every document)", s, r["elastalert2"]))
	if len(grid) > 0 {
		best.System = "es_spike best of grid: " + strings.TrimPrefix(best.System, "es ")
		rep.Results = append(rep.Results, best)
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	st := r.Stream
	from, to := st.Span()
	fmt.Fprintf(w, "stream: %d terms, %s → %s (%s), %d articles, %d mentions, %d bursts (%d new-term), %d floods × %d copies\n",
		st.cfg.Terms, from.Format(time.RFC3339), to.Format(time.RFC3339), to.Sub(from), st.Len(), st.Mentions,
		len(st.Bursts), st.cfg.NewTermBursts, len(st.Floods), st.cfg.FloodCopies)
	row := func(x Result) {
		fmt.Fprintf(w, "%-48s %6d %4d %5d %7d %7d %9.3f %6.3f %9s %9s %9s %8d\n", x.System, x.Alerts, x.TP, x.FP, x.Refires, x.FloodFP,
			x.Precision, x.Recall, fmt.Sprintf("%d/%d", x.Detected, x.Bursts), x.DelayMedian, x.DelayP95, x.MentionsMedian)
	}
	hdr := fmt.Sprintf("%-48s %6s %4s %5s %7s %7s %9s %6s %9s %9s %9s %8s\n", "system", "alerts", "TP", "FP", "refires", "floodFP", "precision", "recall", "detected", "delay p50", "delay p95", "mentions")
	fmt.Fprint(w, "\n"+hdr)
	for _, x := range r.Results {
		row(x)
	}
	if len(r.Grid) > 0 {
		fmt.Fprintf(w, "\nElastAlert2 grid (every document, threshold_cur 10, alert_on_new_data):\n")
		for _, x := range r.Grid {
			row(x)
		}
	}
	fmt.Fprintf(w, "\nper shape (detected/total, median delay):\n")
	shapes := []string{}
	for sh := range r.Results[0].ByShape {
		shapes = append(shapes, sh)
	}
	sort.Strings(shapes)
	for _, x := range r.Results {
		fmt.Fprintf(w, "  %-48s", x.System)
		for _, sh := range shapes {
			c := x.ByShape[sh]
			fmt.Fprintf(w, " %s %d/%d %s;", sh, c[0], c[1], x.DelayShape[sh])
		}
		fmt.Fprintln(w)
	}
	x := r.Results[0]
	for _, e := range x.FPExamples {
		fmt.Fprintf(w, "  FP %s: %s\n", x.System, e)
	}
	for _, e := range x.Missed {
		fmt.Fprintf(w, "  missed %s: %s\n", x.System, e)
	}
	fmt.Fprintf(w, "\nmentions = median burst mentions seen up to detection; delays in stream time.\neval wall time %s\n", r.Elapsed.Round(time.Millisecond))
}
