package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/newsfarm"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	for _, tt := range []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Second}, {95, 95 * time.Second}, {99, 99 * time.Second}, {100, 100 * time.Second}} {
		if got := pct(ds, tt.p); got != tt.want {
			t.Errorf("p%d = %s, want %s", tt.p, got, tt.want)
		}
	}
	if pct(nil, 50) != 0 {
		t.Error("p50 of nothing")
	}
}

func TestExpectedIDsAndTable(t *testing.T) {
	m := []newsfarm.Entry{{ID: "a", Kind: newsfarm.KindArticle}, {ID: "a", Kind: newsfarm.KindTracking}, {ID: "b", Kind: newsfarm.KindPoison}, {ID: "c", Kind: newsfarm.KindReprint}}
	if got := expectedIDs(m); len(got) != 2 {
		t.Errorf("expected ids %v, want a and c", got)
	}
	var b bytes.Buffer
	printTable(&b, []row{
		{run: "backlog, all-in-one", articles: 100, wall: 10 * time.Second, cpu: 2 * time.Second, articlesPerCPUSecond: 50},
		{run: "backlog, news-please", articles: 100, wall: 20 * time.Second, cpu: 4 * time.Second, articlesPerCPUSecond: 25},
		{run: "live 20/s, all-in-one", articles: 100, wall: 20 * time.Second, p50: time.Second, p95: 6 * time.Second, f95: 3 * time.Second},
	}, 5*time.Second)
	for _, want := range []string{
		"2.0× articles per CPU-second, 0.50× wall time",
		"≥ 5× news-please's articles per CPU-second: 2.0× — NOT met",
		"backlog searchable sooner than news-please gets it there: 10.0 s vs 20.0 s — met",
		"p95 searchable−fetched 3.0 s ≤ 2 s — NOT met; p95 searchable−appeared 6.0 s ≤ poll interval + 2 s = 7.0 s — met",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRunIndex: the indices dropped at the end are the run's own, not those of a run whose
// prefix merely starts with this run's digits.
func TestRunIndex(t *testing.T) {
	for _, c := range []struct {
		index, prefix string
		want          bool
	}{
		{"nfbench12345a-articles", "nfbench12345", true},
		{"nfbench12345s-alerts", "nfbench12345", true},
		{"nfbench123456a-articles", "nfbench12345", false},
		{"nfbench12345", "nfbench12345", false},
		{"news-articles", "nfbench12345", false},
	} {
		if got := runIndex(c.index, c.prefix); got != c.want {
			t.Errorf("runIndex(%q, %q) = %v, want %v", c.index, c.prefix, got, c.want)
		}
	}
}
