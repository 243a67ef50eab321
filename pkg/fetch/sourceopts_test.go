package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"
)

// TestCheckSourcesYAML: unknown keys and invalid sources are all reported, each with its line.
func TestCheckSourcesYAML(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantN     int      // valid sources
		wantLines []string // "line N: substring", in order
	}{
		{"valid with fetch options", `sources:
  - name: licensed
    url: https://wire.example.com/rss
    options:
      headers: {Authorization: "Bearer s3cret"}
      cookies: {consent: "yes", session: abc}
      proxy: socks5://user:pw@10.0.0.1:1080
      render: js
`, 1, nil},
		{"misspelt key", `sources:
  - url: https://a.example.com/rss
    langauge: de
`, 0, []string{"line 3: source #1: field langauge not found"}},
		{"all problems listed", `sources:
  - url: https://a.example.com/rss
    langauge: de
  - url: https://b.example.com/rss
    kind: podcast
  - url: https://c.example.com/rss
    options:
      proxy: ftp://p.example.com:21
      renderr: js
  - url: https://d.example.com/rss
extra: 1
`, 1, []string{
			"line 3: source #1: field langauge not found",
			"line 4: source #2: ", "unknown kind \"podcast\"",
			"line 9: source #3: field renderr not found",
			"line 11: unknown key \"extra\"",
		}},
		{"bad option values", `- url: https://a.example.com/rss
  options:
    headers: {"Bad Header": x}
- url: https://b.example.com/rss
  options: {render: maybe}
- url: https://c.example.com/rss
  options: {headers: {Cookie: "a=b"}}
- url: https://d.example.com/rss
  options: {proxy: "http://p.example.com"}
`, 0, []string{"line 1: source #1: ", "invalid header name", "line 4: source #2: ", "render \"maybe\"", "line 6: source #3: ", "Cookie is set by the fetcher", "line 8: source #4: ", "want host:port"}},
		{"wrong type", "- url: https://a.example.com/rss\n  interval: soon\n", 0, []string{"line 2: source #1: "}},
		{"syntax error", "sources:\n  - url: [\n", 0, []string{"line "}},
		{"empty", "", 0, []string{"empty sources file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs, probs := CheckSourcesYAML([]byte(tt.yaml))
			if len(srcs) != tt.wantN {
				t.Errorf("%d valid sources, want %d: %+v", len(srcs), tt.wantN, srcs)
			}
			var all []string
			for _, p := range probs {
				all = append(all, p.Error())
			}
			joined := strings.Join(all, "\n")
			pos := 0
			for _, w := range tt.wantLines {
				i := strings.Index(joined[pos:], w)
				if i < 0 {
					t.Fatalf("problems lack %q (in order):\n%s", w, joined)
				}
				pos += i + len(w)
			}
			if len(tt.wantLines) == 0 && len(probs) > 0 {
				t.Fatalf("unexpected problems:\n%s", joined)
			}
			_, err := ParseSourcesYAML([]byte(tt.yaml))
			if (err != nil) != (len(probs) > 0) {
				t.Errorf("ParseSourcesYAML err %v with %d problems", err, len(probs))
			}
			if strings.Contains(joined, "s3cret") || strings.Contains(joined, "pw@") {
				t.Error("a secret in the problems")
			}
		})
	}
}

// TestSecretsNeverPrinted: header and cookie values stay out of fmt, JSON and zap output.
func TestSecretsNeverPrinted(t *testing.T) {
	src := Source{Name: "s", URL: "https://a.example.com/rss", Options: SourceOptions{
		Headers: Secrets{"Authorization": "Bearer s3cret"}, Cookies: Secrets{"session": "s3cret"}}}
	core, logs := observer.New(zapcore.DebugLevel)
	zap.New(core).Info("source", zap.Any("src", src), zap.Stringer("headers", src.Options.Headers))
	j, _ := json.Marshal(src)
	y, _ := yaml.Marshal(src)
	outputs := []string{fmt.Sprintf("%v %+v %#v %s", src, src, src, src.Options.Cookies), string(j), string(y)}
	for _, e := range logs.All() {
		b, _ := json.Marshal(e.ContextMap())
		outputs = append(outputs, string(b))
	}
	for _, o := range outputs {
		if strings.Contains(o, "s3cret") {
			t.Errorf("secret printed: %s", o)
		}
	}
}

// TestPerSourceHeadersCookiesProxy: a source's headers and cookies reach its own site (feed
// and pages) but not other sites its feed links to; its proxy carries its requests.
func TestPerSourceHeadersCookiesProxy(t *testing.T) {
	type seen struct{ auth, cookie, ua string }
	var mu sync.Mutex
	got := map[string]seen{} // path → what arrived
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got["other"+r.URL.Path] = seen{r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.UserAgent()}
		mu.Unlock()
		fmt.Fprint(w, "<html><body><p>elsewhere</p></body></html>")
	}))
	defer other.Close()
	s := newSite(t)
	s.extra["/rss"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got["/rss"] = seen{r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.UserAgent()}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>t</title><item><title>a</title><link>%s/a/1</link><guid>1</guid></item><item><title>b</title><link>%s/b/2</link><guid>2</guid></item></channel></rss>`, s.srv.URL, other.URL)
	}
	s.extra["/a/1"] = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got["/a/1"] = seen{r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.UserAgent()}
		mu.Unlock()
		fmt.Fprint(w, "<html><body><p>licensed</p></body></html>")
	}
	// The other site must differ in registrable domain: reach it as "localhost".
	otherURL, _ := url.Parse(other.URL)
	_, port, _ := net.SplitHostPort(otherURL.Host)
	other.URL = "http://localhost:" + port

	// A forward HTTP proxy counting what it carried.
	var proxied []string
	proxy := forwardProxy(t, func(r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Path)
		mu.Unlock()
	})

	src := Source{Name: "licensed", URL: s.url("/rss"), Options: SourceOptions{
		Headers: Secrets{"Authorization": "Bearer s3cret"}, Cookies: Secrets{"consent": "yes", "session": "abc"},
		Proxy: proxy.URL, UserAgent: "licensed-agent/1.0"}}
	cfg := testConfig()
	cfg.IgnoreRobots = true
	pub := &capture{}
	newTestFetcher(t, cfg, []Source{src}, NewMemStore(), pub).PollFeed(context.Background(), 0)
	if n := pub.count(); n != 2 {
		t.Fatalf("%d published, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := seen{"Bearer s3cret", "consent=yes; session=abc", "licensed-agent/1.0"}
	if got["/rss"] != want || got["/a/1"] != want {
		t.Errorf("own site got %+v and %+v, want %+v", got["/rss"], got["/a/1"], want)
	}
	if o := got["other/b/2"]; o.auth != "" || o.cookie != "" || o.ua != "licensed-agent/1.0" {
		t.Errorf("other site got %+v: secrets leaked or agent missing", o)
	}
	if strings.Join(proxied, ",") != "/rss,/a/1,/b/2" && len(proxied) != 3 {
		t.Errorf("proxy carried %v, want the feed and both pages", proxied)
	}
}

func TestCheckSourcesFile(t *testing.T) {
	dir := t.TempDir()
	yml := dir + "/sources.yaml"
	if err := os.WriteFile(yml, []byte("sources:\n  - url: https://a.example.com/rss\n    langauge: de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		wantN            int
	}{
		{"yaml with a misspelt key", yml, "line 3: source #1: field langauge not found", 0},
		{"opml", "testdata/sources.opml", "", 3},
		{"missing file", dir + "/nope.yaml", "no such file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs, probs := CheckSourcesFile(tt.path)
			if len(srcs) != tt.wantN {
				t.Errorf("%d sources, want %d", len(srcs), tt.wantN)
			}
			if tt.want == "" {
				if len(probs) > 0 {
					t.Errorf("problems %v", probs)
				}
				return
			}
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), tt.want) {
				t.Errorf("problems %v, want one with %q", probs, tt.want)
			}
		})
	}
}

// socks5Server is a minimal SOCKS5 proxy (RFC 1928, no auth or username/password, CONNECT
// only) counting the connections it carried.
func socks5Server(t *testing.T) (addr string, carried *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	carried = &atomic.Int32{}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 262)
				if _, err := io.ReadFull(c, buf[:2]); err != nil {
					return
				}
				if _, err := io.ReadFull(c, buf[:buf[1]]); err != nil {
					return
				}
				method := byte(0)
				for _, m := range buf[:buf[1]] {
					if m == 2 {
						method = 2
					}
				}
				c.Write([]byte{5, method})
				if method == 2 { // username/password: accept any
					io.ReadFull(c, buf[:2])
					io.ReadFull(c, buf[:buf[1]])
					io.ReadFull(c, buf[:1])
					io.ReadFull(c, buf[:buf[0]])
					c.Write([]byte{1, 0})
				}
				if _, err := io.ReadFull(c, buf[:4]); err != nil {
					return
				}
				var host string
				switch buf[3] {
				case 1:
					io.ReadFull(c, buf[:4])
					host = net.IP(buf[:4]).String()
				case 3:
					io.ReadFull(c, buf[:1])
					n := int(buf[0])
					io.ReadFull(c, buf[:n])
					host = string(buf[:n])
				default:
					return
				}
				io.ReadFull(c, buf[:2])
				port := int(buf[0])<<8 | int(buf[1])
				up, err := net.Dial("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
				if err != nil {
					c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
					return
				}
				defer up.Close()
				carried.Add(1)
				c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				done := make(chan struct{})
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); close(done) }()
				io.Copy(c, up)
				<-done
			}()
		}
	}()
	return ln.Addr().String(), carried
}

// TestSOCKS5Proxy: a source's socks5:// proxy (with credentials) carries its feed and pages.
func TestSOCKS5Proxy(t *testing.T) {
	addr, carried := socks5Server(t)
	s := newSite(t)
	s.add("/rss", "s1")
	cfg := testConfig()
	cfg.IgnoreRobots = true
	pub := &capture{}
	src := Source{Name: "socks", URL: s.url("/rss"), Options: SourceOptions{Proxy: "socks5://user:pw@" + addr}}
	f := newTestFetcher(t, cfg, []Source{src}, NewMemStore(), pub)
	f.PollFeed(context.Background(), 0)
	f.client.close() // drop pooled proxy connections before the server stops
	if pub.count() != 1 {
		t.Fatalf("%d published, want 1", pub.count())
	}
	if n := carried.Load(); n < 1 {
		t.Errorf("the SOCKS5 proxy carried %d connections", n)
	}
}

// TestRobotsViaSourceProxy: a source with a proxy reads the site's robots.txt through that
// proxy, like its feed and pages, and obeys it. The site tells the two routes apart: through
// the proxy its robots.txt disallows /a/, directly it has none (allow all). The page under /a/
// must not be fetched, and the site must see no direct request at all.
func TestRobotsViaSourceProxy(t *testing.T) {
	var mu sync.Mutex
	var direct, proxied []string
	s := newSite(t)
	s.extra["/robots.txt"] = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test-Proxy") == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "User-agent: *\nDisallow: /a/\n")
	}
	s.extra["/rss"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>t</title><item><title>A story the robots rule keeps us from fetching</title><link>%s/a/1</link><guid>1</guid><description>The feed's own text of the story, long enough to stand in for the page.</description></item></channel></rss>`, s.srv.URL)
	}
	s.extra["/a/1"] = func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html><body><p>page</p></body></html>")
	}
	siteSeen := s.srv.Config.Handler
	s.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Header.Get("X-Test-Proxy") == "" {
			direct = append(direct, r.URL.Path)
		}
		mu.Unlock()
		siteSeen.ServeHTTP(w, r)
	})
	proxy := forwardProxy(t, func(r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Path)
		mu.Unlock()
		r.Header.Set("X-Test-Proxy", "1")
	})

	src := Source{Name: "proxied", URL: s.url("/rss"), Options: SourceOptions{Proxy: proxy.URL}}
	pub := &capture{}
	newTestFetcher(t, testConfig(), []Source{src}, NewMemStore(), pub).PollFeed(context.Background(), 0)
	mu.Lock()
	defer mu.Unlock()
	if len(direct) > 0 {
		t.Errorf("the site saw direct requests %v; every request of a proxied source goes through its proxy", direct)
	}
	if !slices.Contains(proxied, "/robots.txt") || slices.Contains(proxied, "/a/1") {
		t.Errorf("proxy carried %v: want robots.txt read through it and /a/1 left alone (disallowed)", proxied)
	}
}

// forwardProxy is a forward HTTP proxy on loopback that calls seen with each request (which
// may change its headers) before carrying it to its target.
func forwardProxy(t *testing.T, seen func(r *http.Request)) *httptest.Server {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen(r)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy
}
