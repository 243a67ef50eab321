package clean

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
)

// mojibakeRe matches the commonest mojibake: UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™",
// "Ð¿"), and U+FFFD.
var mojibakeRe = regexp.MustCompile(`Ã[\x{80}-\x{BF}]|â€|Ð[\x{80}-\x{BF}]|Ñ[\x{80}-\x{8F}]|\x{FFFD}`)

// TestSharedEncodings runs the charset decision over every page of the shared evaluation
// sets (../shared/eval/extraction, ../shared/eval/multilingual; most stored as UTF-8, a few
// in their original charset) and counts mojibake in the cleaned documents of those sets and
// of every item of the real-world feeds under ../shared/eval/feeds. UTF-8 pages must decode
// to themselves, the others without mojibake; no cleaned document may carry mojibake.
func TestSharedEncodings(t *testing.T) {
	c := newTestCleaner(t)
	bySource := map[string]int{}
	changed, docs, moji := 0, 0, 0
	for _, d := range sharedEvalDocs(t) {
		if d.set != "feeds" {
			out, dec := article.DecodeHTML([]byte(d.raw.Body), d.raw.ContentType)
			bySource[dec.Source]++
			switch {
			case utf8.ValidString(d.raw.Body) && string(out) != d.raw.Body:
				t.Errorf("%s %s: decoded as %+v, not as the UTF-8 it is", d.set, d.id, dec)
			case !utf8.ValidString(d.raw.Body):
				changed++
				t.Logf("%s %s: stored in %s (%s)", d.set, d.id, dec.Charset, dec.Source)
				// (U+FFFD is allowed here: UTF-8 pages with a few stray bytes keep them as such)
				if m := mojibakeRe.FindString(strings.ReplaceAll(string(out), "\uFFFD", "")); m != "" {
					t.Errorf("%s %s: mojibake %q after decoding as %+v", d.set, d.id, m, dec)
				}
			}
		}
		out, err := c.Clean(t.Context(), d.id, d.raw)
		if err != nil {
			continue
		}
		docs++
		if m := mojibakeRe.FindString(out.Title + " " + out.Text); m != "" {
			moji++
			t.Logf("mojibake %q in %s %s", m, d.set, d.id)
		}
	}
	t.Logf("pages: charset decided by %v, %d not stored as UTF-8; cleaned documents %d, with mojibake %d", bySource, changed, docs, moji)
	if moji > 0 {
		t.Errorf("%d documents with mojibake", moji)
	}
}
