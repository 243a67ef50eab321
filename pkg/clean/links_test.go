package clean

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
)

// TestSamePageLinksAreNotNavigation: lines equal to the text of a same-site link are dropped
// as related-article lists, but a table of contents links the page's own headings
// (href="/guide/page.html#part"); those headings are text.
func TestSamePageLinksAreNotNavigation(t *testing.T) {
	const pageURL = "https://ratgeber.example/auto/reifen-wechseln-ratgeber.html"
	heads := []string{"Wann sollte man die Reifen wechseln?", "Welches Werkzeug braucht man dafür?", "Wohin mit den alten Reifen?"}
	var b strings.Builder
	b.WriteString(`<html><head><title>Reifen wechseln: der Ratgeber</title></head><body>
<nav><a href="/">Start</a> <a href="/auto/">Auto</a> <a href="/auto/zehn-tipps-fuer-den-winter.html">Zehn Tipps für den Winter im Auto</a></nav>
<article><h1>Reifen wechseln: der Ratgeber</h1><ul class="toc">`)
	for i, h := range heads {
		fmt.Fprintf(&b, `<li><a href="/auto/reifen-wechseln-ratgeber.html#teil%d">%s</a></li>`, i, h)
	}
	b.WriteString(`</ul>`)
	for i, h := range heads {
		fmt.Fprintf(&b, `<h2 id="teil%d">%s</h2><p>%s</p>`, i, h, []string{
			"Von Oktober bis Ostern gilt die Faustregel für Winterreifen. Wer früher wechselt, ist bei den ersten Nachtfrösten auf der sicheren Seite, und die Werkstätten haben dann noch freie Termine.",
			"Ein Wagenheber, ein Drehmomentschlüssel und ein Radkreuz genügen. Die Radmuttern sollten nach fünfzig Kilometern noch einmal nachgezogen und der Luftdruck an der Tankstelle geprüft werden.",
			"Altreifen nehmen Händler und Wertstoffhöfe gegen eine kleine Gebühr zurück. In den Hausmüll gehören sie nicht, und im Wald abgeladen werden sie teuer: Das Bußgeld beträgt mehrere hundert Euro.",
		}[i])
	}
	b.WriteString(`<h3>Mehr aus der Rubrik</h3><ul><li><a href="/auto/zehn-tipps-fuer-den-winter.html">Zehn Tipps für den Winter im Auto</a></li></ul>
</article></body></html>`)
	c, err := New(DefaultConfig(), zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Clean(context.Background(), "links", &article.Raw{URL: pageURL, ContentType: "text/html", Body: b.String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range heads {
		if !strings.Contains(out.Text, want) {
			t.Errorf("missing %q in %q", want, out.Text)
		}
	}
	if strings.Contains(out.Text, "Zehn Tipps für den Winter im Auto") {
		t.Errorf("related-article link kept: %q", out.Text)
	}
}

func TestSameSiteLink(t *testing.T) {
	const pageURL = "https://news.example/politik/2024/wahl.html"
	page, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		href string
		want bool
	}{
		{"/politik/2024/andere-meldung.html", true},
		{"https://www.news.example/sport/", true},
		{"https://elsewhere.example/quelle", false},
		{"#abschnitt-2", false},
		{"/politik/2024/wahl.html#abschnitt-2", false},        // table of contents
		{"https://news.example/politik/2024/wahl.html", true}, // the page itself: a permalink, a button
		{"/downloads/Wahlprogramm.PDF", false},                // a file, not an article
		{"/bilder/plakat.jpg", false},
		{"mailto:redaktion@news.example", false},
	} {
		t.Run(tc.href, func(t *testing.T) {
			if got := sameSiteLink(pageURL, page, tc.href); got != tc.want {
				t.Errorf("sameSiteLink(%q) = %v, want %v", tc.href, got, tc.want)
			}
		})
	}
}
