package fetch

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// checkSources asserts the invariants every successfully parsed source list holds.
func checkSources(t *testing.T, srcs []Source) {
	t.Helper()
	seen := map[string]bool{}
	for i, s := range srcs {
		if s.URL == "" {
			t.Fatalf("source #%d: empty URL", i)
		}
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("source #%d: URL %q is not absolute http(s)", i, s.URL)
		}
		if !s.Kind.valid() {
			t.Fatalf("source #%d: invalid kind %q", i, s.Kind)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("source #%d: parsed source fails Validate: %v", i, err)
		}
		if seen[s.URL] {
			t.Fatalf("source #%d: duplicate URL %q survived", i, s.URL)
		}
		seen[s.URL] = true
	}
}

func addFileSeed(f *testing.F, name string) {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzParseSourcesYAML(f *testing.F) {
	addFileSeed(f, "sources.yaml")
	f.Add([]byte("sources:\n  - url: https://a.example/feed\n"))
	f.Add([]byte("- url: https://a.example/feed\n  kind: RSS\n  interval: 5m\n"))
	f.Add([]byte("- url: ftp://a.example/feed\n"))
	f.Add([]byte("- url: https://a.example/\n  kind: nope\n"))
	f.Add([]byte("- url: https://a.example/\n  interval: -1s\n"))
	f.Add([]byte("sources: 3\n"))
	f.Add([]byte("{"))
	f.Add([]byte(""))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		srcs, err := ParseSourcesYAML(b)
		if err != nil {
			if srcs != nil {
				t.Fatalf("error %v with non-nil result", err)
			}
			return
		}
		checkSources(t, srcs)
	})
}

func FuzzParseOPML(f *testing.F) {
	addFileSeed(f, "sources.opml")
	f.Add([]byte(`<opml version="2.0"><body><outline text="a" xmlUrl="https://a.example/rss"/></body></opml>`))
	f.Add([]byte(`<opml><body><outline title="News"><outline text="b" xmlUrl=" http://b.example/x "/></outline></body></opml>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><opml><body><outline text="\xe9" xmlUrl="https://c.example/"/></body></opml>`))
	f.Add([]byte(`<opml><body><outline xmlUrl="javascript:alert(1)"/></body></opml>`))
	f.Add([]byte(`<opml><body></body></opml>`))
	f.Add([]byte(`<opml><body><outline`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		srcs, err := ParseOPML(b)
		if err != nil {
			if srcs != nil {
				t.Fatalf("error %v with non-nil result", err)
			}
			return
		}
		if len(srcs) == 0 {
			t.Fatal("nil error with no sources")
		}
		checkSources(t, srcs)
	})
}
