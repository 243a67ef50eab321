package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Rule types.
const (
	RuleSpike   = "spike"    // newsflow's statistical spike detector (and new-term alerts)
	RuleESSpike = "es_spike" // ElastAlert2-compatible spike rule
	RuleWatch   = "watch"    // user watchlist entry, detected with the spike detector or a threshold
	// KindNewTerm is the RuleType of alerts for terms never seen before at volume.
	KindNewTerm = "new_term"
)

// Term kinds.
const (
	KindKeyword = "keyword"
	KindWatch   = "watch"
)

var allKinds = []string{"PER", "ORG", "LOC", "MISC", KindKeyword}

// Duration is a time.Duration read from YAML either as a Go duration string ("90s", "5m") or,
// like ElastAlert2's "time" options, as a map of units ({minutes: 5} / {hours: 1, minutes: 30};
// units weeks, days, hours, minutes, seconds).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			return fmt.Errorf("line %d: bad duration %q (want e.g. \"5m\" or {minutes: 5})", n.Line, n.Value)
		}
		*d = Duration(v)
		return nil
	case yaml.MappingNode:
		var m map[string]float64
		if err := n.Decode(&m); err != nil {
			return fmt.Errorf("line %d: bad duration map: %v", n.Line, err)
		}
		var total float64
		for k, v := range m {
			unit, ok := map[string]time.Duration{"weeks": 7 * 24 * time.Hour, "days": 24 * time.Hour,
				"hours": time.Hour, "minutes": time.Minute, "seconds": time.Second}[k]
			if !ok {
				return fmt.Errorf("line %d: unknown duration unit %q (weeks, days, hours, minutes, seconds)", n.Line, k)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e6 {
				return fmt.Errorf("line %d: duration %s: %v out of range", n.Line, k, v)
			}
			total += v * float64(unit)
		}
		*d = Duration(time.Duration(total))
		return nil
	}
	return fmt.Errorf("line %d: bad duration", n.Line)
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Rule is one alerting rule. Which fields apply depends on Type; Validate says what is wrong.
//
// spike (defaults in brackets): kinds [all], min_count [3], min_ratio [2.5], min_score [6.5]
// (−log10 of the tail probability under the term's own calibrated negative binomial model), cooldown [30m], still_every [15m], new_terms
// [true], new_term_min_count [5].
//
// es_spike (ElastAlert2 SpikeRule semantics, see esspike.go): timeframe (required),
// spike_height (required, > 1), spike_type up|down|both [up], threshold_cur [0],
// threshold_ref [0], alert_on_new_data [false], kinds [all].
//
// watch: at least one of terms, phrases, entities; optional sources, languages, tags filters;
// detected like spike (min_count, min_ratio, min_score, cooldown, still_every), or, with
// threshold > 0, whenever the count in window [15m] reaches threshold.
type Rule struct {
	ID       string   `yaml:"id"`
	Type     string   `yaml:"type"`
	Disabled bool     `yaml:"disabled,omitempty"`
	Kinds    []string `yaml:"kinds,omitempty"`

	MinCount int     `yaml:"min_count,omitempty"`
	MinRatio float64 `yaml:"min_ratio,omitempty"`
	MinScore float64 `yaml:"min_score,omitempty"`
	// ChangeScore enables the change test of a spike rule (0: off): a window also fires when
	// its count is this improbable (−log10 tail probability) given the term's own rate over the
	// rest of the last hour, seasonally adjusted, and at least ChangeRatio times that rate.
	ChangeScore float64 `yaml:"change_score,omitempty"`
	// RiseScore enables the rise test (0: off): a term fires when the evidence for a sustained
	// rise to RiseRatio × its usual rate, accumulated over 15-minute blocks (CUSUM, log10
	// likelihood ratio), reaches this.
	RiseScore float64 `yaml:"rise_score,omitempty"`
	// ChangeRatio is the change test's floor on count / recent-rate expectation [3].
	ChangeRatio     float64  `yaml:"change_ratio,omitempty"`
	Cooldown        Duration `yaml:"cooldown,omitempty"`
	StillEvery      Duration `yaml:"still_every,omitempty"`
	NewTerms        *bool    `yaml:"new_terms,omitempty"`
	NewTermMinCount int      `yaml:"new_term_min_count,omitempty"`

	Timeframe      Duration `yaml:"timeframe,omitempty"`
	SpikeHeight    float64  `yaml:"spike_height,omitempty"`
	SpikeType      string   `yaml:"spike_type,omitempty"`
	ThresholdCur   int      `yaml:"threshold_cur,omitempty"`
	ThresholdRef   int      `yaml:"threshold_ref,omitempty"`
	AlertOnNewData bool     `yaml:"alert_on_new_data,omitempty"`

	Terms     []string `yaml:"terms,omitempty"`
	Phrases   []string `yaml:"phrases,omitempty"`
	Entities  []string `yaml:"entities,omitempty"`
	Sources   []string `yaml:"sources,omitempty"`
	Languages []string `yaml:"languages,omitempty"`
	Tags      []string `yaml:"tags,omitempty"`
	Threshold int      `yaml:"threshold,omitempty"`
	Window    Duration `yaml:"window,omitempty"`
}

// RulesFile is the YAML document: `rules: [...]`.
type RulesFile struct {
	Rules []Rule `yaml:"rules"`
}

// WithDefaults returns r with zero fields filled.
func (r Rule) WithDefaults() Rule {
	switch r.Type {
	case RuleSpike, RuleWatch:
		if r.MinCount == 0 {
			r.MinCount = 3
		}
		if r.MinRatio == 0 {
			r.MinRatio = 2.5
		}
		if r.MinScore == 0 {
			r.MinScore = 6.5
		}
		if r.ChangeScore > 0 && r.ChangeRatio == 0 {
			r.ChangeRatio = 3
		}
		if r.Cooldown == 0 {
			r.Cooldown = Duration(30 * time.Minute)
		}
		if r.StillEvery == 0 {
			r.StillEvery = Duration(15 * time.Minute)
		}
		if r.Type == RuleSpike {
			if r.NewTerms == nil {
				t := true
				r.NewTerms = &t
			}
			if r.NewTermMinCount == 0 {
				r.NewTermMinCount = 5
			}
		}
		if r.Type == RuleWatch && r.Window == 0 {
			r.Window = Duration(15 * time.Minute)
		}
	case RuleESSpike:
		if r.SpikeType == "" {
			r.SpikeType = "up"
		}
		if r.Cooldown == 0 {
			r.Cooldown = Duration(0)
		}
	}
	if len(r.Kinds) == 0 && r.Type != RuleWatch {
		r.Kinds = append([]string(nil), allKinds...)
	}
	return r
}

// maxTimeframe bounds es_spike timeframe and watch windows: the detector keeps ringBuckets
// buckets per term and es_spike needs two timeframes.
func maxTimeframe(bucket time.Duration) time.Duration { return bucket * ringBuckets / 2 }

// Validate checks a rule (after WithDefaults) and returns a message naming the field.
func (r Rule) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("rule %q: %s", r.ID, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(r.ID) == "" {
		return errors.New("rule without id: every rule needs a unique id")
	}
	for _, k := range r.Kinds {
		ok := false
		for _, a := range allKinds {
			ok = ok || a == k
		}
		if !ok {
			return bad("kinds: unknown kind %q (want PER, ORG, LOC, MISC, keyword)", k)
		}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch r.Type {
	case RuleSpike, RuleWatch:
		if r.MinCount < 2 {
			return bad("min_count must be >= 2 so that 1-vs-0 never fires (got %d)", r.MinCount)
		}
		if !finite(r.MinRatio) || r.MinRatio < 1 {
			return bad("min_ratio must be >= 1 (got %v)", r.MinRatio)
		}
		if !finite(r.MinScore) || r.MinScore <= 0 || r.MinScore > 300 {
			return bad("min_score must be in (0, 300] (got %v)", r.MinScore)
		}
		if !finite(r.ChangeScore) || r.ChangeScore < 0 || r.ChangeScore > 300 {
			return bad("change_score must be in [0, 300] (0: no change test; got %v)", r.ChangeScore)
		}
		if !finite(r.RiseScore) || r.RiseScore < 0 || r.RiseScore > 300 {
			return bad("rise_score must be in [0, 300] (0: no rise test; got %v)", r.RiseScore)
		}
		if r.ChangeScore > 0 && (!finite(r.ChangeRatio) || r.ChangeRatio < 1) {
			return bad("change_ratio must be >= 1 (got %v)", r.ChangeRatio)
		}
		if r.Cooldown < 0 || r.StillEvery < 0 {
			return bad("cooldown and still_every must not be negative")
		}
		if r.Type == RuleSpike && r.NewTermMinCount < r.MinCount {
			return bad("new_term_min_count (%d) must be >= min_count (%d)", r.NewTermMinCount, r.MinCount)
		}
		if r.Type == RuleWatch {
			if len(r.Terms)+len(r.Phrases)+len(r.Entities) == 0 {
				return bad("watch rule needs at least one of terms, phrases, entities")
			}
			for _, s := range append(append(append([]string{}, r.Terms...), r.Phrases...), r.Entities...) {
				if strings.TrimSpace(s) == "" {
					return bad("empty watch term")
				}
			}
			if r.Threshold < 0 {
				return bad("threshold must not be negative (got %d)", r.Threshold)
			}
			if r.Window < Duration(time.Minute) || r.Window.D() > 2*maxTimeframe(time.Minute) {
				return bad("window must be between 1m and %s (got %s)", 2*maxTimeframe(time.Minute), r.Window.D())
			}
		}
	case RuleESSpike:
		if r.Timeframe <= 0 {
			return bad("es_spike needs timeframe (e.g. timeframe: {minutes: 10})")
		}
		if r.Timeframe.D() > maxTimeframe(time.Minute) {
			return bad("timeframe %s too long: at most %s with 1m buckets", r.Timeframe.D(), maxTimeframe(time.Minute))
		}
		if !finite(r.SpikeHeight) || r.SpikeHeight <= 1 {
			return bad("spike_height must be > 1 (got %v)", r.SpikeHeight)
		}
		switch r.SpikeType {
		case "up", "down", "both":
		default:
			return bad("spike_type must be up, down or both (got %q)", r.SpikeType)
		}
		if r.ThresholdCur < 0 || r.ThresholdRef < 0 {
			return bad("threshold_cur and threshold_ref must not be negative")
		}
	case "":
		return bad("missing type (spike, es_spike, watch)")
	default:
		return bad("unknown type %q (spike, es_spike, watch)", r.Type)
	}
	return nil
}

// ValidateRules applies defaults to every rule and validates them, including unique IDs.
func ValidateRules(rules []Rule) ([]Rule, error) {
	out := make([]Rule, 0, len(rules))
	seen := map[string]bool{}
	for i, r := range rules {
		r = r.WithDefaults()
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("rules[%d]: duplicate id %q", i, r.ID)
		}
		seen[r.ID] = true
		out = append(out, r)
	}
	return out, nil
}

// ParseRules parses and validates a rules YAML document. Unknown fields are errors (typos in
// rule files should not silently disable a threshold).
func ParseRules(b []byte) ([]Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f RulesFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty rules document (want `rules: [...]`)")
		}
		return nil, fmt.Errorf("parse: %w", err)
	}
	return ValidateRules(f.Rules)
}

// LoadRules reads, parses and validates the rules file at path.
func LoadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alert: load rules: %w", err)
	}
	rules, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("alert: rules %s: %w", path, err)
	}
	return rules, nil
}
