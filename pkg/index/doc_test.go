package index

import (
	"testing"
	"time"
)

func TestNewArticleDocLanguageCopy(t *testing.T) {
	tests := []struct {
		name     string
		lang     string
		wantCopy bool
	}{
		{name: "english is analysed by the main fields' english subfields", lang: "en"},
		{name: "german gets a german-analysed copy", lang: "de", wantCopy: true},
		{name: "unsupported language has no copy", lang: "xx"},
		{name: "unknown language has no copy", lang: ""},
	}
	mapped := MappedFields(ArticleMapping())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := enriched(1, time.Now(), "title")
			env.Enriched.Language = tt.lang
			d := NewArticleDoc(env.ID, env.Enriched)
			lt, ok := d.TextLang[tt.lang]
			if ok != tt.wantCopy {
				t.Fatalf("text_lang[%q] present = %v, want %v", tt.lang, ok, tt.wantCopy)
			}
			if ok {
				if lt.Text != env.Enriched.Text || lt.Title != env.Enriched.Title {
					t.Fatalf("copy differs: %+v", lt)
				}
				if mapped["text_lang."+tt.lang+".text"] != "text" {
					t.Fatalf("text_lang.%s.text is not mapped", tt.lang)
				}
			}
		})
	}
	for _, f := range []string{"title.english", "text.english", "title.keyword"} {
		if mapped[f] == "" {
			t.Errorf("%s is not mapped", f)
		}
	}
}
