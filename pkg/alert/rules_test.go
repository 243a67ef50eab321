package alert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadRulesExample(t *testing.T) {
	rules, err := LoadRules("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("got %d rules", len(rules))
	}
	es := rules[1]
	if es.Timeframe.D() != 10*time.Minute || es.SpikeHeight != 3 || !es.AlertOnNewData || es.ThresholdCur != 10 {
		t.Fatalf("es rule: %+v", es)
	}
	if rules[0].Cooldown.D() != 30*time.Minute || *rules[0].NewTerms != true {
		t.Fatalf("spike rule: %+v", rules[0])
	}
	if rules[2].Window.D() != 15*time.Minute || rules[2].Threshold != 5 {
		t.Fatalf("watch rule: %+v", rules[2])
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "empty rules document"},
		{"no id", "rules: [{type: spike}]", "without id"},
		{"unknown type", "rules: [{id: a, type: frequency}]", `unknown type "frequency"`},
		{"missing type", "rules: [{id: a}]", "missing type"},
		{"duplicate id", "rules: [{id: a, type: spike}, {id: a, type: spike}]", `duplicate id "a"`},
		{"unknown field", "rules: [{id: a, type: spike, spike_hieght: 3}]", "spike_hieght"},
		{"es without timeframe", "rules: [{id: a, type: es_spike, spike_height: 3}]", "needs timeframe"},
		{"es height <= 1", "rules: [{id: a, type: es_spike, timeframe: 5m, spike_height: 1}]", "spike_height must be > 1"},
		{"es bad spike_type", "rules: [{id: a, type: es_spike, timeframe: 5m, spike_height: 2, spike_type: sideways}]", "spike_type must be up, down or both"},
		{"es timeframe too long", "rules: [{id: a, type: es_spike, timeframe: {hours: 2}, spike_height: 2}]", "too long"},
		{"bad duration", "rules: [{id: a, type: es_spike, timeframe: soon, spike_height: 2}]", "bad duration"},
		{"bad duration unit", "rules: [{id: a, type: es_spike, timeframe: {fortnights: 1}, spike_height: 2}]", "unknown duration unit"},
		{"min_count 1", "rules: [{id: a, type: spike, min_count: 1}]", "1-vs-0"},
		{"bad kind", "rules: [{id: a, type: spike, kinds: [PERSON]}]", `unknown kind "PERSON"`},
		{"empty watch", "rules: [{id: w, type: watch}]", "at least one of terms"},
		{"not yaml", "rules: [", "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseRules(%q) error = %v, want it to mention %q", tc.doc, err, tc.want)
			}
		})
	}
}

func TestDurationForms(t *testing.T) {
	rules, err := ParseRules([]byte(`rules:
  - {id: a, type: es_spike, spike_height: 2, timeframe: {minutes: 1, seconds: 30}}
  - {id: b, type: es_spike, spike_height: 2, timeframe: 90s}`))
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].Timeframe != rules[1].Timeframe || rules[0].Timeframe.D() != 90*time.Second {
		t.Fatalf("%v %v", rules[0].Timeframe.D(), rules[1].Timeframe.D())
	}
}

func FuzzParseRules(f *testing.F) {
	if b, err := os.ReadFile("testdata/rules.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("rules: [{id: a, type: spike}]"))
	f.Add([]byte("rules: [{id: a, type: es_spike, timeframe: {minutes: 1e308}, spike_height: .nan}]"))
	f.Add([]byte("rules:\n  - id: w\n    type: watch\n    terms: ['']\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, err := ParseRules(b)
		if err != nil {
			return
		}
		// Whatever parses must be usable.
		if _, err := NewSpikeDetector(DetectorConfig{}, rules); err != nil {
			t.Fatalf("valid rules rejected by the detector: %v", err)
		}
	})
}

func TestRuleWatcherKeepsOldRulesOnInvalidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	write := func(s string, mt time.Time) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	write("rules: [{id: one, type: spike}]", t0)
	rules, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{}, rules, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := NewRuleWatcher(path, time.Second, a, nil)

	if changed, err := w.Check(); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	write("rules: [{id: one, type: spike}, {id: two, type: es_spike}]", t0.Add(time.Second))
	changed, err := w.Check()
	if !changed || err == nil || !strings.Contains(err.Error(), "needs timeframe") {
		t.Fatalf("invalid file: changed=%v err=%v", changed, err)
	}
	if got := a.Rules(); len(got) != 1 || got[0].ID != "one" {
		t.Fatalf("old rules not kept: %+v", got)
	}
	write("rules: [{id: one, type: spike}, {id: two, type: es_spike, timeframe: 5m, spike_height: 3}]", t0.Add(2*time.Second))
	if changed, err := w.Check(); !changed || err != nil {
		t.Fatalf("valid file: changed=%v err=%v", changed, err)
	}
	if got := a.Rules(); len(got) != 2 || got[1].ID != "two" {
		t.Fatalf("new rules not applied: %+v", got)
	}
}
