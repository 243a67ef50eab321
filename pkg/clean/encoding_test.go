package clean

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/newsflow/newsflow/pkg/article"
)

const cyrillicArticle = "Президент России подписал закон о федеральном бюджете на следующий год. Документ предусматривает рост расходов на образование и здравоохранение, а также постепенное снижение дефицита бюджета.\n\n" +
	"Эксперты считают, что экономика страны продолжит расти, несмотря на внешние ограничения и падение цен на нефть. Правительство обещает поддержать малый бизнес, увеличить пенсии и зарплаты бюджетникам в течение года."

func cp1251(t *testing.T, s string) string {
	t.Helper()
	enc, _ := charset.Lookup("windows-1251")
	b, _, err := transform.Bytes(enc.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMisdeclaredEncoding: cp1251 bytes declared as UTF-8 are recovered when the bytes reach
// the cleaner, and dead-lettered as an encoding problem (not "removed as boilerplate") when
// they were already turned into U+FFFD on the way.
func TestMisdeclaredEncoding(t *testing.T) {
	c := newTestCleaner(t)
	page := func(body string) string {
		return "<html><head><meta charset=\"utf-8\"><title>Бюджет</title></head><body><article><p>" +
			strings.ReplaceAll(body, "\n\n", "</p><p>") + "</p></article></body></html>"
	}
	lost := strings.ToValidUTF8(page(cp1251(t, cyrillicArticle)), "\uFFFD")
	tests := []struct {
		name    string
		body    string
		wantErr error
	}{
		{"cp1251 bytes declared UTF-8 are decoded", page(cp1251(t, cyrillicArticle)), nil},
		{"cp1251 already lost to U+FFFD is an encoding error", lost, ErrEncoding},
		{"UTF-8 with a few U+FFFD is kept", page(cyrillicArticle + " \uFFFD\uFFFD"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.Clean(t.Context(), "id", &article.Raw{URL: "https://ru.example/a", ContentType: "text/html; charset=utf-8", Body: tt.body})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || strings.Contains(err.Error(), "boilerplate") {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.Text, "Эксперты считают") || out.Language != "ru" {
				t.Errorf("language %q text %.120q", out.Language, out.Text)
			}
		})
	}
}

// TestContentLanguageHeaderIsAPrior: the HTTP Content-Language header (raw.http) decides a
// weak guess when the page declares nothing, and is reported as source "http".
func TestContentLanguageHeaderIsAPrior(t *testing.T) {
	c := newTestCleaner(t)
	const title, desc = "Troubleshoot AKS cluster issues with AKS Diagnostics and AKS Periscope", "Yun Jung Choi shows Scott Hanselman..."
	for _, tc := range []struct {
		name, header, wantLang, wantSrc string
	}{
		{"header beats a weak guess", "en-GB", "en", "http"},
		{"no header", "", "sv", "detected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := &article.Raw{URL: "https://news.example/a/3", ContentType: "text/html", HTTP: &article.HTTPFacts{Status: 200, ContentLanguage: tc.header},
				Body: `<html><head><title>` + title + `</title></head><body><article><h1>` + title + `</h1><p>` + desc + `</p></article></body></html>`}
			out, err := c.Clean(t.Context(), "id", raw)
			if err != nil {
				t.Fatal(err)
			}
			if out.Language != tc.wantLang || out.LanguageSource != tc.wantSrc {
				t.Errorf("language %q source %q, want %q from %q", out.Language, out.LanguageSource, tc.wantLang, tc.wantSrc)
			}
		})
	}
}
