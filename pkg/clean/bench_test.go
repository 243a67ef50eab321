package clean

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/RadhiFadlillah/whatlanggo"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"github.com/pemistahl/lingua-go"
	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/pkg/article"
)

var benchPages = []string{"page1.html", "page2.html", "page3.html"}

// BenchmarkClean measures the full cleaner per page; compare with BenchmarkTrafilatura and
// BenchmarkReadability (the plain libraries) from the same run: the ratio is what matters on
// a noisy machine. pages/s = 1e9 / (ns/op).
func BenchmarkClean(b *testing.B) {
	cfg := DefaultConfig()
	cfg.DisableDedup = true // every iteration would be a duplicate otherwise
	c, err := New(cfg, zap.NewNop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range benchPages {
		body := readPage(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; b.Loop(); i++ {
				raw := &article.Raw{URL: "https://news.example/a", ContentType: "text/html", Body: body, Source: article.Source{Domain: fmt.Sprint(i)}}
				if _, err := c.Clean(context.Background(), fmt.Sprint(i), raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrafilatura is plain go-trafilatura (fallback enabled, its defaults otherwise).
func BenchmarkTrafilatura(b *testing.B) {
	u, _ := url.Parse("https://news.example/a")
	for _, name := range benchPages {
		body := readPage(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := trafilatura.Extract(strings.NewReader(body), trafilatura.Options{OriginalURL: u, EnableFallback: true, ExcludeComments: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadability is plain go-readability v2.
func BenchmarkReadability(b *testing.B) {
	u, _ := url.Parse("https://news.example/a")
	for _, name := range benchPages {
		body := readPage(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				doc, err := html.Parse(bytes.NewReader([]byte(body)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := readability.FromDocument(doc, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlainText is the text/plain path (seed article).
func BenchmarkPlainText(b *testing.B) {
	cfg := DefaultConfig()
	cfg.DisableDedup = true
	c, _ := New(cfg, zap.NewNop(), nil)
	body := readPage(b, "seed-article.txt")
	for i := 0; b.Loop(); i++ {
		if _, err := c.Clean(context.Background(), fmt.Sprint(i), &article.Raw{ContentType: "text/plain", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLanguage compares whatlanggo (used) with lingua-go restricted to the same set, on
// the seed article's text. Run with -benchmem to see lingua's allocation cost.
func BenchmarkLanguage(b *testing.B) {
	text := readPage(b, "seed-article.txt")
	b.Run("whatlanggo", func(b *testing.B) {
		ls, _ := langWhitelist(DefaultConfig().Languages)
		for b.Loop() {
			ls.detect(text)
		}
	})
	b.Run("lingua", func(b *testing.B) {
		d := lingua.NewLanguageDetectorBuilder().FromLanguages(lingua.English, lingua.Spanish, lingua.French,
			lingua.German, lingua.Italian, lingua.Portuguese, lingua.Dutch, lingua.Russian, lingua.Ukrainian,
			lingua.Polish, lingua.Arabic, lingua.Chinese, lingua.Japanese, lingua.Turkish, lingua.Swedish, lingua.Hindi).Build()
		for b.Loop() {
			d.DetectLanguageOf(text)
		}
	})
	_ = whatlanggo.Eng
}
