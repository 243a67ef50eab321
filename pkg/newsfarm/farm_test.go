package newsfarm

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/nlnwa/gowarc/v3"
	"go.uber.org/goleak"

	"github.com/newsflow/newsflow/pkg/article"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newFarm(t *testing.T, c Config) *Farm {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDeterministic(t *testing.T) {
	c := Config{Seed: 7, Backlog: 120, Start: epoch, Burst: Burst{Count: 5, At: -time.Minute}}
	var warcs [2]bytes.Buffer
	var manifests [2][]Entry
	for i := range warcs {
		f := newFarm(t, c)
		if _, err := f.WriteWARC(&warcs[i], f.Epoch(), WARCOptions{}); err != nil {
			t.Fatal(err)
		}
		manifests[i] = f.Manifest(f.Epoch())
	}
	if !bytes.Equal(warcs[0].Bytes(), warcs[1].Bytes()) {
		t.Error("same config, different WARC bytes")
	}
	if len(manifests[0]) != len(manifests[1]) {
		t.Fatalf("manifests differ in length: %d vs %d", len(manifests[0]), len(manifests[1]))
	}
	for i := range manifests[0] {
		if manifests[0][i] != manifests[1][i] {
			t.Fatalf("manifest entry %d differs: %+v vs %+v", i, manifests[0][i], manifests[1][i])
		}
	}
	other := newFarm(t, Config{Seed: 8, Backlog: 120, Start: epoch})
	if other.Manifest(epoch)[0].Title == manifests[0][0].Title {
		t.Error("another seed gave the same first title")
	}
}

func TestManifestKinds(t *testing.T) {
	f := newFarm(t, Config{Backlog: 400, Start: epoch, Burst: Burst{Count: 6, At: -10 * time.Minute}})
	m := f.Manifest(epoch)
	kinds := map[string]int{}
	poisons := map[string]int{}
	ids := map[string]string{}
	bursts := 0
	for _, e := range m {
		kinds[e.Kind]++
		if e.Poison != "" {
			poisons[e.Poison]++
		}
		if e.Burst {
			bursts++
			if !strings.Contains(e.Title, "Vostok Bay earthquake") {
				t.Errorf("burst entry without the term: %q", e.Title)
			}
		}
		id, _, err := article.ChooseCanonical(e.URL, e.Canonical)
		if err != nil || id != e.ID {
			t.Errorf("%s: manifest id %s, ChooseCanonical %s (%v)", e.URL, e.ID, id, err)
		}
		if prev, ok := ids[e.ID]; ok && e.Kind != KindTracking {
			t.Errorf("id %s twice: %s and %s", e.ID, prev, e.URL)
		}
		ids[e.ID] = e.URL
	}
	for _, k := range []string{KindArticle, KindReprint, KindTracking, KindPoison} {
		if kinds[k] == 0 {
			t.Errorf("no %s entries: %v", k, kinds)
		}
	}
	if len(poisons) != 3 || bursts != 6 {
		t.Errorf("poisons %v, bursts %d; want 3 kinds and 6", poisons, bursts)
	}
	if want := 400 + 6 + kinds[KindReprint] + kinds[KindTracking]; len(m) != want {
		t.Errorf("%d entries, want %d", len(m), want)
	}
}

func TestServeFeedsSitemapsPages(t *testing.T) {
	// Live: a backlog, then 50 stories a second from a start 2 s ago.
	f := newFarm(t, Config{Backlog: 200, Rate: 50, Start: time.Now().Add(-2 * time.Second), FeedItems: 500})
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	mt := time.Now()
	manifest := f.Manifest(mt)
	if len(manifest) < 290 {
		t.Fatalf("manifest has %d entries after 2 s at 50/s over a backlog of 200", len(manifest))
	}
	want := map[string]Entry{}
	for _, e := range manifest {
		want[e.URL] = e
	}
	canonRe := regexp.MustCompile(`<link rel="canonical" href="([^"]+)">`)
	links := 0
	for _, s := range f.Sites() {
		t.Run(s.Name, func(t *testing.T) {
			res, b := get(s.FeedURL())
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(b))
			if res.StatusCode != 200 || err != nil {
				t.Fatalf("feed %s: %d %v", s.FeedURL(), res.StatusCode, err)
			}
			if len(feed.Items) == 0 {
				t.Fatal("empty feed")
			}
			for i, it := range feed.Items {
				if i == 40 {
					break
				}
				links++
				e, ok := want[it.Link]
				if !ok {
					if it.PublishedParsed != nil && !it.PublishedParsed.Before(mt.Add(-time.Second)) {
						continue // published after the manifest was taken
					}
					t.Errorf("feed link %s not in the manifest", it.Link)
					continue
				}
				res, body := get(it.Link)
				if res.StatusCode != 200 {
					t.Errorf("%s: status %d", it.Link, res.StatusCode)
					continue
				}
				if e.Kind == KindPoison {
					continue
				}
				m := canonRe.FindSubmatch(body)
				if m == nil {
					t.Errorf("%s: no canonical link", it.Link)
					continue
				}
				if id, _, _ := article.ChooseCanonical(it.Link, string(m[1])); id != e.ID {
					t.Errorf("%s: page gives id %s, manifest %s", it.Link, id, e.ID)
				}
				if !bytes.Contains(body, []byte(e.Title[:len(e.Title)/2])) && !strings.Contains(string(body), strings.ReplaceAll(e.Title[:len(e.Title)/2], "'", "&#39;")) {
					t.Errorf("%s: title %q not on the page", it.Link, e.Title)
				}
			}
			res, b = get(s.SitemapURL())
			if res.StatusCode != 200 || !bytes.Contains(b, []byte("<news:news>")) {
				t.Errorf("sitemap: %d %.200s", res.StatusCode, b)
			}
			if res, _ := get(s.BaseURL + "/robots.txt"); res.StatusCode != 200 {
				t.Errorf("robots.txt: %d", res.StatusCode)
			}
			if res, _ := get(s.BaseURL + "/world/2026/01/01/nothing-s999999.html"); res.StatusCode != 404 {
				t.Errorf("unknown page: %d", res.StatusCode)
			}
		})
	}
	if links == 0 {
		t.Fatal("no feed links")
	}
	if len(f.Served()) == 0 {
		t.Error("Served is empty")
	}
}

func TestPoisonPages(t *testing.T) {
	f := newFarm(t, Config{Backlog: 400, Start: time.Now().Add(-time.Second)})
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The raw transport: no transparent gunzip.
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	seen := map[string]bool{}
	for _, e := range f.Manifest(time.Now()) {
		if e.Kind != KindPoison || seen[e.Poison] {
			continue
		}
		seen[e.Poison] = true
		req, _ := http.NewRequest("GET", e.URL, nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: status %d", e.Poison, res.StatusCode)
		}
		switch e.Poison {
		case PoisonEmpty:
			if len(b) != 0 {
				t.Errorf("empty page has %d bytes", len(b))
			}
		case PoisonBinary:
			if len(b) != 16<<10 || bytes.Contains(b, []byte("<html")) {
				t.Errorf("binary page: %d bytes", len(b))
			}
		case PoisonGzipBomb:
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip bomb: %v %q", err, res.Header.Get("Content-Encoding"))
			}
			n, _ := io.Copy(io.Discard, zr)
			if len(b) > 64<<10 || n != 32<<20 {
				t.Errorf("gzip bomb: %d bytes inflate to %d", len(b), n)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("poison kinds seen: %v", seen)
	}
}

func TestWARCReadsBack(t *testing.T) {
	for _, plain := range []bool{false, true} {
		f := newFarm(t, Config{Backlog: 60, Start: epoch})
		var buf bytes.Buffer
		st, err := f.WriteWARC(&buf, epoch, WARCOptions{Plain: plain})
		if err != nil {
			t.Fatal(err)
		}
		m := f.Manifest(epoch)
		if st.Responses != len(m) || st.Records != 2*len(m)+1 {
			t.Fatalf("plain=%v: stats %+v for %d entries", plain, st, len(m))
		}
		r, err := gowarc.NewWarcFileReaderFromStream(bytes.NewReader(buf.Bytes()), 0, gowarc.WithStrictValidation())
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rec, err := range r.Records() {
			if err != nil {
				t.Fatalf("plain=%v: record: %v", plain, err)
			}
			if rec.WarcRecord.Type() == gowarc.Response {
				if got := rec.WarcRecord.WarcHeader().Get(gowarc.WarcTargetURI); got != m[i].URL {
					t.Errorf("response %d: %s, manifest %s", i, got, m[i].URL)
				}
				i++
			}
			_ = rec.Close()
		}
		_ = r.Close()
		if i != len(m) {
			t.Errorf("plain=%v: %d responses read, %d written", plain, i, len(m))
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"bad language", Config{Languages: []string{"xx"}}, false},
		{"negative rate", Config{Rate: -1}, false},
		{"too many sites", Config{Sites: 501}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.c)
			if (err == nil) != tt.ok {
				t.Errorf("New: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
