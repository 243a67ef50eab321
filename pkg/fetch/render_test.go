package fetch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// needChromium returns the Chromium binary, skipping the test without one outside CI (in
// CI, where `make test` runs deploy/local/chromium.sh first, a missing binary fails).
func needChromium(t *testing.T) string {
	t.Helper()
	p, err := chromiumPath(os.Getenv("NEWSFLOW_CHROMIUM"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %v", err)
		}
		t.Skipf("%v (run deploy/local/chromium.sh)", err)
	}
	return p
}

const jsArticle = "The harbour authority confirmed on Tuesday that the new ferry terminal will open in March, two years later than planned, after a dispute over the foundations delayed construction."

// jsShell is a page whose article only exists after its script runs (after load, like a
// single-page app fetching its content). The script also tries an address the SSRF guard
// blocks and records whether that worked.
func jsShell(blockedURL string) string {
	return `<!doctype html><html><head><title>Ferry terminal</title></head><body><div id="app">Loading…</div>
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var h = "Ferry " + "terminal delayed";
    document.getElementById("app").innerHTML = "<article><h1>" + h + "</h1><p>` + jsArticle + `</p><p>` + jsArticle + `</p></article>";
    fetch("` + blockedURL + `").then(function (r) { return r.text(); })
      .then(function (t) { document.body.insertAdjacentHTML("beforeend", "<p id=probe>reached " + t + "</p>"); })
      .catch(function () { document.body.insertAdjacentHTML("beforeend", "<p id=probe>blocked</p>"); });
  }, 300);
});
</script></body></html>`
}

// TestRenderJavaScriptPages: a source with render: js (and, with RenderAuto, a page that is
// a JavaScript shell) is published with the article the page's script builds, rendered by a
// real headless Chromium; the page's requests to addresses the SSRF guard blocks fail.
func TestRenderJavaScriptPages(t *testing.T) {
	chromium := needChromium(t)
	// An "internal" server on 127.0.0.2, which the test config does not allowlist.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	var internalHits atomic.Int32
	internal := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, "secret")
	})}}
	internal.Start()
	defer internal.Close()

	tests := []struct {
		name   string
		render string
		auto   bool
		want   bool // rendered
	}{
		{"render: js", RenderJS, false, true},
		{"RenderAuto on a JavaScript shell", "", true, true},
		{"neither", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			s.add("/rss", "js1")
			s.extra["/a/js1"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, jsShell(internal.URL+"/secret"))
			}
			cfg := testConfig()
			cfg.ChromiumPath, cfg.RenderAuto = chromium, tt.auto
			// Generous budgets: a loaded 2-core CI machine takes tens of seconds to start
			// Chromium (measured: 50 s for chromium --dump-dom at load average 30).
			cfg.LeaseTTL, cfg.PollTimeout, cfg.RenderTimeout = 5*time.Minute, 4*time.Minute, 3*time.Minute
			pub := &capture{}
			src := Source{Name: "spa", URL: s.url("/rss"), Options: SourceOptions{Render: tt.render}}
			newTestFetcher(t, cfg, []Source{src}, NewMemStore(), pub).PollFeed(context.Background(), 0)
			raw, body := onlyRaw(t, pub)
			if got := strings.Contains(body, "<h1>Ferry terminal delayed</h1>"); got != tt.want {
				t.Fatalf("article in body = %v, want %v (extra %v): %.300q", got, tt.want, raw.Extra, body)
			}
			if !tt.want {
				return
			}
			if raw.Extra["rendered"] != "js" {
				t.Errorf("extra = %v", raw.Extra)
			}
			if !strings.Contains(body, "<p id=\"probe\">blocked</p>") || strings.Contains(body, "reached secret") {
				t.Errorf("the page's request to a blocked address was not refused: %.500q", body[strings.Index(body, "</article>"):])
			}
		})
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("the blocked address was requested %d times", n)
	}
}

func TestNeedsJS(t *testing.T) {
	long := strings.Repeat("Plain server-rendered text. ", 20)
	tests := []struct {
		name string
		html string
		want bool
	}{
		{"shell", jsShell("http://x/"), true},
		{"server-rendered with scripts", "<html><body><p>" + long + "</p><script>track()</script></body></html>", false},
		{"no scripts", "<html><body><div id=app></div></body></html>", false},
		{"no body", "<script>x()</script>", false},
		{"text only inside noscript", "<html><body><noscript>" + long + "</noscript><script>x()</script></body></html>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := needsJS([]byte(tt.html)); got != tt.want {
				t.Errorf("needsJS = %v, want %v", got, tt.want)
			}
		})
	}
}
