package clean

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
)

// leadPage builds a synthetic article page: site navigation, a headline, a standfirst in a
// "teaser" element (the element class trafilatura discards as a link teaser), the article
// body and a footer; desc is the page's meta description.
func leadPage(desc, standfirst string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="de"><head><title>Neue Brücke über den Fluss eröffnet - Stadtanzeiger</title>
<meta name="description" content="%s"><meta property="og:description" content="%s"></head><body>
<nav><ul><li><a href="/">Start</a></li><li><a href="/politik">Politik</a></li><li><a href="/kultur">Kultur</a></li></ul></nav>
<main><article><header><h1>Neue Brücke über den Fluss eröffnet</h1>
<div class="teaser-text"><p>%s</p></div></header>
<div class="article-body">`, desc, desc, standfirst)
	for i, w := range []string{"Stadtverwaltung", "Bauaufsicht", "Bürgermeisterin", "Planungsamt", "Ingenieurkammer", "Verkehrsbehörde"} {
		fmt.Fprintf(&b, `<p>Absatz %d: Die Arbeiten an dem Bauwerk dauerten nach Angaben der %s knapp %d Monate, weil der Untergrund am östlichen Ufer schwieriger war als erwartet und mehrere Gutachten nötig wurden. Anwohner der %d Häuser hatten sich seit langem eine bessere Verbindung zwischen den beiden Stadtteilen gewünscht.</p>`, i+1, w, 30+i, 12*i+7)
	}
	b.WriteString(`</div></article></main><footer><p>© Stadtanzeiger. Alle Rechte vorbehalten.</p></footer></body></html>`)
	return b.String()
}

func TestStandfirstRecoveredFromDescription(t *testing.T) {
	const two = "Nach drei Jahren Bauzeit ist die neue Brücke über den Fluss für den Verkehr freigegeben worden. Fußgänger und Radfahrer haben künftig eine eigene Spur, Autos bleiben ausgeschlossen."
	const one = "Nach drei Jahren Bauzeit ist die neue Brücke freigegeben worden."
	for _, tc := range []struct {
		name, desc, standfirst string
		want                   bool
	}{
		{"printed standfirst equal to the description", two, two, true},
		{"description cut short with an ellipsis", strings.Join(strings.Fields(two)[:18], " ") + "…", two, true},
		{"description escaped twice", strings.ReplaceAll(two, " ", "&amp;nbsp;"), two, true},
		{"one-sentence dek is a subtitle, not body text", one, one, false},
		{"description not printed on the page", two, "Lesen Sie hier alles über das Bauwerk und seine Geschichte im Überblick.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(DefaultConfig(), zap.NewNop(), nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Clean(context.Background(), "lead", &article.Raw{URL: "https://stadtanzeiger.example/lokales/bruecke",
				ContentType: "text/html", Body: leadPage(tc.desc, tc.standfirst)})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.Text, "Absatz 6") {
				t.Fatalf("article body missing: %q", out.Text)
			}
			got := strings.Contains(out.Text, tc.standfirst)
			if got != tc.want {
				t.Errorf("standfirst in text = %v, want %v; text starts %q", got, tc.want, out.Text[:min(300, len(out.Text))])
			}
			if tc.want && !strings.HasPrefix(out.Text, tc.standfirst) {
				t.Errorf("standfirst not first: %q", out.Text[:min(300, len(out.Text))])
			}
			if strings.Count(out.Text, "Bauzeit") > 1 {
				t.Errorf("standfirst repeated: %q", out.Text)
			}
		})
	}
}
