package main

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	ok := options{Backends: []string{"nats", "kafka"}, Articles: 100, Duration: time.Minute, Replicas: 2, FaultEvery: time.Second, Sites: 4}
	tests := []struct {
		name    string
		mod     func(o *options)
		wantErr string
	}{
		{"defaults", func(*options) {}, ""},
		{"unknown backend", func(o *options) { o.Backends = []string{"redis"} }, "redis"},
		{"too few articles", func(o *options) { o.Articles = 1 }, "--articles"},
		{"no replicas", func(o *options) { o.Replicas = 0 }, "--replicas"},
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
		Faults: map[string]int{"kill-stage": 3}, Drain: 12 * time.Second}
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.verdict(); got != tc.want {
				t.Fatalf("verdict = %s, want %s", got, tc.want)
			}
			var sb strings.Builder
			writeTable(&sb, []*result{tc.r})
			for _, s := range []string{"verdict", tc.want, "fault kill-stage", "drain time after load"} {
				if !strings.Contains(sb.String(), s) {
					t.Errorf("table lacks %q:\n%s", s, sb.String())
				}
			}
		})
	}
}
