package clean

import (
	"fmt"
	"os"
	"testing"
)

// TestSharedFeedsLanguageAndDates runs every item of the real-world feeds under
// ../shared/eval/feeds through the fetcher's parser and the cleaner and counts documents with
// no language and documents whose date fell back to the fetch time. NEWSFLOW_LANGDATE_DUMP=1
// prints one line per document (language, confidence, source, date source, feed language,
// feed date text, text) for labelling.
func TestSharedFeedsLanguageAndDates(t *testing.T) {
	c := newTestCleaner(t)
	docs, noLang, fetched := 0, 0, 0
	bySrc := map[string]int{}
	for _, d := range sharedEvalDocs(t) {
		if d.set != "feeds" {
			continue
		}
		out, err := c.Clean(t.Context(), d.id, d.raw)
		if err != nil {
			continue
		}
		docs++
		if out.Language == "" {
			noLang++
		}
		if out.DateSource == "fetched" {
			fetched++
		}
		bySrc[out.LanguageSource]++
		if os.Getenv("NEWSFLOW_LANGDATE_DUMP") != "" {
			fmt.Printf("%s\t%s\t%.2f\t%s\t%s\tfeedlang=%q\tdatetext=%q\tpub=%v\t%.80q\n", d.id, out.Language, out.LanguageConf,
				out.LanguageSource, out.DateSource, d.raw.Feed.Language, d.raw.Feed.PublishedText, out.PublishedAt, out.Title+" | "+out.Text)
		}
	}
	t.Logf("feed documents cleaned %d, no language %d, date = fetch time %d, language sources %v", docs, noLang, fetched, bySrc)
}
