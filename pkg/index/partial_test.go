package index

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/article/articletest"
)

// TestDocFromPartialDecode: the indexer decodes enriched envelopes without the members it does
// not index (article.IndexerSkips). On the news farm's enriched envelopes (synthetic pages
// through the real cleaner and enricher, pkg/article/testdata) the bulk item — index, id,
// version and the document's bytes — is the one a full decode gives.
func TestDocFromPartialDecode(t *testing.T) {
	ix := &Indexer{cfg: Config{}.Defaults(), names: Names{Prefix: "partial"}}
	n, langCopies := 0, 0
	for _, b := range articletest.FarmEnvelopes(t) {
		full, err := article.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		part, err := article.DecodeWithout(b, article.IndexerSkips...)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Enriched.Paragraphs) == 0 || part.Enriched.Paragraphs != nil {
			t.Fatalf("%s: %d paragraphs in the full decode, %d in the partial one", full.ID, len(full.Enriched.Paragraphs), len(part.Enriched.Paragraphs))
		}
		fi, err := ix.item(full)
		if err != nil {
			t.Fatal(err)
		}
		pi, err := ix.item(part)
		if err != nil {
			t.Fatal(err)
		}
		fb, _ := io.ReadAll(fi.Body)
		pb, _ := io.ReadAll(pi.Body)
		if !bytes.Equal(fb, pb) {
			t.Fatalf("%s: documents differ\nfull    %s\npartial %s", full.ID, fb, pb)
		}
		if fi.Index != pi.Index || fi.DocumentID != pi.DocumentID || *fi.Version != *pi.Version || fi.VersionType != pi.VersionType {
			t.Fatalf("%s: bulk items differ: %s/%s/%d vs %s/%s/%d", full.ID, fi.Index, fi.DocumentID, *fi.Version, pi.Index, pi.DocumentID, *pi.Version)
		}
		var doc ArticleDoc
		if err := json.Unmarshal(pb, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Text == "" || len(doc.EntityDetails) == 0 {
			t.Fatalf("%s: document without text or entities", full.ID)
		}
		if doc.TextLang != nil {
			langCopies++
		}
		n++
	}
	if n < 100 || langCopies == 0 {
		t.Fatalf("%d envelopes, %d with a text_lang copy", n, langCopies)
	}
}
