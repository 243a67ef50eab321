// Command eval-alerts generates a labelled synthetic news stream and prints precision, recall
// and detection delay of newsflow's spike detector and of the ElastAlert2-style spike rule.
//
//	go run ./cmd/eval-alerts [-terms 3000 -hours 72 -seed 1]
package main

import (
	"flag"
	"fmt"
	"os"

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
	flag.Parse()
	alerteval.Tune = func(r *alert.Rule) {
		if *minScore > 0 {
			r.MinScore = *minScore
		}
		if *minCount > 0 {
			r.MinCount = *minCount
		}
		if *minRatio > 0 {
			r.MinRatio = *minRatio
		}
	}
	s := alerteval.Generate(alerteval.GenConfig{Terms: *terms, Hours: *hours, Seed: *seed, Bursts: *bursts, Floods: *floods})
	rep, err := alerteval.Evaluate(s, alert.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval-alerts:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}
