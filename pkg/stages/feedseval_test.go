package stages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/nxdns"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// sharedFeeds is ../shared/eval/feeds (read-only): feedparser's real-world, encoding and
// ill-formed feeds.
const sharedFeeds = "../../../shared/eval/feeds"

// Thresholds of TestSharedFeedsEndToEnd, set from the measured figures (README, issue 17):
// markup and mojibake must be absent; language and date accuracy over the labelled documents
// of all sets together must not fall below these.
const (
	feedsMinLanguageAccuracy = 0.97
	feedsMinDateAccuracy     = 0.98
)

// feedLabel is one item of testdata/feedseval/labels.json (made by mklabels.py from the feeds
// with Python's feedparser and dateutil, languages by reading; see its docstring).
type feedLabel struct {
	Set      string `json:"set"`
	File     string `json:"file"`
	Link     string `json:"link"`
	Title    string `json:"title"`
	Lang     string `json:"lang"` // "und": not scored
	Date     string `json:"date"` // RFC 3339 UTC; "": the feed states no date
	DateText string `json:"date_text"`
	Text     string `json:"text"` // the start of the item's description or content, as in the feed
}

// TestSharedFeedsEndToEnd (issue 17, "Done when"): every file of ../shared/eval/feeds is
// served by a local HTTP server with a realistic Content-Type and polled by the real fetcher;
// the real cleaner, enricher and indexer (the all-in-one wiring, on the NATS of
// NEWSFLOW_NATS_URL with a unique subject prefix, into the Elasticsearch of NEWSFLOW_ES_URL
// under a unique index prefix) take the items to Elasticsearch, and the documents read back
// are checked against hand-made labels: no markup, no mojibake, language and date.
//
// The items link to internet hosts. The fetcher resolves through a loopback DNS server that
// answers NXDOMAIN for every name (fetch.Config.Resolver), as this machine's resolver does
// and as a CI runner with internet access would not: NXDOMAIN confirmed by a second lookup
// (NXDomainRecheck, shortened to 20ms) is a permanent failure, so each item is published at
// once with the feed's own text (Raw.Extra body_source=feed_fallback, fetch_error says why)
// instead of after ItemAttempts polls. Relative links resolve to the local server, which
// answers 404, also permanent.
func TestSharedFeedsEndToEnd(t *testing.T) {
	if _, err := os.Stat(sharedFeeds); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared feeds missing in CI: %v", err)
		}
		t.Skipf("shared feeds not present: %v", err)
	}
	be := externalNATS(t)
	esURL := requireServer(t, "NEWSFLOW_ES_URL")
	labels := readFeedLabels(t)

	files := sharedFeedFiles(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, "/")
		b, ok := files[rel]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if ct := feedContentType(rel, b); ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // no header at all (net/http would sniff one)
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(site.Close)
	dns := nxdns.Start(t)

	names := make([]string, 0, len(files))
	for rel := range files {
		names = append(names, rel)
	}
	sort.Strings(names)
	sources := make([]fetch.Source, 0, len(names))
	for _, rel := range names {
		sources = append(sources, fetch.Source{Name: rel, URL: site.URL + "/" + rel, Kind: "feed"})
	}

	noEnv := &service.Env{Get: func(string) string { return "" }}
	icfg := stages.IndexerConfigFromEnv(noEnv, esURL)
	icfg.Index.Setup.Names.Prefix = "feedseval" + strings.ToLower(strings.TrimSuffix(be.prefix, "."))
	es, err := stages.NewESClient(esURL, service.ESSecurity{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteSecured(t, es, icfg.Index.Setup) })

	client := testClient(t, be)
	raws := startSink(t, client, article.SubjectRaw)
	dlq := startSink(t, client, article.SubjectDLQ)
	var fetcher *fetch.Fetcher
	start := time.Now()
	startPipeline(t, be, "feedseval", service.StateDir(t.TempDir()), func(c stages.Common) error {
		fcfg := stages.FetcherConfigFromEnv(noEnv, "memory")
		fcfg.Sources = sources
		fcfg.Fetch.AllowAddresses, fcfg.Fetch.IgnoreRobots = []string{"127.0.0.1"}, true
		fcfg.Fetch.HostInterval, fcfg.Fetch.StartSpread = time.Millisecond, 10*time.Millisecond
		fcfg.Fetch.NXDomainRecheck, fcfg.Fetch.Resolver = 20*time.Millisecond, dns.Resolver()
		var err error
		if fetcher, err = stages.AddFetcher(context.Background(), c, fcfg, nil); err != nil {
			return err
		}
		if _, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv)); err != nil {
			return err
		}
		if _, err := stages.AddEnricher(c, stages.EnricherConfigFromEnv(noEnv)); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_, err = stages.AddIndexer(ctx, c, icfg)
		return err
	})

	published := int64(0)
	waitFor(t, "every feed polled once", func() bool {
		st, err := fetcher.Status(context.Background())
		if err != nil {
			return false
		}
		published = 0
		for _, s := range st {
			if s.Polls < 1 {
				return false
			}
			published += s.ItemsNew
		}
		return true
	})
	// Every item the fetcher counted as published reaches news.raw; under load a publish whose
	// ack was lost is retried and counted again while JetStream drops the duplicate, so a count
	// that stays put for 10 s also ends the wait (logged).
	lastRaw, lastChange := -1, time.Now()
	waitFor(t, "the published items on news.raw", func() bool {
		n := len(raws.snapshot())
		if int64(n) >= published {
			return true
		}
		if n != lastRaw {
			lastRaw, lastChange = n, time.Now()
			return false
		}
		if n > 0 && time.Since(lastChange) > 10*time.Second {
			t.Logf("news.raw holds %d articles, the fetcher counted %d published (retried publishes)", n, published)
			return true
		}
		return false
	})
	// Every raw article ends in Elasticsearch or on the DLQ.
	var docs map[string]index.ArticleDoc
	waitFor(t, "every raw article indexed or dead-lettered", func() bool {
		docs = feedsEvalDocs(t, es, icfg.Index.Setup.Names)
		dead := dlq.byKey(envID)
		for id := range raws.byKey(envID) {
			if _, ok := docs[id]; !ok && dead[id] == nil {
				return false
			}
		}
		return len(raws.snapshot()) > 0
	})
	t.Logf("%d feeds, %d items published, %d raw articles, %d documents, %d dead letters in %s",
		len(files), published, len(raws.byKey(envID)), len(docs), len(dlq.byKey(envID)), time.Since(start).Round(time.Millisecond))

	bodySource := map[string]int{}
	for _, e := range raws.byKey(envID) {
		bodySource[e.Raw.Extra["body_source"]]++
		if e.Raw.Extra["body_source"] == "feed_fallback" && e.Raw.Extra["fetch_error"] == "" {
			t.Errorf("%s: feed_fallback without fetch_error", e.Raw.URL)
		}
	}
	t.Logf("raw articles by body_source: %v", bodySource)
	rawByID := raws.byKey(envID)
	for _, e := range dlq.snapshot() {
		if e.DLQ == nil {
			continue
		}
		if r := rawByID[e.ID]; r != nil {
			t.Logf("dead letter from %s: %s %s: %s", e.DLQ.Stage, r.Raw.Source.Name, r.Raw.URL, e.DLQ.Reason)
		}
	}

	// The few documents of the encoding and ill-formed sets, to read.
	for _, d := range docs {
		if !strings.HasPrefix(d.Source.Name, "real-world/") {
			t.Logf("%s: %s (%s %.2f) %.100q", d.Source.Name, d.Language, d.LanguageSource, d.LanguageConfidence, d.Title+" | "+d.Text)
		}
	}
	tally := scoreFeedDocs(t, docs, labels, stages.CleanerConfigFromEnv(noEnv).Clean.Languages)
	t.Logf("\n%s", tally.table())
	all := tally.total()
	if all.Markup > 0 || all.Mojibake > 0 {
		t.Errorf("%d documents with markup left, %d with mojibake (want 0)", all.Markup, all.Mojibake)
	}
	if all.Unlabelled > 0 {
		t.Errorf("%d documents match no label (testdata/feedseval/labels.json out of date?)", all.Unlabelled)
	}
	if n := all.LangRight + all.LangWrong + all.LangMissing; n == 0 || float64(all.LangRight)/float64(n) < feedsMinLanguageAccuracy {
		t.Errorf("language correct %d of %d, want >= %.2f", all.LangRight, n, feedsMinLanguageAccuracy)
	}
	if n := all.DateRight + all.DateWrong + all.DateFetched; n == 0 || float64(all.DateRight)/float64(n) < feedsMinDateAccuracy {
		t.Errorf("date correct %d of %d, want >= %.2f", all.DateRight, n, feedsMinDateAccuracy)
	}
}

func readFeedLabels(t *testing.T) []feedLabel {
	t.Helper()
	b, err := os.ReadFile("testdata/feedseval/labels.json")
	if err != nil {
		t.Fatal(err)
	}
	var ls []feedLabel
	if err := json.Unmarshal(b, &ls); err != nil {
		t.Fatal(err)
	}
	return ls
}

// sharedFeedFiles reads every file under sharedFeeds, keyed by its path relative to it.
func sharedFeedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(sharedFeeds, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(sharedFeeds, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// headerRe is the HTTP header feedparser's test files ask to be served with, in their leading
// comment ("Header: Content-type: text/xml; charset=utf-8").
var headerRe = regexp.MustCompile(`(?im)^\s*Header:\s*Content-type:\s*(.*?)\s*$`)

// feedContentType is the Content-Type a server would send for the file: the one its comment
// names, none for the no_content_type tests, else the usual type of its format.
func feedContentType(rel string, b []byte) string {
	if m := headerRe.FindSubmatch(b[:min(len(b), 2048)]); m != nil {
		return string(m[1])
	}
	head := strings.ToLower(string(b[:min(len(b), 1024)]))
	switch {
	case strings.Contains(rel, "no_content_type"):
		return ""
	case strings.HasSuffix(rel, ".json"):
		return "application/feed+json"
	case strings.Contains(head, "<feed"):
		return "application/atom+xml"
	case strings.Contains(head, "<rdf:rdf"):
		return "application/rdf+xml"
	}
	return "application/rss+xml"
}

// feedsEvalDocs reads every article document under names' alias, by ID.
func feedsEvalDocs(t *testing.T, es interface {
	Perform(*http.Request) (*http.Response, error)
}, names index.Names) map[string]index.ArticleDoc {
	t.Helper()
	body := strings.NewReader(`{"size":1000,"query":{"match_all":{}}}`)
	req, _ := http.NewRequest(http.MethodPost, "/"+names.ArticlesAlias()+"/_search?ignore_unavailable=true", body)
	req.Header.Set("Content-Type", "application/json")
	res, err := es.Perform(req)
	if err != nil {
		t.Logf("search: %v", err)
		return nil
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Hits []struct {
				Source index.ArticleDoc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		return nil
	}
	docs := map[string]index.ArticleDoc{}
	for _, h := range out.Hits.Hits {
		docs[h.Source.ID] = h.Source
	}
	return docs
}

var (
	// markupRe: an HTML tag or a character reference left in the text.
	markupRe = regexp.MustCompile(`(?i)</?[a-z][a-z0-9]*(\s[^<>]*)?/?>|<!--|&(#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]{1,7});`)
	// mojibakeRe: UTF-8 read as Latin-1/cp1252 (Ã©, â€™, Â , Ð°, Ñ‚), C1 controls, U+FFFD.
	mojibakeRe = regexp.MustCompile(`[ÃÂ][\x{80}-\x{BF}]|â€|[ÐÑ][\x{80}-\x{BF}‚„…†‡‰‹‘’“”•–—˜™›]|[\x{80}-\x{9F}]|\x{FFFD}`)
)

// feedTally counts one set's documents.
type feedTally struct {
	Items                              int // in the feeds, by the labels (feedparser's count)
	Docs, Markup, Mojibake, Unlabelled int
	LangRight, LangWrong, LangMissing  int
	LangUnscored                       int
	LangOutside                        int // labelled language not configured and none given: right
	DateRight, DateWrong, DateFetched  int
	NoDateFetched, NoDateOther         int // the feed states no date: fetch time / another source
	examples                           []string
}

type feedTallies map[string]*feedTally

// scoreFeedDocs matches each document to its label (same feed file; same link, else same
// title) and counts.
//
// A labelled language outside the cleaner's configured languages (NEWSFLOW_CLEAN_LANGUAGES;
// e.g. Korean and Hebrew by default) cannot be detected: no language is then the right
// answer, counted as LangOutside.
func scoreFeedDocs(t *testing.T, docs map[string]index.ArticleDoc, labels []feedLabel, languages []string) feedTallies {
	t.Helper()
	configured := map[string]bool{}
	for _, l := range languages {
		configured[l] = true
	}
	byFile := map[string][]feedLabel{}
	for _, l := range labels {
		byFile[l.File] = append(byFile[l.File], l)
	}
	tallies := feedTallies{}
	for _, l := range labels {
		if tallies[l.Set] == nil {
			tallies[l.Set] = &feedTally{}
		}
		tallies[l.Set].Items++
	}
	landed := map[string]bool{}
	defer func() {
		for _, l := range labels {
			if !landed[l.File+"\x00"+l.Link+"\x00"+l.Title+"\x00"+l.Text] {
				tallies[l.Set].examples = append(tallies[l.Set].examples, fmt.Sprintf("not landed %s %q: %.50q", l.File, l.Title, l.Text))
			}
		}
	}()
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		d := docs[id]
		set := strings.Split(d.Source.Name, "/")[0]
		tl := tallies[set]
		if tl == nil {
			tl = &feedTally{}
			tallies[set] = tl
		}
		tl.Docs++
		note := func(kind, detail string) {
			tl.examples = append(tl.examples, fmt.Sprintf("%s %s %s: %s", kind, d.Source.Name, d.URL, detail))
		}
		text := d.Title + "\n" + d.Text
		if m := markupRe.FindString(text); m != "" {
			tl.Markup++
			note("markup", fmt.Sprintf("%q", m))
		}
		if m := mojibakeRe.FindString(text); m != "" {
			tl.Mojibake++
			note("mojibake", fmt.Sprintf("%q in %.60q", m, text))
		}
		l, ok := matchLabel(byFile[d.Source.Name], d)
		if ok {
			landed[l.File+"\x00"+l.Link+"\x00"+l.Title+"\x00"+l.Text] = true
		}
		if !ok {
			tl.Unlabelled++
			note("unlabelled", fmt.Sprintf("%q", d.Title))
			continue
		}
		switch {
		case l.Lang == "und":
			tl.LangUnscored++
		case len(configured) > 0 && !configured[l.Lang] && d.Language == "":
			tl.LangOutside++
		case d.Language == "":
			tl.LangMissing++
			note("language missing", "want "+l.Lang)
		case d.Language == l.Lang:
			tl.LangRight++
		default:
			tl.LangWrong++
			note("language", fmt.Sprintf("%s (%s %.2f), want %s: %.60q", d.Language, d.LanguageSource, d.LanguageConfidence, l.Lang, text))
		}
		if l.Date == "" {
			if d.DateSource == "fetched" {
				tl.NoDateFetched++
			} else {
				tl.NoDateOther++
				note("date (none in feed)", fmt.Sprintf("%v from %s", d.PublishedAt, d.DateSource))
			}
			continue
		}
		want, err := time.Parse(time.RFC3339, l.Date)
		if err != nil {
			t.Fatalf("label %s %q: %v", l.File, l.Title, err)
		}
		switch {
		case d.DateSource == "fetched":
			tl.DateFetched++
			note("date fell back to fetch time", fmt.Sprintf("feed says %q", l.DateText))
		case d.PublishedAt != nil && d.PublishedAt.Truncate(time.Second).Equal(want):
			tl.DateRight++
		default:
			tl.DateWrong++
			note("date", fmt.Sprintf("%v from %s, feed says %q = %s", d.PublishedAt, d.DateSource, l.DateText, l.Date))
		}
	}
	return tallies
}

// matchLabel finds d's label among its file's: the same link, else the one label with d's title.
func matchLabel(ls []feedLabel, d index.ArticleDoc) (feedLabel, bool) {
	for _, l := range ls {
		if l.Link != "" && (l.Link == d.URL || l.Link == d.CanonicalURL) {
			return l, true
		}
	}
	var found []feedLabel
	for _, l := range ls {
		if l.Title != "" && l.Title == d.Title {
			found = append(found, l)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	if len(ls) == 1 { // a one-item feed: the item
		return ls[0], true
	}
	// Untitled items without links: the one whose text begins the document's.
	text := lettersOf(d.Text)
	found = found[:0]
	for _, l := range ls {
		if p := lettersOf(tagRe.ReplaceAllString(l.Text, " ")); len(p) >= 12 && strings.HasPrefix(text, p[:12]) {
			found = append(found, l)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return feedLabel{}, false
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// lettersOf is s's letters, lowercased (a key for matching texts cleaned differently).
func lettersOf(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(html.UnescapeString(s)) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (ts feedTallies) total() feedTally {
	var a feedTally
	for _, t := range ts {
		a.Items += t.Items
		a.Docs += t.Docs
		a.Markup += t.Markup
		a.Mojibake += t.Mojibake
		a.Unlabelled += t.Unlabelled
		a.LangRight += t.LangRight
		a.LangWrong += t.LangWrong
		a.LangMissing += t.LangMissing
		a.LangUnscored += t.LangUnscored
		a.LangOutside += t.LangOutside
		a.DateRight += t.DateRight
		a.DateWrong += t.DateWrong
		a.DateFetched += t.DateFetched
		a.NoDateFetched += t.NoDateFetched
		a.NoDateOther += t.NoDateOther
	}
	return a
}

// table prints one row per set and the total, then the examples of every problem.
func (ts feedTallies) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %5s %5s %6s %8s | %-42s | %-26s | %s\n", "set", "items", "docs", "markup", "mojibake",
		"language right/wrong/none (und, not configured)", "date right/wrong/fetch-time", "no date in feed: fetch-time/other")
	row := func(name string, t feedTally) {
		fmt.Fprintf(&b, "%-11s %5d %5d %6d %8d | %19s (%d, %d) | %12d/%d/%d | %d/%d\n", name, t.Items, t.Docs, t.Markup, t.Mojibake,
			fmt.Sprintf("%d/%d/%d", t.LangRight, t.LangWrong, t.LangMissing), t.LangUnscored, t.LangOutside, t.DateRight, t.DateWrong, t.DateFetched, t.NoDateFetched, t.NoDateOther)
	}
	for _, set := range []string{"real-world", "encoding", "ill-formed"} {
		if t := ts[set]; t != nil {
			row(set, *t)
		} else {
			row(set, feedTally{})
		}
	}
	row("all", ts.total())
	for _, set := range []string{"real-world", "encoding", "ill-formed"} {
		if t := ts[set]; t != nil {
			for _, e := range t.examples {
				b.WriteString("  " + e + "\n")
			}
		}
	}
	return b.String()
}
