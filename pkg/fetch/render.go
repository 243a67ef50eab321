package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdpfetch "github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// ErrNoChromium: a source asks for JavaScript rendering and no Chromium binary was found
// (install it with deploy/local/chromium.sh, or set Config.ChromiumPath).
var ErrNoChromium = errors.New("fetch: render: no chromium binary (deploy/local/chromium.sh installs Debian's chromium)")

// renderer loads pages in one shared headless Chromium driven with chromedp, started on
// first use and reused for every page (one tab each). It is bounded: at most
// Config.RenderConcurrency tabs at once, Config.RenderTimeout per page, V8's heap capped,
// images off; every request the page makes passes the SSRF guard (a blocked address or a
// non-http(s) scheme fails that request). Safe for concurrent use.
type renderer struct {
	cfg   Config
	guard guard
	sem   chan struct{}

	mu      sync.Mutex
	browser context.Context // nil until started
	cancel  func()
	closed  bool
}

func newRenderer(cfg Config, g guard) *renderer {
	return &renderer{cfg: cfg, guard: g, sem: make(chan struct{}, cfg.RenderConcurrency)}
}

// chromiumPath returns Config.ChromiumPath, else the first chromium found in PATH.
func chromiumPath(configured string) (string, error) {
	if configured != "" {
		if _, err := exec.LookPath(configured); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrNoChromium, configured, err)
		}
		return configured, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// start launches the browser once.
func (r *renderer) start() (context.Context, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("fetch: render: closed")
	}
	if r.browser != nil {
		return r.browser, nil
	}
	path, err := chromiumPath(r.cfg.ChromiumPath)
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // containers run as root, where Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("blink-settings", "imagesEnabled=false"),
		chromedp.Flag("js-flags", fmt.Sprintf("--max-old-space-size=%d", r.cfg.RenderHeapMB)),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("proxy-server", "direct://"), // never a system proxy
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("fetch: render: start %s: %w", path, err)
	}
	r.browser = bctx
	r.cancel = func() { bcancel(); acancel() }
	return bctx, nil
}

// close stops the browser (if it was started) and waits for it to exit.
func (r *renderer) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.browser != nil {
		_ = chromedp.Cancel(r.browser)
		r.cancel()
		r.browser = nil
	}
}

// render loads target in a new tab with the given user agent and extra headers (sent only to
// target's own site, like the source's), waits for the page's text to settle and returns the
// serialized DOM and the final URL.
func (r *renderer) render(ctx context.Context, target, ua string, header http.Header) (string, string, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
	defer func() { <-r.sem }()
	bctx, err := r.start()
	if err != nil {
		return "", "", err
	}
	tctx, tcancel := chromedp.NewContext(bctx)
	var wg sync.WaitGroup
	defer func() {
		_ = chromedp.Cancel(tctx) // closes the tab
		tcancel()
		wg.Wait()
	}()
	// The caller's deadline and cancellation apply to the tab.
	stop := context.AfterFunc(ctx, tcancel)
	defer stop()
	if err := chromedp.Do(tctx); err != nil { // opens the tab
		return "", "", fmt.Errorf("fetch: render: new tab: %w", err)
	}
	t := chromedp.FromContext(tctx).Target
	paused := cdp.Events(tctx, t, cdpfetch.RequestPaused)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e, err := range paused {
			if err != nil {
				return
			}
			r.vet(tctx, t, target, header, e)
		}
	}()
	pctx, cancel := context.WithTimeout(tctx, r.cfg.RenderTimeout)
	defer cancel()
	if _, err := chromedp.Call(pctx, cdpfetch.Enable, cdpfetch.EnableParams{}); err != nil {
		return "", "", fmt.Errorf("fetch: render: intercept: %w", err)
	}
	if _, err := chromedp.Call(pctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		return "", "", fmt.Errorf("fetch: render: user agent: %w", err)
	}
	if err := chromedp.Do(pctx, chromedp.Navigate(target), chromedp.Func(waitSettled)); err != nil {
		return "", "", fmt.Errorf("fetch: render %s: %w", redact.URL(target), err)
	}
	final, err := chromedp.Run(pctx, chromedp.Location())
	if err != nil {
		return "", "", fmt.Errorf("fetch: render %s: location: %w", redact.URL(target), err)
	}
	html, err := chromedp.Run(pctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		return "", "", fmt.Errorf("fetch: render %s: dom: %w", redact.URL(target), err)
	}
	if int64(len(html)) > r.cfg.MaxPageBytes {
		return "", "", fmt.Errorf("%w: rendered %s: %d bytes > %d", ErrBodyTooLarge, redact.URL(target), len(html), r.cfg.MaxPageBytes)
	}
	return html, final, nil
}

// vet lets a paused request continue when its URL passes the SSRF guard, adding the
// source's headers on its own site; otherwise it fails the request.
func (r *renderer) vet(ctx context.Context, t *chromedp.Target, target string, header http.Header, e cdpfetch.EventRequestPaused) {
	if e.Request == nil {
		return
	}
	if err := r.allowedURL(ctx, e.Request.URL); err != nil {
		_, _ = cdp.Call(ctx, t, cdpfetch.FailRequest, cdpfetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	p := cdpfetch.ContinueRequestParams{RequestID: e.RequestID}
	if len(header) > 0 && sendsTo(target, e.Request.URL) {
		for k, v := range e.Request.Headers {
			if _, over := header[http.CanonicalHeaderKey(k)]; !over {
				p.Headers = append(p.Headers, &cdpfetch.HeaderEntry{Name: k, Value: fmt.Sprint(v)})
			}
		}
		for k, vs := range header {
			for _, v := range vs {
				p.Headers = append(p.Headers, &cdpfetch.HeaderEntry{Name: k, Value: v})
			}
		}
	}
	_, _ = cdp.Call(ctx, t, cdpfetch.ContinueRequest, p)
}

// allowedURL applies the SSRF guard to a URL the page requests: http(s) only, every address
// of the host public or allowlisted.
func (r *renderer) allowedURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%w: scheme", ErrBlockedAddress)
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if r.guard.blocked(ip) {
			return ErrBlockedAddress
		}
		return nil
	}
	ips, err := r.cfg.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("%w: %s does not resolve", ErrBlockedAddress, host)
	}
	for _, ip := range ips {
		if r.guard.blocked(ip) {
			return ErrBlockedAddress
		}
	}
	return nil
}

// waitSettled waits until the page has loaded and its text length has not changed for
// three checks 200 ms apart (scripts that build the article after load), or until ctx ends.
func waitSettled(ctx context.Context, t *chromedp.Target) error {
	last, stable := -1, 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	probe := chromedp.Evaluate[int](`document.readyState === "complete" && document.body ? document.body.innerText.length : -1`)
	for stable < 3 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		n, err := probe(ctx, t)
		if err != nil {
			return err
		}
		if n >= 0 && n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
	}
	return nil
}

// needsJS reports whether an HTML page looks like a JavaScript shell: scripts, and almost no
// text in its body once scripts, styles and tags are removed.
func needsJS(html []byte) bool {
	low := strings.ToLower(string(html[:min(len(html), 1<<20)]))
	if !strings.Contains(low, "<script") {
		return false
	}
	i := strings.Index(low, "<body")
	if i < 0 {
		return false
	}
	body := low[i:]
	for _, tag := range []string{"script", "style", "noscript", "template"} {
		for {
			s := strings.Index(body, "<"+tag)
			if s < 0 {
				break
			}
			e := strings.Index(body[s:], "</"+tag+">")
			if e < 0 {
				body = body[:s]
				break
			}
			body = body[:s] + body[s+e+len(tag)+3:]
		}
	}
	text := 0
	in := false
	for _, c := range body {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in && c > ' ':
			text++
		}
	}
	return text < 200
}
