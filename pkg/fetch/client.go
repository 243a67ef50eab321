package fetch

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/temoto/robotstxt"
	"golang.org/x/time/rate"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// Fetch errors.
var (
	// ErrBlockedAddress: the dial target is loopback/private/special and not allowlisted.
	ErrBlockedAddress = errors.New("fetch: address blocked by ssrf guard")
	// ErrRobots: robots.txt disallows the URL for our user agent.
	ErrRobots = errors.New("fetch: disallowed by robots.txt")
	// ErrTooManyRedirects: the redirect limit was reached (includes redirect loops).
	ErrTooManyRedirects = errors.New("fetch: too many redirects")
	// ErrBodyTooLarge: the decompressed body exceeded its limit.
	ErrBodyTooLarge = errors.New("fetch: body exceeds limit")
	// ErrHostBusy: the per-host rate limit would make the request wait longer than
	// Config.MaxHostWait; it is deferred, not failed.
	ErrHostBusy = errors.New("fetch: host rate limit busy")
	// ErrBadURL: the URL is not an absolute http(s) URL. Permanent.
	ErrBadURL = errors.New("fetch: bad url")
	// ErrRedirectRefused: a redirect to a scheme other than http(s) (file:, gopher:, ...).
	// Permanent.
	ErrRedirectRefused = errors.New("fetch: redirect refused")
	// ErrNXDomain: the host does not resolve (NXDOMAIN), confirmed by a second lookup
	// Config.NXDomainRecheck later. Permanent.
	ErrNXDomain = errors.New("fetch: host does not resolve")
)

// nxTTL is how long a host confirmed NXDOMAIN fails at once, without a lookup (the other
// items of a dead site must not each wait for a second look).
const nxTTL = 10 * time.Minute

// StatusError is a non-2xx/304 response.
type StatusError struct {
	URL        string
	Code       int
	RetryAfter time.Duration // from Retry-After on 429/503, 0 if absent
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("fetch: %s: http %d", redact.URL(e.URL), e.Code)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Permanent reports whether retrying the same URL is pointless (4xx other than 408/429).
func (e *StatusError) Permanent() bool {
	return e.Code >= 400 && e.Code < 500 && e.Code != 408 && e.Code != 429
}

// specialRanges are refused by the SSRF guard besides what netip's predicates cover.
var specialRanges = mustPrefixes(
	"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
	"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fec0::/10",
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// guard decides which dial targets are allowed.
type guard struct{ allow []netip.Prefix }

// blocked reports whether ip is a non-public address that is not allowlisted.
func (g guard) blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return false
		}
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range specialRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// control runs after DNS resolution, for every connection attempt (redirects included), so
// DNS rebinding and redirects to internal addresses are caught where it matters.
func (g guard) control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || g.blocked(ip) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	return nil
}

// request is one GET.
type request struct {
	URL          string
	UserAgent    string
	ETag         string
	LastModified string
	MaxBytes     int64
	// Truncate keeps the first MaxBytes on overflow (pages) instead of failing (feeds).
	Truncate bool
	// Header holds extra headers (a source's headers and cookies); secret values.
	Header http.Header
	// Proxy is the source's proxy URL ("" = direct).
	Proxy string
	// ToUTF8 converts an HTML or text body to UTF-8 (article.DecodeHTML: BOM, the declared
	// charset when the bytes agree, else detection).
	ToUTF8 bool
}

// response is what a GET produced.
type response struct {
	URL          string // final URL after redirects
	Status       int
	ContentType  string
	ETag         string
	LastModified string
	Freshness    time.Duration // Cache-Control max-age / Expires, 0 if none
	Body         []byte
	Truncated    bool
	Charset      string // original charset when converted
	// CharsetSource is the evidence that decided Charset (article.CharsetHTTP, …).
	CharsetSource   string
	ContentLanguage string // the Content-Language header
	WireBytes       int64
}

// client is the polite, guarded HTTP client shared by all feeds. Safe for concurrent use.
type client struct {
	cfg    Config
	hc     *http.Client
	robots sync.Map // scheme://host -> *robotsEntry
	hostMu sync.Mutex
	hosts  map[string]*rate.Limiter
	paused map[string]time.Time // host → until, after 429/503 (Retry-After, else 1 min)
	nx     map[string]time.Time // hostname → until: confirmed NXDOMAIN (nxTTL)
	// proxied are the HTTP clients of per-source proxies, by proxy URL (created on first use).
	proxied map[string]*http.Client
	// render is the shared headless Chromium (started on first use).
	render *renderer
}

type robotsEntry struct {
	once    sync.Once
	data    *robotstxt.RobotsData
	expires time.Time
}

func newClient(cfg Config) (*client, error) {
	var g guard
	for _, a := range cfg.AllowAddresses {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip, err2 := netip.ParseAddr(a)
			if err2 != nil {
				return nil, fmt.Errorf("fetch: allow address %q: %w", a, err)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		g.allow = append(g.allow, p)
	}
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second, Control: g.control, Resolver: cfg.Resolver}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would bypass the dial-time guard
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    cfg.DialTimeout,
		ResponseHeaderTimeout:  cfg.HeaderTimeout,
		DisableCompression:     true, // we decode ourselves so the size limit applies after decompression
		MaxResponseHeaderBytes: 256 << 10,
	}
	c := &client{cfg: cfg, hosts: map[string]*rate.Limiter{}, paused: map[string]time.Time{}, nx: map[string]time.Time{}, proxied: map[string]*http.Client{}}
	c.hc = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	c.render = newRenderer(cfg, g)
	return c, nil
}

// checkRedirect applies the redirect limit, refuses non-http(s) targets and checks
// robots.txt on every redirect target.
func (c *client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.cfg.MaxRedirects {
		return fmt.Errorf("%w (%d)", ErrTooManyRedirects, c.cfg.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: to scheme %q (%s)", ErrRedirectRefused, req.URL.Scheme, req.URL.Redacted())
	}
	if len(via) > 0 {
		req.Header.Set("User-Agent", via[0].Header.Get("User-Agent"))
	}
	// robots.txt applies to every redirect target too (cached per host), except while
	// fetching robots.txt itself.
	if req.Context().Value(robotsFetchKey{}) != nil {
		return nil
	}
	proxy, _ := req.Context().Value(proxyKey{}).(string)
	return c.allowed(req.Context(), req.URL, req.Header.Get("User-Agent"), proxy)
}

// viaProxy returns the HTTP client that routes through proxy (one per proxy URL, created on
// first use). Its transport dials only the proxy, which the operator configured and so
// trusts: the SSRF guard's dial-time check does not apply to it (it could not see the
// addresses behind the proxy anyway); the scheme, redirect and robots checks still apply.
func (c *client) viaProxy(proxy string) (*http.Client, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if hc := c.proxied[proxy]; hc != nil {
		return hc, nil
	}
	pu, err := parseProxy(proxy)
	if err != nil {
		return nil, err
	}
	tr := c.hc.Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(pu)
	tr.DialContext = (&net.Dialer{Timeout: c.cfg.DialTimeout, KeepAlive: 30 * time.Second, Resolver: c.cfg.Resolver}).DialContext
	hc := &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	c.proxied[proxy] = hc
	return hc, nil
}

func (c *client) close() {
	c.render.close()
	c.hc.CloseIdleConnections()
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	for _, hc := range c.proxied {
		hc.CloseIdleConnections()
	}
}

type robotsFetchKey struct{}

// proxyKey is the context key of a request's source proxy ("" direct), for the robots.txt
// checks of its redirects.
type proxyKey struct{}

func hostKey(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

// limiter returns the per-host limiter shared by all feeds on the host.
func (c *client) limiter(host string) *rate.Limiter {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	l := c.hosts[host]
	if l == nil {
		lim := rate.Inf
		if !c.cfg.DisablePoliteness && c.cfg.HostInterval > 0 {
			lim = rate.Every(c.cfg.HostInterval)
		}
		l = rate.NewLimiter(lim, 1)
		c.hosts[host] = l
	}
	return l
}

// wait takes a slot on the host's limiter, or ErrHostBusy when that would exceed MaxHostWait.
func (c *client) wait(ctx context.Context, host string) error {
	if c.cfg.DisablePoliteness {
		return nil
	}
	c.hostMu.Lock()
	until, ok := c.paused[host]
	if ok && !time.Now().Before(until) {
		delete(c.paused, host)
		ok = false
	}
	c.hostMu.Unlock()
	if ok {
		return fmt.Errorf("%w: %s paused after 429/503 until %s", ErrHostBusy, host, until.UTC().Format(time.RFC3339))
	}
	r := c.limiter(host).Reserve()
	if !r.OK() {
		return ErrHostBusy
	}
	d := r.Delay()
	if d > c.cfg.MaxHostWait {
		r.Cancel()
		return fmt.Errorf("%w: %s (next slot in %s)", ErrHostBusy, host, d.Round(time.Millisecond))
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// allowed checks robots.txt (fetched once per host and route, and cached for RobotsTTL) and
// applies its Crawl-delay to the host limiter. A source with a proxy reads robots.txt through
// that proxy, as it reads everything else: its site may be reachable only that way, and a
// direct request would show the site the address the operator routed around.
func (c *client) allowed(ctx context.Context, u *url.URL, ua, proxy string) error {
	if c.cfg.DisablePoliteness || c.cfg.IgnoreRobots {
		return nil
	}
	key := hostKey(u)
	if proxy != "" {
		key = proxy + " " + key
	}
	now := time.Now()
	v, _ := c.robots.LoadOrStore(key, &robotsEntry{})
	e := v.(*robotsEntry)
	e.once.Do(func() { c.loadRobots(ctx, u, ua, proxy, e) })
	if now.After(e.expires) {
		ne := &robotsEntry{}
		if c.robots.CompareAndSwap(key, e, ne) {
			e = ne
		} else if v, ok := c.robots.Load(key); ok {
			e = v.(*robotsEntry)
		}
		e.once.Do(func() { c.loadRobots(ctx, u, ua, proxy, e) })
	}
	if e.data == nil {
		return nil
	}
	g := e.data.FindGroup(robotsAgent(ua))
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	if !g.Test(p) {
		return fmt.Errorf("%w: %s", ErrRobots, redact.URL(u.String()))
	}
	return nil
}

func robotsAgent(ua string) string {
	// "newsflow/1.0 (+https://...)" → "newsflow"
	name, _, _ := strings.Cut(ua, "/")
	name, _, _ = strings.Cut(name, " ")
	return name
}

func (c *client) loadRobots(ctx context.Context, u *url.URL, ua, proxy string, e *robotsEntry) {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, robotsFetchKey{}, true), c.cfg.RequestTimeout)
	defer cancel()
	e.expires = time.Now().Add(c.cfg.RobotsTTL)
	resp, err := c.do(ctx, request{URL: ru.String(), UserAgent: ua, MaxBytes: 512 << 10, Truncate: true, Proxy: proxy})
	var se *StatusError
	switch {
	case err == nil:
		e.data, err = robotstxt.FromStatusAndBytes(resp.Status, resp.Body)
		if err != nil {
			e.data = nil // unparsable robots.txt: allow, like major crawlers
		}
	case errors.As(err, &se):
		e.data, _ = robotstxt.FromStatusAndBytes(se.Code, nil) // 4xx allow all, 5xx disallow all
		if se.Code >= 500 {
			e.expires = time.Now().Add(c.cfg.RobotsTTL / 24) // retry sooner
		}
	default:
		// Network trouble: allow, but retry soon. The feed request itself will fail anyway
		// if the host is down.
		e.expires = time.Now().Add(c.cfg.RobotsTTL / 24)
	}
	if e.data != nil {
		if g := e.data.FindGroup(robotsAgent(ua)); g != nil && g.CrawlDelay > 0 {
			d := min(g.CrawlDelay, c.cfg.MaxCrawlDelay)
			if d > c.cfg.HostInterval {
				c.limiter(hostKey(u)).SetLimit(rate.Every(d))
			}
		}
	}
}

// get is a polite GET: robots.txt, host rate limit, then do.
func (c *client) get(ctx context.Context, r request) (*response, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w %q", ErrBadURL, redact.URL(r.URL))
	}
	if err := c.knownNX(u.Hostname()); err != nil {
		return nil, err
	}
	if r.UserAgent == "" {
		r.UserAgent = c.cfg.UserAgent
	}
	if err := c.allowed(ctx, u, r.UserAgent, r.Proxy); err != nil {
		return nil, err
	}
	if err := c.wait(ctx, hostKey(u)); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		err = c.confirmNX(ctx, err)
	}
	var se *StatusError
	if errors.As(err, &se) && (se.Code == 429 || se.Code == 503) && !c.cfg.DisablePoliteness {
		// The host asked us to slow down: every feed and page on it waits.
		d := min(max(se.RetryAfter, time.Minute), time.Hour)
		c.hostMu.Lock()
		c.paused[hostKey(u)] = time.Now().Add(d)
		c.hostMu.Unlock()
	}
	return resp, err
}

// knownNX fails at once for a host confirmed NXDOMAIN within nxTTL.
func (c *client) knownNX(host string) error {
	host = strings.ToLower(host)
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	until, ok := c.nx[host]
	if !ok {
		return nil
	}
	if time.Now().After(until) {
		delete(c.nx, host)
		return nil
	}
	return fmt.Errorf("%w: %s (NXDOMAIN confirmed within the last %s)", ErrNXDomain, host, nxTTL)
}

// confirmNX takes the second look at a host that did not resolve: NXDOMAIN again after
// NXDomainRecheck makes err permanent (ErrNXDomain) and remembers the host for nxTTL; any
// other answer (it resolves now, a timeout, SERVFAIL) leaves err as it was, transient.
func (c *client) confirmNX(ctx context.Context, err error) error {
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || de.Name == "" {
		return err
	}
	t := time.NewTimer(c.cfg.NXDomainRecheck)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return err
	}
	_, lerr := c.cfg.lookup(ctx, de.Name)
	var de2 *net.DNSError
	if !errors.As(lerr, &de2) || !de2.IsNotFound {
		return err
	}
	host := strings.ToLower(strings.TrimSuffix(de.Name, "."))
	c.hostMu.Lock()
	c.nx[host] = time.Now().Add(nxTTL)
	c.hostMu.Unlock()
	return fmt.Errorf("%w: %s (NXDOMAIN on two lookups %s apart): %w", ErrNXDomain, host, c.cfg.NXDomainRecheck, err)
}

// do performs one GET with timeouts, the redirect limit, decompression and the size limit
// applied after decompression. 304 returns Status 304 with no body; other non-2xx return a
// *StatusError.
func (c *client) do(ctx context.Context, r request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	if r.Proxy != "" {
		ctx = context.WithValue(ctx, proxyKey{}, r.Proxy)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: request %s: %w", redact.URL(r.URL), err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", r.UserAgent)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5")
	if r.ETag != "" {
		req.Header.Set("If-None-Match", r.ETag)
	}
	if r.LastModified != "" {
		req.Header.Set("If-Modified-Since", r.LastModified)
	}
	hc := c.hc
	if r.Proxy != "" {
		if hc, err = c.viaProxy(r.Proxy); err != nil {
			return nil, fmt.Errorf("fetch: %s: %w", redact.URL(r.URL), err)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch: get %s: %w", redact.URL(r.URL), err)
	}
	defer resp.Body.Close()
	out := &response{
		URL: resp.Request.URL.String(), Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		Freshness: freshness(resp.Header, time.Now()), ContentLanguage: resp.Header.Get("Content-Language"),
	}
	if resp.StatusCode == http.StatusNotModified {
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &StatusError{URL: out.URL, Code: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	wire := &countingReader{r: resp.Body}
	body, err := decode(wire, resp.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, fmt.Errorf("fetch: %s: %w", redact.URL(r.URL), err)
	}
	b, err := io.ReadAll(io.LimitReader(body, r.MaxBytes+1))
	out.WireBytes = wire.n
	if err != nil {
		return nil, fmt.Errorf("fetch: read %s: %w", redact.URL(r.URL), err)
	}
	if int64(len(b)) > r.MaxBytes {
		if !r.Truncate {
			return nil, fmt.Errorf("%w: %s: more than %d bytes", ErrBodyTooLarge, redact.URL(r.URL), r.MaxBytes)
		}
		b = b[:r.MaxBytes]
		out.Truncated = true
	}
	if r.ToUTF8 && textual(out.ContentType) {
		var d article.Decoding
		b, d = article.DecodeHTML(b, out.ContentType)
		if d.Charset != "utf-8" {
			out.Charset = d.Charset
		}
		out.CharsetSource = d.Source
	}
	out.Body = b
	return out, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func decode(r io.Reader, enc string) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		return r, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case "br":
		return brotli.NewReader(r), nil
	case "deflate":
		// "deflate" is zlib-wrapped per RFC 9110 but some servers send raw deflate.
		br := newPeekReader(r)
		if h, _ := br.peek(2); len(h) == 2 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 && h[0]&0x0f == 8 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			return zr, nil
		}
		return flate.NewReader(br), nil
	default:
		return nil, fmt.Errorf("unsupported content-encoding %q", enc)
	}
}

type peekReader struct {
	r   io.Reader
	buf []byte
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		m, err := p.r.Read(b)
		p.buf = append(p.buf, b[:m]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// ReadByte lets flate/zlib avoid over-reading.
func (p *peekReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(p, b[:])
	return b[0], err
}

// textual reports whether a page body of this media type is text to decode (HTML, XHTML,
// plain text, or undeclared).
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	return mt == "" || mt == "text/html" || mt == "application/xhtml+xml" || mt == "text/plain"
}

// retryAfter parses Retry-After (delta seconds or HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return seconds(n)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// seconds converts a non-negative header delta to a Duration, saturating instead of
// overflowing into a negative value (found by FuzzRetryAfter: "9227000000").
func seconds(n int) time.Duration {
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	if int64(n) > maxSecs {
		return time.Duration(maxSecs) * time.Second
	}
	return time.Duration(n) * time.Second
}

// freshness returns Cache-Control max-age (s-maxage wins), else Expires - Date, else 0.
// no-cache/no-store yield 0.
func freshness(h http.Header, now time.Time) time.Duration {
	var maxAge time.Duration = -1
	for _, d := range strings.Split(strings.ToLower(h.Get("Cache-Control")), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch k {
		case "no-cache", "no-store":
			return 0
		case "max-age", "s-maxage":
			if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n >= 0 {
				if k == "s-maxage" || maxAge < 0 {
					maxAge = seconds(n)
				}
			}
		}
	}
	if maxAge >= 0 {
		return maxAge
	}
	if e := h.Get("Expires"); e != "" {
		if t, err := http.ParseTime(e); err == nil {
			base := now
			if d, err := http.ParseTime(h.Get("Date")); err == nil {
				base = d
			}
			if t.After(base) {
				return t.Sub(base)
			}
		}
	}
	return 0
}
