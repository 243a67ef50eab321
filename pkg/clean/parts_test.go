package clean

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestNormalizeText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"nfc", "Cafe\u0301", "Café"},
		{"soft hyphen and zero width", "infor\u00ADmation\u200B here\uFEFF", "information here"},
		{"nbsp and spaces", "a\u00A0\u2009b   c\t\td", "a b c d"},
		{"lines trimmed, blank lines collapsed", "  one  \r\n\r\n\r\n\n  two\u2028three ", "one\n\ntwo\nthree"},
		{"bidi and controls", "\u200Eabc\u0007def\u202E", "abcdef"},
		{"zwj kept", "👩\u200D💻", "👩\u200D💻"},
		{"invalid utf8 dropped", "a\xffb", "ab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeText(tc.in); got != tc.want {
				t.Errorf("NormalizeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLineVerdict(t *testing.T) {
	for _, tc := range []struct {
		line string
		drop bool
	}{
		{"See also  How is Alex, the robot who will serve the public", true},
		{"Read more: Why the council voted no", true},
		{"RELATED: Five things to know", true},
		{"Leave a Reply", true},
		{"Your email address will not be published. Required fields are marked *", true},
		{"Back to top", true},
		{"Read on:", true},
		{"Share on Facebook", true},
		{"Follow us on Twitter and Instagram for more updates", true},
		{"Sign up for our newsletter to get the latest news", true},
		{"© 2024 Example Media. All rights reserved.", true},
		{"Photo: Jane Roe / Reuters", true},
		{"Ukrainian President salutes troops near the buffer zone (Image: Reuters)", true},
		{"Joe Biden will say they are ready (EFE / EPA / MIKHAIL METZEL / SPUTNIK / KREMLIN POOL)", true},
		{"Updated: 10:32 GMT, 3 May 2021", true},
		{"NOVEMBER 20, 2019 10:43", true},
		{"By Jane Doe and John Roe", true},
		{"5 min read", true},
		{"Have a tip? Jane may be reached at jane@example.com. Follow her on Twitter @jane.", true},
		{"If you enjoyed this article, we have a proposition for you: join us.", true},
		{"jane.doe@example.com @janedoe", true},
		{"E-Mail: presse@example.org", true},
		{"Welcome to the daily deals column. Follow us at Twitter @exampledeals.", true},
		// Sentences that mention a handle, an address or Twitter are text (issue 17).
		{"Drawing on her own experience, Twitter user @trainhelper wrote a thread on how to help a victim.", false},
		{"The bundle delivers 40 apps from $1 each https://t.co/abc by @devjane pic.twitter.com/xyz", false},
		{"Meistens reicht eine Adresse nach dem Muster name@example.com im Email-Feld.", false},
		// Furniture in other languages (issue 17: the multilingual set).
		{"Teilen Sie dies mit:", true},
		{"Kommentare sind geschlossen.", true},
		{"12 Antworten zu „Ein Sonntag am See“", true},
		{"Um den Beitrag kommentieren zu können, müssen Sie eingeloggt sein.", true},
		{"Lesen Sie auch: Neue Brücke über den Fluss eröffnet", true},
		{"Czytaj też: Nowy most otwarty", true},
		{"VEA TAMBIÉN: El puente nuevo ya está abierto", true},
		{"Contenido Relacionado", true},
		{"Crédits photos : Agence Exemple", true},
		{"Titelbild: Max Muster / Bildagentur", true},
		{"Síguenos en Telegram, Instagram y Facebook para recibir todas las noticias", true},
		{"Abonniere unseren Newsletter und erfahre alles rund um das Studium", true},
		{"Artikel gefallen? Vergiss nicht zu teilen!", true},
		{"Weitere Beiträge aus der Kolumne:", true},
		{"Lesen Sie auch die folgenden Beiträge:", true},
		{"Weitere aktuelle Themen aus der Arbeitswelt", true},
		{"Más sobre la economía regional", true},
		{"Weitere Maßnahmen sollen im Herbst folgen, sagte die Ministerin.", false},
		{"More details as follows:", false},
		{"Die Kommentare der Leser waren überwiegend positiv, berichtet die Redaktion.", false},
		{"Temas como el presupuesto y la seguridad dominaron la reunión del consejo.", false},
		{"Teilen Sie die Ansicht des Ministers, dass die Brücke zu teuer war?", false},
		{"Wir präsentieren unseren zweiten Neuzugang! @spieler27 wird Teil der Mannschaft.", false},
		{"(with information from the EFE and AFP)", false},
		{"(Reporting by Jane Doe; Editing by John Roe)", false},
		{"Communication between the two leaders", false},
		{"See the full results below, where the council voted 7 to 2 in favour of the plan.", false},
		{"By Tuesday, the council had already approved the first phase of the harbour plan.", false},
		{"Rockledge 14 11 6 15 — 44", false},
		{"Sign up for the bundle using the same email as your account", false},
		{"The minister said: “We will not back down (whatever happens).”", false},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if got := lineVerdict(tc.line); (got != "") != tc.drop {
				t.Errorf("lineVerdict(%q) = %q, want drop=%v", tc.line, got, tc.drop)
			}
		})
	}
}

func TestFilterLines(t *testing.T) {
	long := strings.Repeat("word ", 80)
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"duplicated caption", []string{"A", "Caption of the photo here for you", "Caption of the photo here for you", "B"},
			[]string{"A", "Caption of the photo here for you", "B"}},
		{"truncated caption before full one", []string{"A", "In a phone call on Thursday the president will", "In a phone call on Thursday, the President will say more.", "B"},
			[]string{"A", "In a phone call on Thursday, the President will say more.", "B"}},
		{"far repeats kept", []string{"Two eggs and a cup of rice", "x", "y", "Two eggs and a cup of rice"},
			[]string{"Two eggs and a cup of rice", "x", "y", "Two eggs and a cup of rice"}},
		{"tail after marker cut", []string{"a", "b", "c", "Read on:", "Jane Doe", "\"Writer. Coffee lover.\"", "Leave a Reply"},
			[]string{"a", "b", "c"}},
		{"marker followed by long text kept", []string{"a", "b", "Comments", long},
			[]string{"a", "b", long}},
		{"leading url", []string{"https://example.com/story", "Text"}, []string{"Text"}},
		{"German related block cut", []string{"a", "b", "c", "Ähnliche Beiträge", "Ein Tag am See", "Neue Brücke eröffnet"},
			[]string{"a", "b", "c"}},
		{"skip func", []string{"a", "b", "c"}, []string{"a", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var skip func(int, string) bool
			if tc.name == "skip func" {
				skip = func(i int, key string) bool {
					if key != normLine(tc.in[i]) {
						t.Errorf("skip(%d) got key %q", i, key)
					}
					return i == 1
				}
			}
			got, removed := filterLines(tc.in, skip)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if removed != len(tc.in)-len(got) {
				t.Errorf("removed = %d", removed)
			}
		})
	}
}

func TestTemplateLearner(t *testing.T) {
	cfg := DefaultTemplateConfig()
	cfg.MaxSites = 3
	tl, err := NewTemplateLearner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	footer := "Get the Example Daily app for breaking news alerts"
	for i := 0; i < 6; i++ {
		blocks := []string{fmt.Sprintf("Story %d unique paragraph about topic %c", i, 'a'+i), footer}
		got := tl.Template("example.com", blocks)
		if got[0] {
			t.Fatalf("article %d: unique block marked as template", i)
		}
		if want := i >= 4; got[1] != want {
			t.Fatalf("article %d: footer template = %v, want %v", i, got[1], want)
		}
		tl.Observe("example.com", fmt.Sprintf("id%d", i), blocks)
		tl.Observe("example.com", fmt.Sprintf("id%d", i), blocks) // redelivery: not counted twice
	}
	if tl.Template("other.com", []string{footer})[0] {
		t.Error("template leaked to another site")
	}
	// Snapshot / restore round trip.
	snap := tl.Snapshot()
	tl2, _ := NewTemplateLearner(cfg)
	if err := tl2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !tl2.Template("example.com", []string{footer})[0] {
		t.Error("restored learner forgot the footer")
	}
	if err := tl2.Restore([]byte("{bad")); err == nil {
		t.Error("restore of garbage succeeded")
	}
	// Bounded sites: the least recently used site is dropped.
	for _, s := range []string{"a.com", "b.com", "c.com"} {
		tl.Observe(s, "x", []string{"hello world"})
	}
	if tl.Template("example.com", []string{footer})[0] {
		t.Error("LRU did not evict the oldest site")
	}
	if tl.lru.Len() != 3 {
		t.Errorf("sites = %d", tl.lru.Len())
	}
}

func TestTemplateInCleaner(t *testing.T) {
	c := newTestCleaner(t)
	promo := "Harbour Times is an independent paper owned by its readers since 1901"
	topics := []string{"ferries", "schools", "taxes", "parks", "roads", "housing", "libraries", "markets"}
	for i, topic := range topics {
		body := fmt.Sprintf("Headline about %s\n\nThe council met to discuss %s and voted on the plan.\n\n%s\n\nResidents reacted to the %s decision with mixed feelings.\n", topic, topic, promo, topic)
		out, err := c.Clean(t.Context(), fmt.Sprintf("h%d", i), &article.Raw{URL: "https://harbour.example/" + fmt.Sprint(i), ContentType: "text/plain", Body: body, Source: article.Source{Domain: "harbour.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(out.Text, "independent paper owned"); has != (i < 4) {
			t.Errorf("article %d: promo present = %v", i, has)
		}
	}
}

func TestSimHashAndDedup(t *testing.T) {
	base := strings.Repeat("The central bank raised interest rates by a quarter point on Wednesday citing persistent inflation in services and a tight labour market. ", 3) +
		"Officials signalled that further increases remain possible if price pressures do not ease over the coming months according to the statement."
	edited := strings.Replace(base, "Wednesday", "Thursday", 1)
	other := strings.Repeat("A storm swept across the northern coast overnight, flooding roads and cutting power to thousands of homes as emergency crews worked. ", 4)
	if d := hamming(SimHash(base), SimHash(edited)); d > 3 {
		t.Errorf("edited copy distance %d", d)
	}
	if d := hamming(SimHash(base), SimHash(other)); d <= 10 {
		t.Errorf("unrelated distance %d", d)
	}
	cfg := DefaultDedupConfig()
	cfg.MaxEntries = 3
	cfg.Window = time.Hour
	ix, err := NewDedupIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	words := 100
	r1 := ix.Add("a", SimHash(base), "h1", words, t0)
	r2 := ix.Add("b", SimHash(edited), "h2", words, t0.Add(time.Minute))
	r3 := ix.Add("c", SimHash(other), "h3", words, t0.Add(2*time.Minute))
	r4 := ix.Add("d", 0xdead, "h2", 5, t0.Add(3*time.Minute)) // exact copy of b (short); a is evicted (size bound)
	if r1.ClusterID != "a" || r1.DuplicateOf != "" || r2.DuplicateOf != "a" || r2.ClusterID != "a" || r3.DuplicateOf != "" || r3.ClusterID != "c" || r4.DuplicateOf != "b" || r4.ClusterID != "a" {
		t.Errorf("results %+v %+v %+v %+v", r1, r2, r3, r4)
	}
	if again := ix.Add("b", SimHash(edited), "h2", words, t0.Add(4*time.Minute)); again != r2 {
		t.Errorf("redelivery verdict changed: %+v", again)
	}
	if ix.Len() != 3 {
		t.Errorf("len = %d, want 3 (size-bounded)", ix.Len())
	}
	snap := ix.Snapshot()
	ix2, _ := NewDedupIndex(cfg)
	if err := ix2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if r := ix2.Add("e", SimHash(other), "h5", words, t0.Add(5*time.Minute)); r.DuplicateOf != "c" {
		t.Errorf("after restore: %+v", r)
	}
	// Window eviction: two hours later everything is gone.
	if r := ix2.Add("f", SimHash(other), "h6", words, t0.Add(3*time.Hour)); r.DuplicateOf != "" || ix2.Len() != 1 {
		t.Errorf("after window: %+v len %d", r, ix2.Len())
	}
}

func hamming(a, b uint64) int {
	n := 0
	for x := a ^ b; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestChooseDates(t *testing.T) {
	fetched := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	feedT := time.Date(2024, 3, 9, 8, 0, 0, 0, time.UTC)
	oldFeed := time.Date(2024, 1, 2, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		feed    *time.Time
		d       dateCandidates
		url     string
		want    string
		wantSrc string
	}{
		{"jsonld wins when close to feed", &feedT, dateCandidates{jsonld: "2024-03-09T09:00:00+01:00"}, "", "2024-03-09T09:00:00+01:00", "jsonld"},
		{"meta when no jsonld", nil, dateCandidates{meta: "2024-03-08T10:00:00Z"}, "", "2024-03-08T10:00:00Z", "meta"},
		{"feed wins when page disagrees", &oldFeed, dateCandidates{jsonld: "2024-03-09T09:00:00Z"}, "", "2024-01-02T08:00:00Z", "feed"},
		{"url backs page against feed", &oldFeed, dateCandidates{jsonld: "2024-03-09T09:00:00Z"}, "https://x.example/2024/03/09/story", "2024-03-09T09:00:00Z", "jsonld"},
		{"future page date ignored", &feedT, dateCandidates{jsonld: "2030-01-01T00:00:00Z"}, "", "2024-03-09T08:00:00Z", "feed"},
		{"ancient date ignored, url used", nil, dateCandidates{meta: "1970-01-01"}, "https://x.example/2024/03/07/story", "2024-03-07T00:00:00Z", "url"},
		{"time tag", nil, dateCandidates{timeTags: []string{"garbage", "2024-03-05"}}, "", "2024-03-05T00:00:00Z", "text"},
		{"fetched fallback", nil, dateCandidates{}, "", "2024-03-10T12:00:00Z", "fetched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := &article.Raw{URL: tc.url, FetchedAt: fetched}
			if tc.feed != nil {
				raw.Feed = &article.FeedItem{Published: tc.feed}
			}
			tc.d.pageURL = tc.url
			pub, _, src := chooseDates(raw, &extraction{dates: tc.d})
			if pub == nil || pub.Format(time.RFC3339) != tc.want || src != tc.wantSrc {
				t.Errorf("got %v from %q, want %s from %q", pub, src, tc.want, tc.wantSrc)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"zero input", func(c *Config) { c.MaxInputBytes = 0 }},
		{"shallow depth", func(c *Config) { c.MaxDepth = 2 }},
		{"no timeout", func(c *Config) { c.Timeout = 0 }},
		{"unknown language", func(c *Config) { c.Languages = []string{"xx"} }},
		{"bad template", func(c *Config) { c.Template.MinShare = 2 }},
		{"bad dedup", func(c *Config) { c.Dedup.MaxDistance = 9 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mut(&c)
			if c.Validate() == nil {
				t.Error("expected an error")
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func TestLanguage(t *testing.T) {
	ls, err := langWhitelist([]string{"en", "es", "de"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, hint, want string }{
		{"El gobierno anunció el miércoles nuevas medidas para contener la inflación en todo el país.", "", "es"},
		{"Die Regierung kündigte am Mittwoch neue Maßnahmen gegen die Inflation im ganzen Land an.", "", "de"},
		{"The government announced new measures on Wednesday to curb inflation across the country.", "", "en"},
		{"42", "de", "de"},
	} {
		if got, conf, _ := ls.detect(tc.text, declaration{tc.hint, "source"}); got != tc.want || conf <= 0 {
			t.Errorf("detect(%q) = %s %.2f, want %s", tc.text, got, conf, tc.want)
		}
	}
}

func TestFeedMetadataAndSnapshot(t *testing.T) {
	c := newTestCleaner(t)
	pub := time.Date(2021, 12, 29, 20, 0, 0, 0, time.UTC)
	out, err := c.Clean(t.Context(), "f1", &article.Raw{
		URL: "https://wire.example/2021/12/29/biden", ContentType: "text/plain", Body: readPage(t, "seed-article.txt"),
		FetchedAt: pub.Add(time.Hour),
		Feed:      &article.FeedItem{Title: "Feed title", Authors: []string{"Wire Desk"}, Categories: []string{"World"}, Published: &pub},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Title != "Feed title" || len(out.Authors) != 1 || out.Tags[0] != "World" || out.DateSource != "feed" || !out.PublishedAt.Equal(pub) {
		t.Errorf("title %q authors %q tags %q date %v (%s)", out.Title, out.Authors, out.Tags, out.PublishedAt, out.DateSource)
	}
	tmpl, dd := c.Snapshot()
	c2 := newTestCleaner(t)
	if err := c2.Restore(tmpl, dd); err != nil {
		t.Fatal(err)
	}
	if c2.Dedup.Len() != 1 {
		t.Errorf("restored dedup has %d entries", c2.Dedup.Len())
	}
}

func TestFeedContentWithoutBody(t *testing.T) {
	c := newTestCleaner(t)
	out, err := c.Clean(t.Context(), "fc", &article.Raw{URL: "https://x.example/a", Feed: &article.FeedItem{
		Title: "T", Content: "<p>The harbour plan was approved by the council on Monday evening.</p><p>Share on Facebook</p>"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "The harbour plan was approved by the council on Monday evening." {
		t.Errorf("text = %q", out.Text)
	}
}
