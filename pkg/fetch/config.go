package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Config tunes the fetcher. Zero fields take the defaults listed (see Defaults).
type Config struct {
	UserAgent string // default "newsflow/1.0 (+https://github.com/newsflow/newsflow)"; its first word is the robots.txt agent
	Workers   int    // concurrent polls (default 8)

	DialTimeout    time.Duration // default 10s
	HeaderTimeout  time.Duration // time to response headers (default 15s)
	RequestTimeout time.Duration // whole request incl. body (default 30s): bounds slow/endless bodies
	MaxRedirects   int           // default 5
	MaxFeedBytes   int64         // decompressed feed/sitemap limit, over = error (default 16 MiB)
	MaxPageBytes   int64         // decompressed page limit, over = truncated + noted (default 4 MiB)
	// MaxMessageBytes is the largest encoded envelope published (default 1 MiB - 64 KiB, under
	// NATS's default max_payload). Bigger bodies are gzipped into Raw.BodyGzip, then cut;
	// Raw.Extra["truncated"] says so.
	MaxMessageBytes int

	// NXDomainRecheck: a host that does not resolve (NXDOMAIN) is looked up once more after
	// this delay (default 3s) before the failure counts as permanent (a DNS hiccup or a
	// record being published heals in seconds; a missing domain does not).
	NXDomainRecheck time.Duration
	// ItemAttempts: polls on which a feed item's page fetch may fail transiently (timeouts,
	// 5xx, 408/429, network) before the item is published with the feed's own text
	// (body_source feed_fallback) instead (default DefaultItemAttempts).
	ItemAttempts int
	// Resolver replaces the system resolver (nil: the system's). Tests point it at a
	// loopback DNS server so that item links to internet hosts fail the same way (NXDOMAIN)
	// whether or not the machine can resolve them.
	Resolver *net.Resolver `json:"-"`

	// JavaScript rendering (sources with `render: js`; see renderer). ChromiumPath is the
	// browser binary (default: chromium, chromium-browser or google-chrome in PATH, as
	// installed by deploy/local/chromium.sh). RenderConcurrency tabs at once (default 2),
	// RenderTimeout per page (default 20s), RenderHeapMB caps each page's JavaScript heap
	// (default 256). RenderAuto also renders pages of other sources that look like
	// JavaScript shells (scripts and almost no text) when a Chromium is available.
	ChromiumPath      string
	RenderConcurrency int
	RenderTimeout     time.Duration
	RenderHeapMB      int
	RenderAuto        bool

	MinInterval     time.Duration // adaptive poll interval bounds (default 5m .. 12h)
	MaxInterval     time.Duration
	DefaultInterval time.Duration // first interval (default 30m)
	Jitter          float64       // ± fraction added to every interval (default 0.1)
	MaxBackoff      time.Duration // failure backoff cap (default 12h)
	ParkAfter       int           // consecutive failures before a feed is parked (default 10)
	ParkedRetry     time.Duration // parked feeds are retried this often (default 24h)
	StartSpread     time.Duration // first polls spread over this window (default 1m)

	// FullCheckEvery: every Nth poll is unconditional (no ETag/Last-Modified) to catch servers
	// whose validators lie (default 10). LieStrikes such catches disable the feed's validators
	// (default 2).
	FullCheckEvery int
	LieStrikes     int

	HostInterval      time.Duration // min gap between requests to one host, all feeds together (default 1s)
	MaxHostWait       time.Duration // longer waits defer the request instead of blocking a worker (default 20s)
	MaxCrawlDelay     time.Duration // cap on robots.txt Crawl-delay (default 60s)
	RobotsTTL         time.Duration // robots.txt cache lifetime (default 24h)
	IgnoreRobots      bool          // do not read robots.txt (NOT for production)
	DisablePoliteness bool          // no robots.txt, no host rate limit (benchmarks, tests)

	// AllowAddresses are IPs or CIDRs the SSRF guard lets through although special
	// (loopback, private, ...). Tests use "127.0.0.1".
	AllowAddresses []string

	ReplicaID       string        // lease owner name (default hostname-pid-random)
	LeaseTTL        time.Duration // a poll's lease; a dead replica's feeds are taken over after it (default 10m)
	PollTimeout     time.Duration // one poll incl. its page fetches; unfinished items wait for the next poll (default 3m)
	MaxItemsPerPoll int           // new items handled per poll, the rest next poll (default 100)
	ItemConcurrency int           // items of one poll fetched and published at once (default 8)
	MaxSitemapURLs  int           // default 50,000
	MaxSitemapKids  int           // child sitemaps fetched per poll of an index (default 20)
	SubmitTimeout   time.Duration // POST /v1/urls: max wait for the broker to store one request's URLs, the rest rejected (default 10s)
	StoreTimeout    time.Duration // per store call (default 5s)
	DrainTimeout    time.Duration // Run waits this long for in-flight polls after ctx ends (default 20s)

	// PerFeedMetrics adds a "feed" label (source name) to the per-feed gauges. Fine for
	// hundreds of feeds; turn off for very large source lists (cardinality).
	PerFeedMetrics bool
}

// Defaults returns c with zero fields filled.
func (c Config) Defaults() Config {
	d := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	i := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.UserAgent == "" {
		c.UserAgent = "newsflow/1.0 (+https://github.com/newsflow/newsflow)"
	}
	i(&c.Workers, 8)
	d(&c.DialTimeout, 10*time.Second)
	d(&c.HeaderTimeout, 15*time.Second)
	d(&c.RequestTimeout, 30*time.Second)
	i(&c.MaxRedirects, 5)
	d(&c.NXDomainRecheck, 3*time.Second)
	i(&c.ItemAttempts, DefaultItemAttempts)
	if c.MaxFeedBytes <= 0 {
		c.MaxFeedBytes = 16 << 20
	}
	if c.MaxPageBytes <= 0 {
		c.MaxPageBytes = 4 << 20
	}
	i(&c.MaxMessageBytes, 1<<20-64<<10)
	d(&c.MinInterval, 5*time.Minute)
	d(&c.MaxInterval, 12*time.Hour)
	d(&c.DefaultInterval, 30*time.Minute)
	if c.Jitter <= 0 {
		c.Jitter = 0.1
	}
	d(&c.MaxBackoff, 12*time.Hour)
	i(&c.ParkAfter, 10)
	d(&c.ParkedRetry, 24*time.Hour)
	d(&c.StartSpread, time.Minute)
	i(&c.FullCheckEvery, 10)
	i(&c.LieStrikes, 2)
	d(&c.HostInterval, time.Second)
	d(&c.MaxHostWait, 20*time.Second)
	d(&c.MaxCrawlDelay, time.Minute)
	d(&c.RobotsTTL, 24*time.Hour)
	d(&c.LeaseTTL, 10*time.Minute)
	d(&c.PollTimeout, 3*time.Minute)
	i(&c.MaxItemsPerPoll, 100)
	i(&c.ItemConcurrency, 8)
	i(&c.MaxSitemapURLs, 50000)
	i(&c.MaxSitemapKids, 20)
	d(&c.SubmitTimeout, 10*time.Second)
	i(&c.RenderConcurrency, 2)
	d(&c.RenderTimeout, 20*time.Second)
	i(&c.RenderHeapMB, 256)
	d(&c.StoreTimeout, 5*time.Second)
	d(&c.DrainTimeout, 20*time.Second)
	return c
}

// Validate reports the first configuration error (call after Defaults).
func (c Config) Validate() error {
	var errs []error
	if c.MinInterval > c.MaxInterval {
		errs = append(errs, fmt.Errorf("MinInterval %s > MaxInterval %s", c.MinInterval, c.MaxInterval))
	}
	if c.DefaultInterval < c.MinInterval || c.DefaultInterval > c.MaxInterval {
		errs = append(errs, fmt.Errorf("DefaultInterval %s outside [%s, %s]", c.DefaultInterval, c.MinInterval, c.MaxInterval))
	}
	if c.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("Jitter %.2f must be < 1", c.Jitter))
	}
	if c.MaxMessageBytes < 16<<10 {
		errs = append(errs, fmt.Errorf("MaxMessageBytes %d too small (min 16 KiB)", c.MaxMessageBytes))
	}
	if c.LeaseTTL < c.RequestTimeout {
		errs = append(errs, fmt.Errorf("LeaseTTL %s shorter than RequestTimeout %s", c.LeaseTTL, c.RequestTimeout))
	}
	for _, a := range c.AllowAddresses {
		if _, err := netip.ParsePrefix(a); err != nil {
			if _, err2 := netip.ParseAddr(a); err2 != nil {
				errs = append(errs, fmt.Errorf("AllowAddresses: %q is neither IP nor CIDR", a))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fetch: config: %w", err)
	}
	return nil
}

// lookup resolves host with the configured resolver (the system's by default), bounded by
// DialTimeout.
func (c Config) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	res := c.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	return res.LookupNetIP(ctx, "ip", host)
}

// DefaultItemAttempts is the default Config.ItemAttempts.
const DefaultItemAttempts = 3

// maxTimeoutAttempts bounds the deliveries of a news.submit message whose page keeps timing
// out: a server that has not answered within RequestTimeout on 3 attempts spread over about
// 15 s of backoff (≈ 1m45s in all with the default 30 s timeout) is treated as hopeless,
// instead of holding a consumer slot for MaxDeliver × RequestTimeout (8 attempts ≈ 10.5 min).
const maxTimeoutAttempts = 3
