package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	ok := options{Backends: []string{"nats", "kafka"}, Articles: 100, Duration: time.Minute, Replicas: 2, FaultEvery: time.Second, Sites: 4, FeedItems: 100}
	tests := []struct {
		name    string
		mod     func(o *options)
		wantErr string
	}{
		{"defaults", func(*options) {}, ""},
		{"unknown backend", func(o *options) { o.Backends = []string{"redis"} }, "redis"},
		{"too few articles", func(o *options) { o.Articles = 1 }, "--articles"},
		{"no replicas", func(o *options) { o.Replicas = 0 }, "--replicas"},
		{"known faults", func(o *options) { o.Faults = []string{faultKillStage, faultHangNATS} }, ""},
		{"unknown fault", func(o *options) { o.Faults = []string{"kill-everything"} }, "kill-everything"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.mod(&o)
			err := o.validate()
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestVerdictAndTable(t *testing.T) {
	pass := &result{Backend: "nats", Drained: true, Expected: 10, Indexed: 10, Poison: 2, PoisonInDLQ: 2,
		Faults: map[string]int{"kill-stage": 3}, Drain: 12 * time.Second,
		FaultLog: []faultRecord{{At: 15 * time.Second, Kind: faultKillStage, Target: "cleaner-1", How: "kill -9", Recovered: 3 * time.Second}}}
	tests := []struct {
		name string
		r    *result
		want string
	}{
		{"clean run passes", pass, "PASS"},
		{"a missing article fails", func() *result { r := *pass; r.Missing = 1; return &r }(), "FAIL"},
		{"a poison page not dead-lettered fails", func() *result { r := *pass; r.PoisonInDLQ = 1; return &r }(), "FAIL"},
		{"another dead letter fails", func() *result { r := *pass; r.OtherDLQ = 1; return &r }(), "FAIL"},
		{"a duplicated episode fails", func() *result { r := *pass; r.DupEpisodes = 1; return &r }(), "FAIL"},
		{"not drained fails", func() *result { r := *pass; r.Drained = false; return &r }(), "FAIL"},
		{"one burst episode passes", func() *result { r := *pass; r.BurstPlanted, r.BurstEpisodes = 40, 1; return &r }(), "PASS"},
		{"no burst episode fails", func() *result { r := *pass; r.BurstPlanted = 40; return &r }(), "FAIL"},
		{"two burst episodes fail", func() *result { r := *pass; r.BurstPlanted, r.BurstEpisodes = 40, 2; return &r }(), "FAIL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.verdict(); got != tc.want {
				t.Fatalf("verdict = %s, want %s", got, tc.want)
			}
			var sb strings.Builder
			writeTable(&sb, []*result{tc.r})
			for _, s := range []string{"verdict", tc.want, "fault kill-stage", "drain time after that", "+0:15", "cleaner-1"} {
				if !strings.Contains(sb.String(), s) {
					t.Errorf("table lacks %q:\n%s", s, sb.String())
				}
			}
		})
	}
}

func TestCheckEpisodes(t *testing.T) {
	doc := func(id, rule, term string, start time.Time) map[string]any {
		kind, name, _ := strings.Cut(term, ":")
		return map[string]any{"_id": id, "episode_id": id, "rule_id": rule, "term_kind": kind, "term": name, "episode_start": start.Format(time.RFC3339)}
	}
	t0 := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		alerts                 []map[string]any
		episodes, dups, bursts int
	}{
		{"none", nil, 0, 0, 0},
		{"one burst episode and spikes", []map[string]any{
			doc("a", burstRuleID, "watch:chaos-burst", t0), doc("b", "entity-spikes", "LOC:vostok bay", t0),
			doc("c", "entity-spikes", "ORG:acme", t0.Add(time.Minute))}, 3, 0, 1},
		{"the burst opened twice", []map[string]any{
			doc("a", burstRuleID, "watch:chaos-burst", t0), doc("b", burstRuleID, "watch:chaos-burst", t0.Add(3*time.Minute))}, 2, 1, 2},
		{"a term re-fired within the cooldown", []map[string]any{
			doc("a", "entity-spikes", "ORG:acme", t0), doc("b", "entity-spikes", "ORG:acme", t0.Add(20*time.Minute))}, 2, 1, 0},
		{"a term re-fired after resolution and cooldown", []map[string]any{
			doc("a", "entity-spikes", "ORG:acme", t0), doc("b", "entity-spikes", "ORG:acme", t0.Add(45*time.Minute))}, 2, 0, 0},
		{"same name, other kind", []map[string]any{
			doc("a", "entity-spikes", "PER:Lars Nielsen", t0), func() map[string]any {
				d := doc("b", "entity-spikes", "PER:Lars Nielsen", t0)
				d["term_kind"] = "keyword"
				return d
			}()}, 2, 0, 0},
		{"same term, other rule", []map[string]any{
			doc("a", "entity-spikes", "ORG:acme", t0), doc("b", "other", "ORG:acme", t0)}, 2, 0, 0},
		{"two documents of one episode", []map[string]any{
			doc("a", "entity-spikes", "ORG:acme", t0), doc("a", "entity-spikes", "ORG:acme", t0)}, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var samples []string
			e, d, b := checkEpisodes(tc.alerts, func(_, s string) { samples = append(samples, s) })
			if e != tc.episodes || d != tc.dups || b != tc.bursts {
				t.Fatalf("checkEpisodes = %d episodes, %d duplicated, %d burst; want %d, %d, %d (%v)", e, d, b, tc.episodes, tc.dups, tc.bursts, samples)
			}
			if (d > 0) != (len(samples) > 0) {
				t.Errorf("samples %v for %d duplicates", samples, d)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name    string
		backend string
		faults  []string
		es      bool
		want    map[string][]string // lane → kinds (any order)
	}{
		{"nats, everything", "nats", nil, true, map[string][]string{
			"nats": {faultNATSMeta, faultNATSStream, faultHangNATS, faultRestartNATS}, "es": {faultESDataNode, faultRestartES}}},
		{"kafka, everything", "kafka", nil, true, map[string][]string{
			"kafka": {faultKafkaPartition, faultKafkaController, faultHangKafka, faultRestartKafka},
			"es":    {faultESDataNode, faultRestartES}}},
		{"an ES not ours is not attacked", "nats", nil, false, map[string][]string{
			"nats": {faultNATSMeta, faultNATSStream, faultHangNATS, faultRestartNATS}}},
		{"selected kinds only", "nats", []string{faultKillStage, faultHangNATS, faultESDataNode}, true, map[string][]string{
			"nats": {faultHangNATS}, "es": {faultESDataNode}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lanes := plan(tc.backend, 1, tc.faults, tc.es)
			got := map[string][]string{}
			for _, l := range lanes {
				got[l.name] = l.kinds
			}
			if len(got) != len(tc.want) {
				t.Fatalf("lanes %v, want %v", got, tc.want)
			}
			for name, kinds := range tc.want {
				if len(got[name]) != len(kinds) {
					t.Fatalf("lane %s = %v, want %v", name, got[name], kinds)
				}
				for _, k := range kinds {
					if !slices.Contains(got[name], k) {
						t.Errorf("lane %s = %v lacks %s", name, got[name], k)
					}
				}
			}
			again := plan(tc.backend, 1, tc.faults, tc.es)
			for i := range lanes {
				if !slices.Equal(lanes[i].kinds, again[i].kinds) {
					t.Errorf("seed 1 gave %v then %v", lanes[i].kinds, again[i].kinds)
				}
			}
		})
	}
}
