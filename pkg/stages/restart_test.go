package stages_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// reprint renders the wire story of testdata/wire-story.txt as one site would publish it:
// the site's own chrome, headline and a light edit of the body (edit replaces old with new
// in the text). canonical is the page's rel=canonical ("" for none).
func reprint(t testing.TB, site, headline, canonical string, edits ...string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readTestdata(t, "wire-story.txt")), "\n")
	body := strings.Join(lines[1:], "\n")
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(body, edits[i]) {
			t.Fatalf("reprint edit %q not in the wire story", edits[i])
		}
		body = strings.Replace(body, edits[i], edits[i+1], 1)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s | %s</title>", html.EscapeString(headline), site)
	if canonical != "" {
		fmt.Fprintf(&sb, "<link rel=\"canonical\" href=\"%s\">", canonical)
	}
	fmt.Fprintf(&sb, "<meta property=\"og:site_name\" content=\"%s\"></head><body>", site)
	fmt.Fprintf(&sb, "<nav><a href=\"/\">%s home</a> <a href=\"/world\">World</a> <a href=\"/sport\">Sport</a> <a href=\"/weather\">Weather</a></nav>", site)
	fmt.Fprintf(&sb, "<article><h1>%s</h1>", html.EscapeString(headline))
	for _, p := range strings.Split(body, "\n") {
		fmt.Fprintf(&sb, "<p>%s</p>", html.EscapeString(p))
	}
	fmt.Fprintf(&sb, "</article><aside><h3>Trending on %s</h3><ul><li><a href=\"/a\">Ten things to do this weekend</a></li></ul></aside>", site)
	fmt.Fprintf(&sb, "<footer>Copyright %s. All rights reserved. <a href=\"/privacy\">Privacy</a></footer></body></html>", site)
	return sb.String()
}

// cleanedByURL indexes the news.clean envelopes of a sink by the URL they were fetched from.
func cleanedByURL(s *sink) map[string]*article.Envelope {
	m := map[string]*article.Envelope{}
	for _, e := range s.snapshot() {
		if e.Clean != nil {
			m[e.Clean.URL] = e
		}
	}
	return m
}

// TestCleanerDedupSurvivesRestart: a wire story reprinted by two sites is found to be a near
// duplicate; after the cleaner restarts on the same state directory a third reprint is still
// recognised as a duplicate of the first copy (the near-duplicate index was snapshotted on
// stop and restored on start).
func TestCleanerDedupSurvivesRestart(t *testing.T) {
	be := embeddedNATS(t)
	client := testClient(t, be)
	cleaned := startSink(t, client, article.SubjectClean)
	state := service.StateDir(t.TempDir())
	noEnv := &service.Env{Get: func(string) string { return "" }}
	addCleaner := func(c stages.Common) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv))
		return err
	}
	day := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	copies := []struct {
		url, page string
		at        time.Time
	}{
		{"https://www.southernherald.example.com/world/adana-quake-rescue",
			reprint(t, "Southern Herald", "Rescuers pull survivors from collapsed apartment block after Adana earthquake", "https://www.southernherald.example.com/world/adana-quake-rescue"),
			day},
		{"https://news.valleytimes.example.net/2026/11/23/turkey-earthquake",
			reprint(t, "Valley Times", "Turkey quake: 14 rescued, six dead in Adana building collapse", "",
				"at least six had died", "at least six people had died"),
			day.Add(40 * time.Minute)},
		{"https://coastpost.example.org/international/adana-earthquake-survivors",
			reprint(t, "Coast Post", "Adana earthquake: survivors pulled from rubble overnight", "https://coastpost.example.org/international/adana-earthquake-survivors",
				"worked through the night on Sunday", "worked through the night"),
			day.Add(3 * time.Hour)},
	}
	ids := make([]string, len(copies))
	feed := func(i int) *article.Envelope {
		t.Helper()
		c := copies[i]
		id, b := rawEnvelope(t, c.url, "text/html", c.page, c.at)
		ids[i] = id
		publish(t, client, article.SubjectRaw, id, b)
		waitFor(t, "cleaned copy "+c.url, func() bool { return cleanedByURL(cleaned)[c.url] != nil })
		return cleanedByURL(cleaned)[c.url]
	}

	first := startPipeline(t, be, "stagetest-cleaner", state, addCleaner)
	a := feed(0) // one at a time: "first" must be unambiguous
	b := feed(1)
	if a.Clean.DuplicateOf != "" {
		t.Fatalf("first copy marked duplicate of %s", a.Clean.DuplicateOf)
	}
	if a.ID != ids[0] {
		t.Fatalf("first copy re-keyed to %s (want %s): the test needs a page whose canonical is its URL", a.ID, ids[0])
	}
	if b.Clean.DuplicateOf != ids[0] || b.Clean.ClusterID != ids[0] {
		t.Fatalf("second copy: duplicate_of %q cluster %q, want %s (simhashes %s vs %s)", b.Clean.DuplicateOf, b.Clean.ClusterID, ids[0], a.Clean.SimHash, b.Clean.SimHash)
	}
	if err := first.stop(t); err != nil {
		t.Fatalf("first run stop: %v", err)
	}
	if err := cleanerStateSaved(state.Load); err != nil {
		t.Fatalf("after stop: %v", err)
	}

	startPipeline(t, be, "stagetest-cleaner", state, addCleaner)
	c := feed(2)
	if c.Clean.DuplicateOf != ids[0] || c.Clean.ClusterID != ids[0] {
		t.Fatalf("third copy after restart: duplicate_of %q cluster %q, want the first copy %s (simhashes %s vs %s)",
			c.Clean.DuplicateOf, c.Clean.ClusterID, ids[0], a.Clean.SimHash, c.Clean.SimHash)
	}
	// The second run did not clean the first run's messages again (durable group resumed).
	if n := len(cleaned.snapshot()); n != len(copies) {
		t.Errorf("%d messages on news.clean, want %d (one per copy)", n, len(copies))
	}
}

// TestDuplicateOfIsPublishedID: when the first copy's page declares a canonical URL other
// than the one it was fetched from, the cleaner publishes it under the canonical's ID, so a
// later copy's duplicate_of must name that ID (the one the indexer stores), not the
// fetcher's.
func TestDuplicateOfIsPublishedID(t *testing.T) {

	be := embeddedNATS(t)
	client := testClient(t, be)
	cleaned := startSink(t, client, article.SubjectClean)
	noEnv := &service.Env{Get: func(string) string { return "" }}
	startPipeline(t, be, "stagetest-cleaner", "", func(c stages.Common) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv))
		return err
	})
	at := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	urlA := "https://www.southernherald.example.com/s/44012?utm_source=rss"
	pageA := reprint(t, "Southern Herald", "Rescuers pull survivors after Adana earthquake", "https://www.southernherald.example.com/world/adana-quake-rescue")
	idA, b := rawEnvelope(t, urlA, "text/html", pageA, at)
	publish(t, client, article.SubjectRaw, idA, b)
	waitFor(t, "first copy", func() bool { return cleanedByURL(cleaned)[urlA] != nil })
	a := cleanedByURL(cleaned)[urlA]
	if a.ID == idA {
		t.Fatalf("first copy not re-keyed by its canonical URL")
	}
	urlB := "https://news.valleytimes.example.net/2026/11/23/turkey-earthquake"
	idB, b := rawEnvelope(t, urlB, "text/html", reprint(t, "Valley Times", "Turkey quake", ""), at.Add(time.Hour))
	publish(t, client, article.SubjectRaw, idB, b)
	waitFor(t, "second copy", func() bool { return cleanedByURL(cleaned)[urlB] != nil })
	if got := cleanedByURL(cleaned)[urlB].Clean.DuplicateOf; got != a.ID {
		t.Fatalf("duplicate_of = %q, want the first copy's published ID %s (fetcher's ID was %s)", got, a.ID, idA)
	}
}
