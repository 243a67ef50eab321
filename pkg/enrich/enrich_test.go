package enrich

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	shared     *Enricher
	sharedOnce sync.Once
)

func testEnricher(t testing.TB) *Enricher {
	sharedOnce.Do(func() {
		var err error
		shared, err = New(Config{Now: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
	})
	return shared
}

func enrichFile(t testing.TB, path string, pub time.Time) *article.Enriched {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testEnricher(t).Enrich(context.Background(), "test", &article.Clean{Text: string(b), Language: "en", PublishedAt: &pub})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func findEntity(out *article.Enriched, typ, name string) *article.Entity {
	for i, e := range out.Entities {
		if e.Type == typ && e.Name == name {
			return &out.Entities[i]
		}
	}
	return nil
}

func findPlace(out *article.Enriched, name string) *article.Place {
	for i, p := range out.Places {
		if p.Name == name || strings.HasPrefix(p.Name, name+" ") { // GeoNames name: "Frankfurt am Main"
			return &out.Places[i]
		}
	}
	return nil
}

func entityList(out *article.Enriched) string {
	var b strings.Builder
	for _, e := range out.Entities {
		b.WriteString(e.Type + ":" + e.Name + "; ")
	}
	return b.String()
}

// TestSeedAcceptance is issue 5's acceptance test on the (plain-text cleaned) seed article.
func TestSeedAcceptance(t *testing.T) {
	out := enrichFile(t, "testdata/seed.txt", time.Date(2021, 12, 29, 18, 0, 0, 0, time.UTC))
	if out.EnrichmentVersion != article.EnrichmentVersion {
		t.Errorf("EnrichmentVersion = %d", out.EnrichmentVersion)
	}
	want := map[string][]string{
		"PER": {"Joe Biden", "Vladimir Putin", "Antony Blinken", "Volodymyr Zelensky", "Emily Horn", "Dmitry Peskov", "Sergei Lavrov"},
		"ORG": {"NATO", "White House", "State Department", "National Security Council", "Kremlin", "NBC", "EFE", "AFP", "Reuters"},
		"LOC": {"Ukraine", "Russia", "United States", "Donetsk", "Moscow"},
	}
	for typ, names := range want {
		for _, n := range names {
			t.Run(typ+"/"+n, func(t *testing.T) {
				if findEntity(out, typ, n) == nil {
					t.Fatalf("missing %s %s in %s", typ, n, entityList(out))
				}
			})
		}
	}
	t.Run("Blinken spellings merged", func(t *testing.T) {
		e := findEntity(out, "PER", "Antony Blinken")
		if e == nil {
			t.Fatal("no Antony Blinken")
		}
		for _, a := range []string{"Anthony Blinken", "Blinkin", "Blinken"} {
			if !contains(e.Aliases, a) {
				t.Errorf("alias %q not merged: %v", a, e.Aliases)
			}
		}
		if e.Mentions < 4 {
			t.Errorf("mentions = %d, want >= 4", e.Mentions)
		}
	})
	t.Run("Biden canonical", func(t *testing.T) {
		e := findEntity(out, "PER", "Joe Biden")
		if e == nil || !contains(e.Aliases, "Biden") || e.Normalized != "joe biden" {
			t.Fatalf("Joe Biden = %+v", e)
		}
		if findEntity(out, "PER", "Biden") != nil {
			t.Error("separate entity for Biden")
		}
	})
	t.Run("no demonym persons", func(t *testing.T) {
		for _, e := range out.Entities {
			if e.Type == "PER" && (e.Name == "Ukrainian" || e.Name == "Russian" || e.Name == "US") {
				t.Errorf("demonym as PER: %+v", e)
			}
		}
	})
	t.Run("country codes", func(t *testing.T) {
		for name, cc := range map[string]string{"Ukraine": "UA", "Russia": "RU", "United States": "US", "Moscow": "RU", "Donetsk": "UA"} {
			p := findPlace(out, name)
			if p == nil || p.CountryCode != cc {
				t.Errorf("place %s = %+v, want %s", name, p, cc)
			}
		}
		if m := findPlace(out, "Moscow"); m != nil && (m.Lat < 55 || m.Lat > 56) {
			t.Errorf("Moscow lat %v", m.Lat)
		}
		if out.MainCountry != "RU" && out.MainCountry != "UA" {
			t.Errorf("MainCountry = %q", out.MainCountry)
		}
	})
	t.Run("quotes", func(t *testing.T) {
		speakers := map[string]bool{}
		for _, q := range out.Quotes {
			speakers[q.Speaker] = true
		}
		for _, s := range []string{"Antony Blinken", "Dmitry Peskov"} {
			if !speakers[s] {
				t.Errorf("no quote by %s: %+v", s, out.Quotes)
			}
		}
		if !speakers["Joe Biden"] && !speakers["the official"] {
			t.Errorf("no quote by Biden/the official: %+v", out.Quotes)
		}
	})
	t.Run("January 10 resolved", func(t *testing.T) {
		for _, d := range out.Dates {
			if d.Text == "January 10" {
				if got := d.Resolved.Format("2006-01-02"); got != "2022-01-10" {
					t.Fatalf("January 10 → %s", got)
				}
				return
			}
		}
		t.Fatalf("no January 10 in %+v", out.Dates)
	})
	t.Run("tone and keywords", func(t *testing.T) {
		if out.Sentiment == nil {
			t.Error("nil sentiment for English")
		}
		if len(out.Keywords) == 0 {
			t.Error("no keywords")
		}
	})
}

// TestSecondArticle shows the approach is not tuned to the seed: different people (none in
// the alias table), a misspelling, Mr. titles, a pronoun speaker, other countries and a city.
func TestSecondArticle(t *testing.T) {
	// Thursday 11 April 2024
	out := enrichFile(t, "testdata/ecb.txt", time.Date(2024, 4, 11, 16, 0, 0, 0, time.UTC))
	for _, want := range [][2]string{
		{"PER", "Christine Lagarde"}, {"PER", "Stefan Schneider"}, {"PER", "Giancarlo Giorgetti"},
		{"ORG", "European Central Bank"}, {"ORG", "Deutsche Bank"},
		{"LOC", "Germany"}, {"LOC", "Italy"}, {"LOC", "Frankfurt"},
	} {
		if findEntity(out, want[0], want[1]) == nil {
			t.Errorf("missing %s %s in %s", want[0], want[1], entityList(out))
		}
	}
	if e := findEntity(out, "PER", "Christine Lagarde"); e != nil {
		if !contains(e.Aliases, "Lagarde") || !contains(e.Aliases, "Christine Lagard") {
			t.Errorf("Lagarde aliases = %v", e.Aliases)
		}
	}
	if e := findEntity(out, "PER", "Stefan Schneider"); e != nil && e.Mentions < 2 {
		t.Errorf("Mr. Schneider not merged: %+v", e)
	}
	for name, cc := range map[string]string{"Germany": "DE", "France": "FR", "Italy": "IT", "Frankfurt": "DE"} {
		if p := findPlace(out, name); p == nil || p.CountryCode != cc {
			t.Errorf("place %s = %+v, want %s", name, p, cc)
		}
	}
	if out.MainCountry != "DE" {
		t.Errorf("MainCountry = %q, want DE", out.MainCountry)
	}
	bySpeaker := map[string]int{}
	for _, q := range out.Quotes {
		bySpeaker[q.Speaker]++
	}
	if bySpeaker["Christine Lagarde"] < 2 || bySpeaker["Stefan Schneider"] < 1 {
		t.Errorf("quotes by speaker %v: %+v", bySpeaker, out.Quotes)
	}
	dates := map[string]string{}
	for _, d := range out.Dates {
		dates[d.Text] = d.Resolved.Format("2006-01-02")
	}
	for text, want := range map[string]string{"Thursday": "2024-04-11", "June 6": "2024-06-06", "Wednesday": "2024-04-10"} {
		if dates[text] != want {
			t.Errorf("date %q = %q, want %s (all: %v)", text, dates[text], want, dates)
		}
	}
}

func TestEnrichEdgeCases(t *testing.T) {
	e := testEnricher(t)
	pub := time.Date(2024, 4, 11, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		clean   *article.Clean
		wantErr error
		check   func(t *testing.T, out *article.Enriched)
	}{
		{"nil article", nil, ErrInvalid, nil},
		{"empty text", &article.Clean{Language: "en"}, nil, func(t *testing.T, out *article.Enriched) {
			if out.EnrichmentVersion != article.EnrichmentVersion || len(out.Entities) != 0 || out.Sentiment != nil {
				t.Fatalf("%+v", out)
			}
		}},
		{"unsupported language has null sentiment", &article.Clean{Language: "zh", Text: "习近平周四在北京会见了法国总统马克龙。"}, nil, func(t *testing.T, out *article.Enriched) {
			if out.Sentiment != nil {
				t.Fatalf("sentiment %v for zh", *out.Sentiment)
			}
		}},
		{"no clause keywords for unspaced text", &article.Clean{Text: "我今天在北京见到了王小明。阿里巴巴集团总部位于杭州市。"}, nil, func(t *testing.T, out *article.Enriched) {
			if len(out.Keywords) != 0 {
				t.Fatalf("keywords %+v for Chinese text", out.Keywords)
			}
		}},
		{"unknown language guessed", &article.Clean{Text: "The president said on Monday that the talks with the union were a great success and would continue."}, nil, func(t *testing.T, out *article.Enriched) {
			if out.Sentiment == nil {
				t.Fatal("expected English to be guessed")
			}
		}},
		{"no sentences", &article.Clean{Language: "en", Text: strings.Repeat("lorem ipsum ", 500), PublishedAt: &pub}, nil, nil},
		{"mixed scripts and garbage", &article.Clean{Language: "en", Text: "Путин 🙂 \xff\xfe “unterminated quote said Biden (((( January 99 ” — ‘’ \u0000"}, nil, nil},
		{"huge text is truncated", &article.Clean{Language: "en", Text: strings.Repeat("Joe Biden met Vladimir Putin in Geneva on Thursday. ", 25000)}, nil, func(t *testing.T, out *article.Enriched) {
			for _, en := range out.Entities {
				if en.FirstOffset > 200<<10 {
					t.Fatalf("offset beyond cap: %+v", en)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.Enrich(context.Background(), "edge", tt.clean)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func TestEnrichCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testEnricher(t).Enrich(ctx, "c", &article.Clean{Language: "en", Text: "Joe Biden spoke."})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestMetricsAndConfig(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := New(Config{}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Enrich(context.Background(), "m", &article.Clean{Language: "en", Text: "Joe Biden met NATO leaders in Brussels on Thursday."}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(e.articles.WithLabelValues("ok")); got != 1 {
		t.Errorf("articles_total{ok} = %v", got)
	}
	if got := testutil.ToFloat64(e.entities.WithLabelValues("ORG")); got < 1 {
		t.Errorf("entities_total{ORG} = %v", got)
	}
	if _, err := New(Config{}, nil, reg); err == nil {
		t.Error("duplicate registration not reported")
	}
	for _, bad := range []Config{{MaxTextBytes: -1}, {MaxKeywords: 1000}, {MinConfidence: 2}} {
		if _, err := New(bad, nil, nil); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	if _, err := New(Config{AliasFiles: []string{"testdata/missing.yaml"}}, nil, nil); err == nil {
		t.Error("missing alias file accepted")
	}
}

func TestConcurrentEnrich(t *testing.T) {
	e := testEnricher(t)
	b, _ := os.ReadFile("testdata/seed.txt")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Enrich(context.Background(), "c", &article.Clean{Language: "en", Text: string(b)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func FuzzEnrich(f *testing.F) {
	for _, s := range []string{"", "Joe Biden said “hello there my friend,” on Thursday.", "“", "\xff", "(((", "January 10", "Mr. ’s", "According to", "he said that"} {
		f.Add(s)
	}
	b, _ := os.ReadFile("testdata/seed.txt")
	f.Add(string(b[:600]))
	e := testEnricher(f)
	f.Fuzz(func(t *testing.T, s string) {
		out, err := e.Enrich(context.Background(), "fuzz", &article.Clean{Language: "en", Text: s})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range out.Entities {
			if en.FirstOffset < 0 || en.FirstOffset > len(s) || en.Mentions < 1 {
				t.Fatalf("bad entity %+v", en)
			}
		}
		for _, q := range out.Quotes {
			if q.Offset < 0 || q.Offset > len(s) {
				t.Fatalf("bad quote %+v", q)
			}
		}
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestChinesePlaces: Chinese place and country names resolve to GeoNames places with
// coordinates and ISO codes (the name scan cannot see words in text without spaces).
func TestChinesePlaces(t *testing.T) {
	e, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Enrich(context.Background(), "zh", &article.Clean{Language: "zh", Text: "我今天在北京见到了王小明。阿里巴巴集团总部位于杭州市。美国总统周四访问了日本和中国。日本首相说。"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range out.Places {
		got[p.Name] = p.Kind + ":" + p.CountryCode
		if p.Lat == 0 && p.Lon == 0 {
			t.Errorf("place %+v without coordinates", p)
		}
	}
	for name, want := range map[string]string{"Beijing": "city:CN", "Hangzhou": "city:CN", "Japan": "country:JP", "China": "country:CN"} {
		if got[name] != want {
			t.Errorf("%s: %q, want %s (places %v)", name, got[name], want, got)
		}
	}
}

// TestEnrichUsesLanguageModel: the entity model follows the article's language (the multi
// model for Portuguese and German, the character model for Chinese).
func TestEnrichUsesLanguageModel(t *testing.T) {
	e, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lang, text string
		want             map[string]string // entity name -> type
	}{
		{"portuguese", "pt", "O presidente Lula visitou Lisboa na quinta-feira e encontrou-se com Marcelo Rebelo de Sousa.",
			map[string]string{"Lula": "PER", "Lisboa": "LOC", "Marcelo Rebelo de Sousa": "PER"}},
		{"german", "de", "Bundeskanzler Olaf Scholz traf am Donnerstag in Berlin den französischen Präsidenten Emmanuel Macron.",
			map[string]string{"Olaf Scholz": "PER", "Berlin": "LOC", "Emmanuel Macron": "PER"}},
		{"chinese", "zh", "我今天在北京见到了王小明。阿里巴巴集团总部位于杭州市。",
			map[string]string{"北京": "LOC", "王小明": "PER", "杭州市": "LOC"}},
		{"chinese without a language", "", "我今天在北京见到了王小明。阿里巴巴集团总部位于杭州市。",
			map[string]string{"北京": "LOC", "王小明": "PER", "杭州市": "LOC"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.Enrich(context.Background(), tc.name, &article.Clean{Language: tc.lang, Text: tc.text})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, en := range out.Entities {
				got[en.Name] = en.Type
			}
			for name, typ := range tc.want {
				if got[name] != typ {
					t.Errorf("%s: type %q, want %s (entities %v)", name, got[name], typ, got)
				}
			}
		})
	}
}
