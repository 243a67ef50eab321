// Package fetch is the fetcher stage: it polls feeds and sitemaps politely (robots.txt, per-host
// rate limits, conditional GET, adaptive intervals), fetches new articles' pages and publishes
// each new article once as an article.Envelope{Stage: raw} on news.raw. Per-feed state, leases
// and the seen-set live in a Store (JetStream KV in production) shared by all replicas.
package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// Fetcher polls the sources and publishes new articles. Create with New, start with Run.
type Fetcher struct {
	cfg     Config
	sources []Source
	store   Store
	pub     bus.Publisher
	log     *zap.Logger
	m       *metrics
	client  *client
	policy  policy

	parkedMu sync.Mutex
	parked   map[int]bool
	seen     seenCache
	memos    parseMemos // last parse of feeds draining a backlog

	runMu   sync.Mutex
	running bool
}

// New validates cfg (after Defaults) and the sources and builds a Fetcher. It registers its
// metrics on reg (nil: unregistered). It starts nothing.
func New(cfg Config, sources []Source, store Store, pub bus.Publisher, log *zap.Logger, reg prometheus.Registerer) (*Fetcher, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || pub == nil {
		return nil, errors.New("fetch: store and publisher are required")
	}
	if log == nil {
		log = zap.NewNop()
	}
	sources, err := normalizeSources(sources) // defaults (kind feed, name), validation, dedup
	if err != nil {
		return nil, err
	}
	if cfg.ReplicaID == "" {
		h, _ := os.Hostname()
		var b [4]byte
		_, _ = crand.Read(b[:])
		cfg.ReplicaID = fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("fetch: metrics: %w", err)
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		if strings.EqualFold(s.Options.Render, RenderJS) {
			if _, err := chromiumPath(cfg.ChromiumPath); err != nil {
				log.Warn("sources ask for javascript rendering but there is no chromium: their pages are fetched without it", zap.String("feed", s.Name), zap.Error(err))
			}
			break
		}
	}
	return &Fetcher{
		cfg: cfg, sources: sources, store: store, pub: pub,
		log: log.Named("fetch"), m: m, client: c, policy: policy{cfg},
		parked: map[int]bool{}, seen: seenCache{max: 200_000},
	}, nil
}

// Config returns the effective configuration (defaults applied).
func (f *Fetcher) Config() Config { return f.cfg }

type pollResult struct {
	idx  int
	next time.Time
}

// Run polls the sources with Config.Workers workers until ctx is done, then stops
// dispatching, waits up to DrainTimeout for in-flight polls (cancelling them after that) and
// returns nil. Run may be called once.
func (f *Fetcher) Run(ctx context.Context) error {
	f.runMu.Lock()
	if f.running {
		f.runMu.Unlock()
		return errors.New("fetch: Run called twice")
	}
	f.running = true
	f.runMu.Unlock()
	defer f.client.close()

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	jobs := make(chan int)
	done := make(chan pollResult, f.cfg.Workers)
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	for range f.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.worker(workCtx, jobs, done, stopped)
		}()
	}

	var sched schedule
	now := time.Now()
	for i := range f.sources {
		sched.push(i, f.policy.startAt(now, len(f.sources)))
	}
	f.log.Info("fetcher started", zap.Int("sources", len(f.sources)), zap.Int("workers", f.cfg.Workers), zap.String("replica", f.cfg.ReplicaID))
	var pending []int
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var send chan int
		var head int
		if len(pending) > 0 {
			send, head = jobs, pending[0]
		} else if at, ok := sched.next(); ok {
			timer.Reset(max(time.Until(at), 0))
		}
		select {
		case <-ctx.Done():
			close(jobs)
			close(stopped)
			waitDone := make(chan struct{})
			go func() { wg.Wait(); close(waitDone) }()
			select {
			case <-waitDone:
			case <-time.After(f.cfg.DrainTimeout):
				f.log.Warn("drain timeout; cancelling in-flight polls")
				cancelWork()
				<-waitDone
			}
			f.log.Info("fetcher stopped")
			return nil
		case send <- head:
			pending = pending[1:]
		case r := <-done:
			sched.push(r.idx, r.next)
		case <-timer.C:
			pending = sched.popDue(time.Now(), pending)
		}
	}
}

func (f *Fetcher) worker(ctx context.Context, jobs <-chan int, done chan<- pollResult, stopped <-chan struct{}) {
	for {
		select {
		case idx, ok := <-jobs:
			if !ok {
				return
			}
			next := f.safePoll(ctx, idx)
			select {
			case done <- pollResult{idx, next}:
			case <-stopped:
			}
		case <-stopped:
			return
		}
	}
}

// safePoll is PollFeed with a panic barrier: a bug on one feed's input must not take the
// fetcher down; the feed is retried after MaxBackoff (its lease expires meanwhile).
func (f *Fetcher) safePoll(ctx context.Context, idx int) (next time.Time) {
	next = time.Now().Add(f.cfg.MaxBackoff)
	defer f.recoverBug("feed " + f.sources[idx].Name)
	return f.PollFeed(ctx, idx)
}

func (f *Fetcher) recoverBug(what string) {
	if r := recover(); r != nil {
		f.m.errors.WithLabelValues("panic").Inc()
		f.log.Error("recovered panic", zap.String("in", what), zap.Any("panic", r), zap.Stack("stack"))
	}
}

// sctx bounds one store call.
func (f *Fetcher) sctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.cfg.StoreTimeout)
}

// PollFeed polls source idx once if it is due and not leased by another replica, and returns
// when it should be looked at next. It takes the feed's lease in the Store (CAS), polls,
// publishes new items and writes back the state. Safe for concurrent use on different feeds.
func (f *Fetcher) PollFeed(ctx context.Context, idx int) time.Time {
	src := f.sources[idx]
	key := src.Key()
	log := f.log.With(zap.String("feed", src.Name), redact.Field("url", src.URL))
	now := time.Now()
	sc, cancel := f.sctx(ctx)
	st, rev, err := f.store.LoadFeed(sc, key)
	cancel()
	if err != nil {
		log.Warn("load feed state", zap.Error(err))
		return now.Add(f.policy.jitter(30 * time.Second))
	}
	if st.NextDue.After(now) {
		return st.NextDue // polled recently (maybe by another replica, or before a restart)
	}
	if st.LeaseOwner != "" && st.LeaseOwner != f.cfg.ReplicaID && st.LeaseUntil.After(now) {
		return st.LeaseUntil
	}
	st.LeaseOwner, st.LeaseUntil = f.cfg.ReplicaID, now.Add(f.cfg.LeaseTTL)
	sc, cancel = f.sctx(ctx)
	rev, err = f.store.SaveFeed(sc, key, st, rev)
	cancel()
	if errors.Is(err, ErrConflict) {
		return now.Add(time.Second + time.Duration(rand.Int64N(int64(2*time.Second)))) // lost the race; re-read soon
	}
	if err != nil {
		log.Warn("take feed lease", zap.Error(err))
		return now.Add(f.policy.jitter(30 * time.Second))
	}

	pctx, pcancel := context.WithTimeout(ctx, min(f.cfg.PollTimeout, f.cfg.LeaseTTL*4/5))
	wait := f.poll(pctx, idx, &st, log)
	pcancel()

	st.LeaseOwner, st.LeaseUntil = "", time.Time{}
	st.LastPoll = now
	st.Polls++
	st.NextDue = time.Now().Add(wait)
	// Saved even when ctx was cancelled mid-poll, so the lease is released on shutdown.
	sc, cancel = f.sctx(context.WithoutCancel(ctx))
	_, err = f.store.SaveFeed(sc, key, st, rev)
	cancel()
	if err != nil {
		log.Warn("save feed state", zap.Error(err)) // lease overrun or store trouble; next poll re-reads
	}
	f.updateFeedMetrics(idx, src, &st)
	return st.NextDue
}

func (f *Fetcher) updateFeedMetrics(idx int, src Source, st *FeedState) {
	f.parkedMu.Lock()
	if st.Parked {
		f.parked[idx] = true
	} else {
		delete(f.parked, idx)
	}
	f.m.parked.Set(float64(len(f.parked)))
	f.parkedMu.Unlock()
	if f.cfg.PerFeedMetrics {
		f.m.failures.WithLabelValues(src.Name).Set(float64(st.Failures))
		if !st.LastSuccess.IsZero() {
			f.m.lastSuccess.WithLabelValues(src.Name).Set(float64(st.LastSuccess.Unix()))
		}
	}
}

func (f *Fetcher) userAgent(src Source) string {
	if src.Options.UserAgent != "" {
		return src.Options.UserAgent
	}
	return f.cfg.UserAgent
}

// wantsRender reports whether a page of src is loaded in headless Chromium: the source says
// render: js, or Config.RenderAuto is on, a Chromium is installed and the page looks like a
// JavaScript shell.
func (f *Fetcher) wantsRender(src Source, body []byte) bool {
	if strings.EqualFold(src.Options.Render, RenderJS) {
		return true
	}
	if !f.cfg.RenderAuto || !needsJS(body) {
		return false
	}
	_, err := chromiumPath(f.cfg.ChromiumPath)
	return err == nil
}

// sourceRequest is a GET of target on behalf of src: its user agent and proxy, and its
// headers and cookies when target is on the source's own site (sendsTo).
func (f *Fetcher) sourceRequest(src Source, target string, maxBytes int64) request {
	r := request{URL: target, UserAgent: f.userAgent(src), MaxBytes: maxBytes, Proxy: src.Options.Proxy}
	if (len(src.Options.Headers) > 0 || len(src.Options.Cookies) > 0) && sendsTo(src.URL, target) {
		r.Header = make(http.Header, len(src.Options.Headers)+1)
		for k, v := range src.Options.Headers {
			r.Header.Set(k, v)
		}
		if len(src.Options.Cookies) > 0 {
			r.Header.Set("Cookie", cookieHeader(src.Options.Cookies))
		}
	}
	return r
}

// poll fetches and processes the feed, updates st and returns the delay to the next poll.
func (f *Fetcher) poll(ctx context.Context, idx int, st *FeedState, log *zap.Logger) time.Duration {
	src := f.sources[idx]
	feedURL := st.URL
	if feedURL == "" {
		feedURL = src.URL
	}
	conditional := !st.ValidatorsDisabled && st.PollsSinceFull < f.cfg.FullCheckEvery-1 && (st.ETag != "" || st.LastModified != "")
	req := f.sourceRequest(src, feedURL, f.cfg.MaxFeedBytes)
	if conditional {
		req.ETag, req.LastModified = st.ETag, st.LastModified
	}
	t0 := time.Now()
	resp, err := f.client.get(ctx, req)
	f.m.fetchSeconds.WithLabelValues("feed").Observe(time.Since(t0).Seconds())
	if err == nil && resp.Status != 304 && Sniff(resp.Body) == "html" {
		// A home page (kind site) or a feed URL that now serves HTML: autodiscover.
		if cands := Discover(resp.Body, resp.URL); len(cands) > 0 && cands[0] != feedURL {
			log.Info("feed autodiscovered", redact.Field("feed_url", cands[0]))
			st.URL, feedURL = cands[0], cands[0]
			st.ETag, st.LastModified, conditional = "", "", false
			req = f.sourceRequest(src, feedURL, f.cfg.MaxFeedBytes)
			resp, err = f.client.get(ctx, req)
		}
	}
	var parsed *Parsed
	var hash string
	truncated := false
	if err == nil && resp.Status != 304 {
		parsed, hash, err = f.memos.parse(idx, resp.Body, resp.URL, resp.ContentType, ParseLimits{MaxSitemapURLs: f.cfg.MaxSitemapURLs})
		if errors.Is(err, ErrTooManyItems) && parsed != nil {
			log.Warn("sitemap truncated", zap.Int("kept", len(parsed.Items)))
			err, truncated = nil, true
		}
		if err == nil && parsed.Format == "sitemapindex" {
			f.expandIndex(ctx, src, st, parsed, log)
			hash = parsed.Hash() // over the children's items too
		}
	}
	if err != nil {
		if errors.Is(err, ErrHostBusy) {
			f.m.polls.WithLabelValues("deferred").Inc()
			return f.cfg.MaxHostWait
		}
		f.memos.forget(idx) // a failing feed may be retried only hours later
		return f.pollFailed(st, src, err, log)
	}
	outcome := "ok"
	newItems := 0
	var observed, hint time.Duration
	if resp.Status == 304 {
		outcome = "not_modified"
		st.NotModifiedSince = true
		st.PollsSinceFull++
	} else {
		if conditional {
			st.PollsSinceFull++
		} else {
			st.PollsSinceFull = 0
		}
		if !conditional && !st.Pending && st.LastHash != "" && hash != st.LastHash && (st.NotModifiedSince || (resp.ETag != "" && resp.ETag == st.ETag)) {
			st.Lies++
			log.Info("feed validators contradicted by content", zap.Int("strikes", st.Lies))
			if st.Lies >= f.cfg.LieStrikes && !st.ValidatorsDisabled {
				st.ValidatorsDisabled = true
				f.m.distrusted.Inc()
				log.Warn("feed validators distrusted: polling unconditionally from now on", zap.Int("strikes", st.Lies))
			}
		}
		if hash == st.LastHash {
			outcome = "unchanged"
		} else {
			var complete bool
			newItems, complete, err = f.handleItems(ctx, src, st, parsed.Items, log)
			if err != nil { // publish/store failure: keep the old hash so the items are retried
				f.m.polls.WithLabelValues("publish_error").Inc()
				log.Warn("items not fully handled", zap.Error(err))
				return f.policy.jitter(f.cfg.MinInterval)
			}
			if !complete {
				outcome = "partial"
			}
			st.Pending = !complete
		}
		// Hash and validators are stored only once every item is handled, so deferred items
		// (host busy, page timeouts, per-poll limit, publish failure) are retried next poll
		// with a full fetch instead of being hidden behind a 304 or an unchanged hash.
		if !st.Pending {
			st.LastHash = hash
			st.NotModifiedSince = false
			st.ETag, st.LastModified = resp.ETag, resp.LastModified
		}
		observed = cadence(parsed.Items)
		hint = parsed.TTL
	}
	hint = max(hint, resp.Freshness)
	if newItems > 0 {
		st.LastNew = time.Now()
		st.ItemsNew += int64(newItems)
		if f.cfg.PerFeedMetrics {
			f.m.feedNew.WithLabelValues(src.Name).Add(float64(newItems))
		}
	}
	if st.Parked {
		log.Info("feed unparked")
	}
	st.Failures, st.Parked, st.LastError = 0, false, ""
	st.LastSuccess = time.Now()
	f.m.polls.WithLabelValues(outcome).Inc()
	d := f.policy.success(st, src.Interval, newItems, observed, hint)
	if parsed != nil {
		// only for the backlog re-poll 100 ms from now: a feed pending at its normal interval
		// (items failing, none new) would hold its body and parse for nothing
		f.memos.keep(idx, backlogRepollDue(st, newItems), resp.Body, resp.URL, resp.ContentType, parsed, hash, truncated)
	}
	log.Debug("polled", zap.String("outcome", outcome), zap.Int("new", newItems), zap.Duration("next", d))
	return d
}

// backlogRepollDue reports whether a successful poll is followed by the backlog re-poll
// (backlogRepoll): policy.success's condition, and when the parse memo is kept.
func backlogRepollDue(st *FeedState, newItems int) bool {
	return st.Pending && newItems > 0 && len(st.ItemFailures) == 0
}

func (f *Fetcher) pollFailed(st *FeedState, src Source, err error, log *zap.Logger) time.Duration {
	reason := errorReason(err)
	f.m.errors.WithLabelValues(reason).Inc()
	f.m.polls.WithLabelValues("error").Inc()
	st.Failures++
	st.LastError = err.Error()
	var ra time.Duration
	var se *StatusError
	if errors.As(err, &se) {
		ra = se.RetryAfter
		if (se.Code == 404 || se.Code == 410) && st.URL != "" && st.URL != src.URL {
			st.URL = "" // rediscover from the site next time
		}
	}
	if st.Failures >= f.cfg.ParkAfter && !st.Parked {
		st.Parked = true
		log.Error("feed parked after consecutive failures", zap.Int("failures", st.Failures), zap.String("reason", reason), zap.Error(err))
	} else {
		log.Warn("poll failed", zap.Int("failures", st.Failures), zap.String("reason", reason), zap.Error(err))
	}
	return f.policy.failure(st, ra)
}

// errorReason buckets an error for the errors_total metric.
func errorReason(err error) string {
	var se *StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		if se.Code == 429 {
			return "http_429"
		}
		return fmt.Sprintf("http_%dxx", se.Code/100)
	case errors.Is(err, ErrNXDomain):
		return "nxdomain"
	case errors.Is(err, ErrRedirectRefused):
		return "redirect_refused"
	case errors.Is(err, ErrBadURL):
		return "bad_url"
	case errors.Is(err, ErrBlockedAddress):
		return "blocked"
	case errors.Is(err, ErrRobots):
		return "robots"
	case errors.Is(err, ErrTooManyRedirects):
		return "redirects"
	case errors.Is(err, ErrBodyTooLarge):
		return "too_large"
	case errors.Is(err, ErrHTMLNotFeed):
		return "html_not_feed"
	case errors.Is(err, ErrEmptyBody):
		return "empty"
	case errors.Is(err, ErrNotFeed):
		return "not_feed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "parse feed"), strings.Contains(err.Error(), "sitemap"):
		return "parse"
	case errors.As(err, &ne):
		return "network"
	}
	return "other"
}

// expandIndex fetches the children of a sitemap index whose lastmod changed, newest first,
// at most MaxSitemapKids per poll, and appends their URLs to p.Items.
func (f *Fetcher) expandIndex(ctx context.Context, src Source, st *FeedState, p *Parsed, log *zap.Logger) {
	kids := append([]SitemapRef(nil), p.Children...)
	sort.SliceStable(kids, func(i, j int) bool {
		a, b := kids[i].LastMod, kids[j].LastMod
		return a != nil && (b == nil || a.After(*b))
	})
	if st.Children == nil {
		st.Children = map[string]string{}
	}
	fetched := 0
	next := map[string]string{}
	for _, k := range kids {
		lm := ""
		if k.LastMod != nil {
			lm = k.LastMod.UTC().Format(time.RFC3339)
		}
		if old, ok := st.Children[k.Loc]; ok && lm != "" && old == lm {
			next[k.Loc] = lm
			continue // unchanged since we last read it
		}
		if fetched >= f.cfg.MaxSitemapKids {
			continue
		}
		fetched++
		resp, err := f.client.get(ctx, f.sourceRequest(src, k.Loc, f.cfg.MaxFeedBytes))
		if err != nil {
			log.Warn("child sitemap", zap.String("loc", k.Loc), zap.Error(err))
			continue
		}
		cp, err := ParseSitemap(bytes.NewReader(resp.Body), resp.URL, ParseLimits{MaxSitemapURLs: f.cfg.MaxSitemapURLs})
		if cp != nil {
			p.Items = append(p.Items, cp.Items...)
		}
		if err != nil && !errors.Is(err, ErrTooManyItems) {
			log.Warn("child sitemap", zap.String("loc", k.Loc), zap.Error(err))
			if cp == nil {
				continue
			}
		}
		next[k.Loc] = lm
		if len(next) >= 500 {
			break
		}
	}
	st.Children = next
}

// seenKeys returns the seen-set keys of an item: its canonical URL ("u.<id>") and, when it
// has a GUID distinct from its link, the feed-scoped GUID ("g.<hash>").
func seenKeys(feedKey string, it Item, id string) (ukey, gkey string) {
	ukey = "u." + id
	if it.GUID != "" && it.GUID != it.Link {
		sum := sha256.Sum256([]byte(feedKey + "\x00" + it.GUID))
		gkey = "g." + hex.EncodeToString(sum[:16])
	}
	return ukey, gkey
}

// handleItems publishes the unseen items (newest first, at most MaxItemsPerPoll) and marks
// them seen. complete is false when some items were deferred to the next poll. An item whose
// page fetch failed transiently is deferred, counted in st.ItemFailures, and published with
// the feed's own text (body_source feed_fallback) once it has failed on ItemAttempts polls,
// so no item is retried on every poll forever. It returns an error only when the bus or the
// store failed.
//
// The items are looked up in the seen-set in order (so the per-poll limit keeps the newest)
// and up to ItemConcurrency of them are fetched and published at once: a backlog of pages is
// bounded by the pages' and the broker's round trips in parallel, not in sequence. Two items
// of one poll that turn out to be the same article (one page's canonical is another's URL)
// are published once (itemClaims).
func (f *Fetcher) handleItems(ctx context.Context, src Source, st *FeedState, items []Item, log *zap.Logger) (newN int, complete bool, err error) {
	items = append([]Item(nil), items...)
	sort.SliceStable(items, func(i, j int) bool { return itemTime(items[i]).After(itemTime(items[j])) })
	limit := f.cfg.MaxItemsPerPoll
	if src.Options.MaxItems > 0 {
		limit = src.Options.MaxItems
	}
	run := itemRun{f: f, src: src, st: st, log: log, claims: itemClaims{m: map[string]*claim{}}, complete: true}
	jobs := make(chan itemJob)
	var wg sync.WaitGroup
	workers := 0
	fk := src.Key()
	handled := 0
	present := make(map[string]bool, len(items))
dispatch:
	for _, it := range items {
		if ctx.Err() != nil || run.failed() {
			run.setIncomplete() // poll time is up or the bus failed; the rest next poll
			break
		}
		id, canon, err := article.ID(it.Link)
		if err != nil {
			// No usable link (none, or a URN): the item is known by the feed's URL and its own
			// identity and is published with the feed's text.
			it.Link, it.noLink = feedItemURL(src.URL, it), true
			if id, canon, err = article.ID(it.Link); err != nil {
				f.m.items.WithLabelValues("invalid").Inc()
				continue
			}
		}
		ukey, gkey := seenKeys(fk, it, id)
		if present[ukey] { // the same article twice in one feed (e.g. a utm_* copy)
			f.m.items.WithLabelValues("seen").Inc()
			continue
		}
		present[ukey] = true
		seen, err := f.seenAny(ctx, ukey, gkey)
		if err != nil {
			run.fail(err)
			break
		}
		if seen {
			f.m.items.WithLabelValues("seen").Inc()
			continue
		}
		if handled >= limit {
			f.m.items.WithLabelValues("deferred").Inc()
			run.setIncomplete()
			continue
		}
		handled++
		job := itemJob{it: it, id: id, canon: canon, ukey: ukey, gkey: gkey}
		if workers < f.cfg.ItemConcurrency {
			workers++
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					run.safeHandle(ctx, j)
				}
			}()
		}
		select {
		case jobs <- job:
		case <-ctx.Done():
			run.setIncomplete()
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	for k := range st.ItemFailures { // items gone from the feed
		if !present[k] {
			delete(st.ItemFailures, k)
		}
	}
	return run.newN, run.complete, run.err
}

// itemJob is one unseen feed item of a poll.
type itemJob struct {
	it         Item
	id, canon  string
	ukey, gkey string
}

// itemRun is the shared state of one poll's item workers.
type itemRun struct {
	f      *Fetcher
	src    Source
	st     *FeedState
	log    *zap.Logger
	claims itemClaims

	mu       sync.Mutex // guards the fields below and st.ItemFailures
	newN     int
	complete bool
	err      error
}

func (r *itemRun) setIncomplete() {
	r.mu.Lock()
	r.complete = false
	r.mu.Unlock()
}

// fail records the first bus or store error; no further item is started.
func (r *itemRun) fail(err error) {
	r.mu.Lock()
	r.complete = false
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *itemRun) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil
}

// safeHandle is handle with a panic barrier: a bug on one item defers it to the next poll.
func (r *itemRun) safeHandle(ctx context.Context, j itemJob) {
	defer func() {
		if v := recover(); v != nil {
			r.setIncomplete()
			r.f.m.errors.WithLabelValues("panic").Inc()
			r.log.Error("recovered panic", zap.String("in", "item "+j.it.Link), zap.Any("panic", v), zap.Stack("stack"))
		}
	}()
	r.handle(ctx, j)
}

// handle fetches, publishes and marks one item (the body of the old sequential loop).
func (r *itemRun) handle(ctx context.Context, j itemJob) {
	f, log := r.f, r.log
	if ctx.Err() != nil || r.failed() {
		r.setIncomplete()
		return
	}
	it := j.it
	raw, err := f.buildRaw(ctx, r.src, &it, j.canon)
	if err != nil {
		f.m.errors.WithLabelValues(errorReason(err)).Inc()
		attempts := 0
		// A busy host or the poll's own end is no attempt at the page.
		r.mu.Lock()
		if ctx.Err() == nil && !errors.Is(err, ErrHostBusy) && !errors.Is(err, context.Canceled) {
			if r.st.ItemFailures == nil {
				r.st.ItemFailures = map[string]int{}
			}
			r.st.ItemFailures[j.ukey]++
			attempts = r.st.ItemFailures[j.ukey]
		}
		r.mu.Unlock()
		if raw == nil || attempts < f.cfg.ItemAttempts {
			f.m.items.WithLabelValues("deferred").Inc()
			log.Info("item deferred", zap.String("link", it.Link), zap.Int("attempts", attempts), zap.Error(err))
			r.setIncomplete()
			return
		}
		raw.Extra["fetch_error"] = fmt.Sprintf("%s (failed on %d polls)", err, attempts)
	}
	if raw.Extra["body_source"] == "feed_fallback" {
		log.Warn("item page not fetched; published with the feed's text", zap.String("link", it.Link), zap.String("reason", raw.Extra["fetch_error"]))
	}
	finalID := article.IDFromCanonical(raw.CanonicalURL)
	keys := []string{j.ukey, j.gkey}
	c, first := r.claims.claim(finalID)
	if !first { // another item of this poll is the same article: it decides
		<-c.done
		if !c.published {
			r.setIncomplete() // retried next poll
			return
		}
		f.m.items.WithLabelValues("seen").Inc()
		if err := f.markSeen(ctx, keys...); err != nil {
			r.fail(err)
		}
		return
	}
	defer close(c.done)
	if finalID != j.id {
		fkey := "u." + finalID
		keys = append(keys, fkey)
		if s, err := f.seenAny(ctx, fkey, ""); err != nil {
			r.fail(err)
			return
		} else if s { // same article reached under another URL
			f.m.items.WithLabelValues("seen").Inc()
			if err := f.markSeen(ctx, keys...); err != nil {
				r.fail(err)
				return
			}
			c.published = true
			return
		}
	}
	if err := f.publish(ctx, finalID, raw); err != nil {
		f.m.items.WithLabelValues("publish_error").Inc()
		r.fail(err)
		return
	}
	if err := f.markSeen(ctx, keys...); err != nil {
		r.fail(err)
		return
	}
	c.published = true
	r.mu.Lock()
	delete(r.st.ItemFailures, j.ukey)
	r.newN++
	r.mu.Unlock()
	f.m.items.WithLabelValues("new").Inc()
}

// itemClaims makes the items of one poll that resolve to the same article ID publish it
// once: the first to claim the ID publishes, the others wait for it and are marked seen
// (or retried next poll when it failed).
type itemClaims struct {
	mu sync.Mutex
	m  map[string]*claim
}

type claim struct {
	done      chan struct{} // closed when the claimant is finished
	published bool          // set before done is closed: the article is on the bus (or was seen)
}

func (c *itemClaims) claim(id string) (*claim, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[id]; ok {
		return cl, false
	}
	cl := &claim{done: make(chan struct{})}
	c.m[id] = cl
	return cl, true
}

func itemTime(it Item) time.Time {
	if it.Published != nil {
		return *it.Published
	}
	if it.Updated != nil {
		return *it.Updated
	}
	return time.Time{}
}

// seenCache remembers keys known to be in the seen-set (a positive, replica-local cache:
// seen keys never become unseen except by the 30-day TTL), sparing the Store a round trip
// for every old item of every changed feed. Bounded: cleared when full.
type seenCache struct {
	mu  sync.Mutex
	m   map[string]struct{}
	max int
}

func (c *seenCache) has(k string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[k]
	return ok
}

func (c *seenCache) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]struct{}, 1024)
	}
	c.m[k] = struct{}{}
}

func (f *Fetcher) seenAny(ctx context.Context, keys ...string) (bool, error) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if f.seen.has(k) {
			return true, nil
		}
		sc, cancel := f.sctx(ctx)
		s, err := f.store.Seen(sc, k)
		cancel()
		if err != nil {
			return false, err
		}
		if s {
			f.seen.add(k)
			return true, nil
		}
	}
	return false, nil
}

func (f *Fetcher) markSeen(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			continue
		}
		sc, cancel := f.sctx(ctx)
		_, err := f.store.MarkSeen(sc, k)
		cancel()
		if err != nil {
			return err
		}
		f.seen.add(k)
	}
	return nil
}

// transient reports errors worth retrying on a later poll rather than publishing without a page.
func transient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return !se.Permanent()
	}
	switch {
	case errors.Is(err, ErrRobots), errors.Is(err, ErrBlockedAddress), errors.Is(err, ErrTooManyRedirects), errors.Is(err, ErrBodyTooLarge),
		errors.Is(err, ErrRedirectRefused), errors.Is(err, ErrNXDomain), errors.Is(err, ErrBadURL):
		return false
	}
	return true // timeouts, network (incl. a DNS failure not confirmed), host busy, cancelled
}

// buildRaw assembles the raw payload for an item, fetching its page unless the source is
// full-content. Permanent page errors fall back to the feed's content; transient ones are
// returned (the item is retried next poll) together with that fallback payload, which the
// caller publishes once the item's attempts are spent.
func (f *Fetcher) buildRaw(ctx context.Context, src Source, it *Item, canon string) (*article.Raw, error) {
	now := time.Now().UTC()
	raw := &article.Raw{
		URL: it.Link, CanonicalURL: canon, FetchedAt: now, Extra: map[string]string{},
		Source: article.Source{Name: src.Name, Domain: hostOf(it.Link), FeedURL: publicURL(src.URL), Tags: src.Tags, Language: firstNonEmpty(src.Language, it.Language)},
	}
	if it.Title != "" || it.GUID != "" || it.Description != "" || it.Content != "" || it.Published != nil || it.PublishedText != "" {
		raw.Feed = &article.FeedItem{
			GUID: it.GUID, Title: it.Title, Description: it.Description, Authors: it.Authors, Categories: it.Categories,
			Published: it.Published, Updated: it.Updated, Image: it.Image, Content: it.Content,
			Language: it.FeedLanguage, PublishedText: it.PublishedText, UpdatedText: it.UpdatedText,
		}
	}
	if src.Options.FullContent && strings.TrimSpace(it.Content) != "" {
		raw.ContentType, raw.Body = "text/html", it.Content
		raw.Extra["body_source"] = "feed_content"
		return raw, nil
	}
	if it.noLink {
		raw.ContentType, raw.Body = "text/html", fallbackText(it)
		raw.Extra["body_source"] = "feed_fallback"
		raw.Extra["fetch_error"] = "the item has no link"
		return raw, nil
	}
	t0 := time.Now()
	preq := f.sourceRequest(src, it.Link, f.cfg.MaxPageBytes)
	preq.Truncate, preq.ToUTF8 = true, true
	resp, err := f.client.get(ctx, preq)
	f.m.fetchSeconds.WithLabelValues("page").Observe(time.Since(t0).Seconds())
	if err != nil {
		raw.ContentType, raw.Body = "text/html", fallbackText(it)
		raw.Extra["body_source"] = "feed_fallback"
		raw.Extra["fetch_error"] = err.Error()
		if transient(err) {
			return raw, err
		}
		return raw, nil
	}
	mt, _, _ := mime.ParseMediaType(resp.ContentType)
	raw.URL = resp.URL
	raw.HTTP = &article.HTTPFacts{Status: resp.Status, ETag: resp.ETag, LastModified: resp.LastModified, Charset: resp.Charset,
		CharsetSource: resp.CharsetSource, ContentLanguage: resp.ContentLanguage, Bytes: len(resp.Body)}
	if resp.Truncated {
		raw.Extra["truncated"] = fmt.Sprintf("page exceeded %d bytes", f.cfg.MaxPageBytes)
	}
	switch {
	case mt == "" || mt == "text/html" || mt == "application/xhtml+xml" || mt == "text/plain":
		if mt == "" {
			mt = "text/html"
		}
		raw.ContentType, raw.Body = mt, string(resp.Body)
		raw.Extra["body_source"] = "page"
		if mt != "text/plain" && f.wantsRender(src, resp.Body) {
			html, final, err := f.client.render.render(ctx, resp.URL, preq.UserAgent, preq.Header)
			if err != nil {
				raw.Extra["render_error"] = err.Error()
				f.log.Warn("javascript rendering failed, keeping the HTTP body", zap.String("feed", src.Name), zap.Error(err))
			} else {
				raw.ContentType, raw.Body = "text/html", html
				raw.Extra["rendered"] = "js"
				if final != "" && final != "about:blank" {
					raw.URL = final
				}
			}
		}
	default:
		raw.ContentType, raw.Body = "text/html", fallbackText(it)
		raw.Extra["body_source"] = "feed_fallback"
		raw.Extra["fetch_error"] = "page content-type " + mt
	}
	var declared []string
	if raw.Extra["body_source"] == "page" && mt != "text/plain" {
		declared = headCanonicals(resp.Body)
	}
	_, c, err := article.ChooseCanonical(resp.URL, declared...)
	if err == nil {
		raw.CanonicalURL = c
	}
	return raw, nil
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

// publish encodes and publishes the envelope, keeping it under MaxMessageBytes: first by
// gzipping the body into BodyGzip, then by cutting it (noted in Extra["truncated"]).
func (f *Fetcher) publish(ctx context.Context, id string, raw *article.Raw) error {
	env := &article.Envelope{ID: id, Stage: article.StageRaw, Raw: raw}
	b, err := article.Encode(env)
	if err != nil {
		return fmt.Errorf("fetch: encode %s: %w", id, err)
	}
	if len(b) > f.cfg.MaxMessageBytes && raw.Body != "" {
		body := raw.Body
		for attempt := 0; attempt < 8 && len(b) > f.cfg.MaxMessageBytes; attempt++ {
			var zb bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
			_, _ = zw.Write([]byte(body))
			_ = zw.Close()
			raw.Body, raw.BodyGzip = "", zb.Bytes()
			if b, err = article.Encode(env); err != nil {
				return fmt.Errorf("fetch: encode %s: %w", id, err)
			}
			if len(b) <= f.cfg.MaxMessageBytes {
				break
			}
			cut := len(body) * f.cfg.MaxMessageBytes / len(b) * 9 / 10
			for cut > 0 && !utf8.RuneStart(body[cut]) {
				cut--
			}
			body = body[:cut]
			raw.Extra["truncated"] = "body cut to " + strconv.Itoa(cut) + " bytes to fit the message size limit"
		}
		env.SentAt = time.Time{}
	}
	f.m.published.Observe(float64(len(b)))
	if err := f.pub.Publish(ctx, article.SubjectRaw, bus.Outgoing{Key: id, Data: b, Header: map[string]string{bus.HeaderMsgID: id}}); err != nil {
		return fmt.Errorf("fetch: publish %s: %w", id, err)
	}
	return nil
}
