package alerteval

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
)

// Real-data metric parameters (../shared/eval/alerts/README.md).
const (
	HitTolerance = time.Hour     // a labelled point is hit by a firing within ±1 h
	EpisodeGap   = 4 * time.Hour // firings of one term less than 4 h apart are one episode
)

// RealResult scores one detector on one series (or, for the overall row, on all of them).
type RealResult struct {
	Series        string
	Labels        int
	Hit           int
	Delays        []time.Duration // first firing within ±1 h − labelled point, per hit
	Episodes      int
	FalseEpisodes int
	Days          float64
	Messages      int // alert messages a webhook received
	Emitted       int // alert messages of every status (the alerts index's updates)
	NAB           NABRaw
}

// FalsePerDay is false episodes per term-day.
func (r RealResult) FalsePerDay() float64 { return safeDiv(float64(r.FalseEpisodes), r.Days) }

// Precision is episodes starting inside a window / all episodes.
func (r RealResult) Precision() float64 {
	return safeDiv(float64(r.Episodes-r.FalseEpisodes), float64(r.Episodes))
}

// Volume is alert messages a webhook received per term per day.
func (r RealResult) Volume() float64 { return safeDiv(float64(r.Messages), r.Days) }

// EmittedVolume is alert messages of every status emitted per term per day.
func (r RealResult) EmittedVolume() float64 { return safeDiv(float64(r.Emitted), r.Days) }

// DelayMedian is the median of (first firing within ±1 h − labelled point).
func (r RealResult) DelayMedian() time.Duration {
	if len(r.Delays) == 0 {
		return 0
	}
	return quantileRaw(r.Delays, 0.5)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (r RealResult) add(o RealResult) RealResult {
	r.Labels += o.Labels
	r.Hit += o.Hit
	r.Delays = append(r.Delays, o.Delays...)
	r.Episodes += o.Episodes
	r.FalseEpisodes += o.FalseEpisodes
	r.Days += o.Days
	r.Messages += o.Messages
	r.Emitted += o.Emitted
	r.NAB = r.NAB.Add(o.NAB)
	return r
}

// ScoreRealSeries computes every metric of the dev set's README for one series.
func ScoreRealSeries(s *Series, f Firings) RealResult {
	fired := append([]time.Time(nil), f.Opened...)
	sort.Slice(fired, func(i, j int) bool { return fired[i].Before(fired[j]) })
	r := RealResult{Series: s.Term, Labels: len(s.Labels), Days: s.Days(), Messages: f.Messages, Emitted: f.Emitted}
	for _, l := range s.Labels {
		for _, t := range fired {
			if d := t.Sub(l); d >= -HitTolerance && d <= HitTolerance {
				r.Hit++
				r.Delays = append(r.Delays, d)
				break
			}
		}
	}
	inWindow := func(t time.Time) bool {
		for _, w := range s.Windows {
			if !t.Before(w[0]) && !t.After(w[1]) {
				return true
			}
		}
		return false
	}
	var last time.Time
	for i, t := range fired {
		if i == 0 || t.Sub(last) >= EpisodeGap {
			r.Episodes++
			if !inWindow(t) {
				r.FalseEpisodes++
			}
		}
		last = t
	}
	r.NAB = NABScore(s, fired)
	return r
}

// RealReport is one real-data eval run: per detector, per series and overall.
type RealReport struct {
	Series  []*Series
	Systems []string
	Results [][]RealResult // [system][series]; the overall row is computed by Overall
	Ours    []Firings      // newsflow's firings per series (for a verbose listing)
	Elapsed time.Duration
}

// Overall sums a system's per-series results.
func (r *RealReport) Overall(sys int) RealResult {
	o := RealResult{Series: "overall"}
	for _, x := range r.Results[sys] {
		o = o.add(x)
	}
	return o
}

// EvaluateReal replays the series through newsflow with rules (what a user receives: pass
// every rule that ships enabled) and scores ElastAlert2's spike rule (its semantics on 5-minute
// per-term counts: timeframe 1h, spike_height 3, up, threshold_ref 10) in the same run.
func EvaluateReal(series []*Series, cfg alert.Config, rules []alert.Rule) (*RealReport, error) {
	start := time.Now()
	rep := &RealReport{Series: series}
	ours, err := ReplayReal(series, cfg, rules)
	if err != nil {
		return nil, err
	}
	var a, b []RealResult
	for i, s := range series {
		a = append(a, ScoreRealSeries(s, ours[i]))
		b = append(b, ScoreRealSeries(s, ESSpikeSeries(s, time.Hour, 3, 0, 10)))
	}
	rep.Ours = ours
	rep.Systems = []string{"newsflow (shipped default rules)", "ElastAlert2 spike 1h ×3 up ref≥10"}
	rep.Results = [][]RealResult{a, b}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// PrintFirings lists newsflow's episode-opening alerts, each marked as inside a labelled
// window or not, with its reason.
func (r *RealReport) PrintFirings(w io.Writer) {
	for i, s := range r.Series {
		for j, t := range r.Ours[i].Opened {
			mark := "FALSE"
			for _, win := range s.Windows {
				if !t.Before(win[0]) && !t.After(win[1]) {
					mark = "in"
				}
			}
			reason := ""
			if j < len(r.Ours[i].Reasons) {
				reason = r.Ours[i].Reasons[j]
			}
			fmt.Fprintf(w, "%-10s %s %-5s %s\n", s.Term, t.Format("2006-01-02 Mon 15:04"), mark, reason)
		}
	}
}

// Print writes one table per system: each series and the overall row.
func (r *RealReport) Print(w io.Writer) {
	fmt.Fprintf(w, "real data: %d series, %d labelled spikes\n", len(r.Series), r.Overall(0).Labels)
	for si, sys := range r.Systems {
		fmt.Fprintf(w, "\n%s\n", sys)
		fmt.Fprintf(w, "  %-12s %8s %10s %9s %8s %10s %9s %10s %11s %8s\n", "series", "hit ±1h", "delay p50", "episodes", "false", "false/day", "ep.prec", "msgs/day", "emitted/day", "NAB std")
		rows := append(append([]RealResult(nil), r.Results[si]...), r.Overall(si))
		for _, x := range rows {
			fmt.Fprintf(w, "  %-12s %8s %10s %9d %8d %10.2f %9.2f %10.2f %11.2f %8.1f\n", x.Series,
				fmt.Sprintf("%d/%d", x.Hit, x.Labels), x.DelayMedian().Round(time.Second), x.Episodes, x.FalseEpisodes,
				x.FalsePerDay(), x.Precision(), x.Volume(), x.EmittedVolume(), x.NAB.Normalized())
		}
	}
	fmt.Fprintf(w, "\nmsgs/day: alert messages per term-day a webhook receives (newsflow: firing, resolved, and still-firing updates\n"+
		"  passed by the shipped throttle: at most one per %s, only once the peak rate has grown %gx); emitted/day:\n"+
		"  messages of every status (newsflow's alerts index gets them all; ElastAlert2 sends each match).\n", alert.DefaultNotifyUpdateEvery, alert.DefaultNotifyUpdateGrowth)
	fmt.Fprintf(w, "\nNAB std: standard profile (A_TP 1, A_FP 0.11, A_FN 1, 15%% probation), normalised over the rows shown (overall: whole corpus).\nreal-data eval wall time %s\n", r.Elapsed.Round(time.Millisecond))
}
