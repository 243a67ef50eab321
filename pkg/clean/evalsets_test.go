package clean

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/fetch"
)

// The shared evaluation sets, relative to this package (../shared next to the repo).
const sharedEval = "../../../shared/eval"

// evalDoc is one real document of the shared evaluation sets as the cleaner receives it.
type evalDoc struct {
	set, id string
	raw     *article.Raw
}

// sharedEvalDocs loads the pages of ../shared/eval/extraction and ../shared/eval/multilingual
// and every item of the feeds under ../shared/eval/feeds as the fetcher hands them to the
// cleaner when the item's text is the body (feed_fallback / full-content). It skips the test
// when the sets are absent (outside CI).
func sharedEvalDocs(t testing.TB) []evalDoc {
	t.Helper()
	if _, err := os.Stat(sharedEval); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared eval sets missing in CI: %v", err)
		}
		t.Skipf("shared eval sets not present: %v", err)
	}
	var docs []evalDoc
	var gt map[string]struct {
		URL string `json:"url"`
	}
	readJSON(t, filepath.Join(sharedEval, "extraction", "ground-truth.json"), &gt)
	for id, v := range gt {
		docs = append(docs, evalDoc{"extraction", id, &article.Raw{URL: v.URL, ContentType: "text/html",
			Body: readGzip(t, filepath.Join(sharedEval, "extraction", "html", id+".html.gz"))}})
	}
	var ml map[string]struct {
		File string `json:"file"`
	}
	readJSON(t, filepath.Join(sharedEval, "multilingual", "evaldata.json"), &ml)
	for u, v := range ml {
		docs = append(docs, evalDoc{"multilingual", v.File, &article.Raw{URL: u, ContentType: "text/html",
			Body: readGzip(t, filepath.Join(sharedEval, "multilingual", "html", v.File+".gz"))}})
	}
	for _, it := range sharedFeedItems(t) {
		// As fetch's buildRaw assembles it: the item's dates (parsed, else their text), the feed's
		// declared language, the sitemap language hint, the fetch time.
		raw := &article.Raw{URL: it.Link, FetchedAt: sharedFetchedAt, Source: article.Source{Language: it.Language},
			Feed: &article.FeedItem{GUID: it.GUID, Title: it.Title, Description: it.Description,
				Content: it.Content, Authors: it.Authors, Categories: it.Categories, Published: it.Published, Updated: it.Updated,
				Language: it.FeedLanguage, PublishedText: it.PublishedText, UpdatedText: it.UpdatedText}}
		if strings.TrimSpace(it.Content) == "" {
			// The fetcher's feed_fallback body (a page that cannot be fetched).
			raw.ContentType, raw.Body, raw.Extra = "text/html", it.Description, map[string]string{"body_source": "feed_fallback"}
		}
		if strings.TrimSpace(it.Content+it.Description) != "" {
			docs = append(docs, evalDoc{"feeds", it.file + " " + firstNonEmpty(it.GUID, it.Link), raw})
		}
	}
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].set != docs[j].set {
			return docs[i].set < docs[j].set
		}
		return docs[i].id < docs[j].id
	})
	return docs
}

// sharedFetchedAt is the fetch time given to the shared feed items.
var sharedFetchedAt = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type sharedFeedItem struct {
	fetch.Item
	file string
}

// sharedFeedItems parses every feed file under ../shared/eval/feeds with the fetcher's parser.
func sharedFeedItems(t testing.TB) []sharedFeedItem {
	t.Helper()
	dir := filepath.Join(sharedEval, "feeds")
	var out []sharedFeedItem
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		parsed, err := fetch.ParseFeed(b, "https://feeds.example/"+d.Name(), "", fetch.ParseLimits{})
		if err != nil {
			return nil // ill-formed feeds are the parser's business
		}
		rel, _ := filepath.Rel(dir, p)
		for _, it := range parsed.Items {
			out = append(out, sharedFeedItem{it, rel})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readGzip(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}
