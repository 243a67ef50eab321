// Command eval-alerts generates a labelled synthetic news stream and prints precision, recall
// and detection delay of newsflow's spike detector and of the ElastAlert2-style spike rule.
//
//	go run ./cmd/eval-alerts [-terms 3000 -hours 72 -seed 1]
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/alert/alerteval"
)

func main() {
	terms := flag.Int("terms", 3000, "background terms")
	hours := flag.Int("hours", 72, "stream length in hours")
	seed := flag.Uint64("seed", 1, "random seed")
	bursts := flag.Int("bursts", 0, "bursts on existing terms (default: one per hour)")
	floods := flag.Int("floods", 0, "syndicated-copy floods (default: one per 3 hours)")
	minScore := flag.Float64("min-score", 0, "override the spike rule's min_score")
	minCount := flag.Int("min-count", 0, "override the spike rule's min_count")
	minRatio := flag.Float64("min-ratio", 0, "override the spike rule's min_ratio")
	changeScore := flag.Float64("change-score", 0, "override the spike rule's change_score (negative: change test off)")
	riseScore := flag.Float64("rise-score", 0, "override the spike rule's rise_score (negative: rise test off)")
	changeRatio := flag.Float64("change-ratio", 0, "override the spike rule's change_ratio")
	grid := flag.Bool("grid", true, "also try a grid of ElastAlert2 configurations")
	windows := flag.String("windows", "", "override detector windows in buckets, e.g. 1,2,5,15,60")
	newTermMin := flag.Int("new-term-min", 0, "override new_term_min_count")
	noTitle := flag.Bool("no-title-dedup", false, "disable the title dedup key (cluster ids only)")
	realDir := flag.String("real", "", "also replay the real dev set in DIR (../shared/eval/alerts layout)")
	poisson := flag.Bool("poisson", false, "synthetic: the old Poisson stream (one shared daily sine, no overdispersion)")
	warmup := flag.Duration("warmup", 0, "override the detector warm-up")
	dispPrior := flag.Float64("disp-prior", 0, "override the detector's dispersion prior c²")
	dispWeight := flag.Float64("disp-weight", 0, "override the weight (in windows) of the dispersion prior")
	halfLife := flag.Duration("half-life", 0, "override the detector's level half-life")
	dispFloor := flag.Float64("disp-floor", 0, "override the detector's c² floor (negative: none)")
	verbose := flag.Bool("v", false, "list every real-data firing with its reason")
	realOnly := flag.Bool("real-only", false, "only the real-data eval (needs -real)")
	rulesFile := flag.String("rules", "", "rules file for the real-data replay (default: the shipped default rules)")
	flag.Parse()
	det := alert.DetectorConfig{Warmup: *warmup, DispersionPrior: *dispPrior, DispersionWeight: *dispWeight, DispersionFloor: *dispFloor, HalfLife: *halfLife}
	opt := alerteval.Options{SkipGrid: !*grid}
	if *windows != "" {
		for _, w := range strings.Split(*windows, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil {
				fmt.Fprintln(os.Stderr, "eval-alerts: -windows:", err)
				os.Exit(2)
			}
			det.Windows = append(det.Windows, n)
		}
	}
	opt.Tune = func(r *alert.Rule) {
		if *minScore > 0 {
			r.MinScore = *minScore
		}
		if *minCount > 0 {
			r.MinCount = *minCount
		}
		if *minRatio > 0 {
			r.MinRatio = *minRatio
		}
		if *newTermMin > 0 {
			r.NewTermMinCount = *newTermMin
		}
		switch {
		case *changeScore > 0:
			r.ChangeScore = *changeScore
		case *changeScore < 0:
			r.ChangeScore = 0
		}
		switch {
		case *riseScore > 0:
			r.RiseScore = *riseScore
		case *riseScore < 0:
			r.RiseScore = 0
		}
		if *changeRatio > 0 {
			r.ChangeRatio = *changeRatio // else Rule.WithDefaults
		}
	}
	if *realDir != "" {
		rules := alert.DefaultRules()
		if *rulesFile != "" {
			var err error
			if rules, err = alert.LoadRules(*rulesFile); err != nil {
				fmt.Fprintln(os.Stderr, "eval-alerts:", err)
				os.Exit(2)
			}
		}
		for i := range rules {
			if rules[i].Type == alert.RuleSpike {
				opt.Tune(&rules[i])
			}
		}
		series, err := alerteval.LoadReal(*realDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "eval-alerts:", err)
			os.Exit(1)
		}
		rep, err := alerteval.EvaluateReal(series, alert.Config{Detector: det}, rules)
		if err != nil {
			fmt.Fprintln(os.Stderr, "eval-alerts:", err)
			os.Exit(1)
		}
		if *verbose {
			rep.PrintFirings(os.Stdout)
		}
		rep.Print(os.Stdout)
		if *realOnly {
			return
		}
		fmt.Println()
	}
	cfg := alert.Config{DisableTitleDedup: *noTitle, Detector: det}
	s := alerteval.Generate(alerteval.GenConfig{Terms: *terms, Hours: *hours, Seed: *seed, Bursts: *bursts, Floods: *floods, Poisson: *poisson})
	rep, err := alerteval.Evaluate(s, cfg, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval-alerts:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}
