package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/newsflow/newsflow/pkg/article"
)

const russianBody = "Президент России подписал закон о бюджете на следующий год. Документ предусматривает рост расходов на образование и здравоохранение, а также снижение дефицита. Эксперты считают, что экономика страны продолжит расти."

func encodeAs(t *testing.T, name, s string) []byte {
	t.Helper()
	enc, _ := charset.Lookup(name)
	b, _, err := transform.Bytes(enc.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPageEncodings: pages whose declared charset is missing or contradicted by the bytes
// are published as the right UTF-8 text, with the charset and what decided it.
func TestPageEncodings(t *testing.T) {
	html := func(head string, body []byte) []byte {
		return append(append([]byte("<html><head>"+head+"<title>x</title></head><body><p>"), body...), "</p></body></html>"...)
	}
	japanese := "東京都は新しい対策を発表しました。都内の飲食店には営業時間の短縮が要請されました。"
	tests := []struct {
		name, contentType       string
		body                    []byte
		want                    string
		wantCharset, wantSource string
	}{
		{"undeclared cp1251", "text/html", html("", encodeAs(t, "windows-1251", russianBody)), russianBody, "windows-1251", article.CharsetDetected},
		{"UTF-8 under meta shift_jis", "text/html", html("<meta charset=shift_jis>", []byte(japanese)), japanese, "", article.CharsetBytes},
		{"cp1251 declared as UTF-8", "text/html; charset=UTF-8", html("", encodeAs(t, "windows-1251", russianBody)), russianBody, "windows-1251", article.CharsetDetected},
		{"declared and right", "text/html; charset=windows-1251", html("", encodeAs(t, "windows-1251", russianBody)), russianBody, "windows-1251", article.CharsetHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			s.add("/rss", "p1")
			s.extra["/a/p1"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Header().Set("Content-Language", "ru")
				w.Write(tt.body)
			}
			pub := &capture{}
			newTestFetcher(t, testConfig(), []Source{{Name: "enc", URL: s.url("/rss")}}, NewMemStore(), pub).PollFeed(context.Background(), 0)
			raw, body := onlyRaw(t, pub)
			if !strings.Contains(body, tt.want) {
				t.Errorf("body = %.200q", body)
			}
			if raw.HTTP == nil || raw.HTTP.Charset != tt.wantCharset || raw.HTTP.CharsetSource != tt.wantSource || raw.HTTP.ContentLanguage != "ru" {
				t.Errorf("http facts = %+v", raw.HTTP)
			}
		})
	}
}

// onlyRaw returns the one raw article published and its body.
func onlyRaw(t *testing.T, pub *capture) (*article.Raw, string) {
	t.Helper()
	env := pub.envelopes(t)
	if len(env) != 1 {
		t.Fatalf("%d envelopes, want 1", len(env))
	}
	body, err := env[0].Raw.Text()
	if err != nil {
		t.Fatal(err)
	}
	return env[0].Raw, body
}

// TestBrotli: br bodies are decoded, with the same decompressed-size limit as gzip.
func TestBrotli(t *testing.T) {
	compress := func(b []byte) []byte {
		var buf bytes.Buffer
		w := brotli.NewWriterLevel(&buf, 5)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	small := compress([]byte("<html><body><p>brotli page</p></body></html>"))
	bomb := compress(make([]byte, 8<<20)) // 8 MiB of zeros: a few KiB on the wire
	var gotAE string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAE = r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Encoding", "br")
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/bomb" {
			w.Write(bomb)
			return
		}
		w.Write(small)
	}))
	defer srv.Close()
	cfg := testConfig().Defaults()
	c, err := newClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	tests := []struct {
		name     string
		path     string
		truncate bool
		wantErr  error
		wantLen  int
	}{
		{"page", "/", true, nil, len("<html><body><p>brotli page</p></body></html>")},
		{"bomb as a page is cut at the page limit", "/bomb", true, nil, int(cfg.MaxPageBytes)},
		{"bomb as a feed fails", "/bomb", false, ErrBodyTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.do(context.Background(), request{URL: srv.URL + tt.path, MaxBytes: cfg.MaxPageBytes, Truncate: tt.truncate, ToUTF8: true})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Body) != tt.wantLen || resp.Truncated != (tt.path == "/bomb") {
				t.Errorf("len %d truncated %v", len(resp.Body), resp.Truncated)
			}
			if resp.WireBytes > 1<<20 {
				t.Errorf("read %d wire bytes", resp.WireBytes)
			}
		})
	}
	if !strings.Contains(gotAE, "br") {
		t.Errorf("Accept-Encoding %q lacks br", gotAE)
	}
}
