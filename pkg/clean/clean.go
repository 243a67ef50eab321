// Package clean turns a fetched page (HTML or plain text) into a clean article: main text
// as paragraphs without boilerplate, metadata (title, authors, dates with their source,
// language, site, description, image, tags, canonical URL), content hash, SimHash and
// near-duplicate cluster. Extraction starts from go-trafilatura and go-readability and adds
// candidate arbitration, rule-based and learned (per-site template) boilerplate removal and
// bounded, fail-closed input handling.
package clean

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// Config configures a Cleaner.
type Config struct {
	// MaxInputBytes: bodies larger than this are rejected (permanent error).
	MaxInputBytes int `yaml:"max_input_bytes"`
	// MaxHTMLBytes: at most this much HTML is parsed; longer pages are cut at a tag boundary.
	MaxHTMLBytes int `yaml:"max_html_bytes"`
	// MaxDepth: pages whose element nesting exceeds this are rejected (permanent error).
	MaxDepth int `yaml:"max_depth"`
	// Timeout is the time budget for one page (on top of the caller's context).
	Timeout time.Duration `yaml:"timeout"`
	// Languages restricts language detection to these ISO 639-1 codes (empty = all ~80
	// languages whatlanggo knows).
	Languages []string `yaml:"languages"`
	// MinTextRunes: pages whose cleaned text is shorter are rejected as "no article text".
	MinTextRunes int `yaml:"min_text_runes"`
	// Template and Dedup configure site-template learning and near-duplicate detection; the
	// Disable flags turn them off.
	Template        TemplateConfig `yaml:"template"`
	Dedup           DedupConfig    `yaml:"dedup"`
	DisableTemplate bool           `yaml:"disable_template"`
	DisableDedup    bool           `yaml:"disable_dedup"`
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{
		MaxInputBytes: 32 << 20,
		MaxHTMLBytes:  5 << 20,
		MaxDepth:      512,
		Timeout:       10 * time.Second,
		Languages:     []string{"en", "es", "fr", "de", "it", "pt", "nl", "ru", "uk", "pl", "ar", "zh", "ja", "tr", "sv", "hi"},
		MinTextRunes:  1,
		Template:      DefaultTemplateConfig(),
		Dedup:         DefaultDedupConfig(),
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.MaxInputBytes <= 0 || c.MaxHTMLBytes <= 0:
		return errors.New("clean: max_input_bytes and max_html_bytes must be > 0")
	case c.MaxDepth < 16:
		return errors.New("clean: max_depth must be >= 16")
	case c.Timeout <= 0:
		return errors.New("clean: timeout must be > 0")
	case c.MinTextRunes < 0:
		return errors.New("clean: min_text_runes must be >= 0")
	}
	if _, err := langWhitelist(c.Languages); err != nil {
		return err
	}
	if !c.DisableTemplate {
		if err := c.Template.Validate(); err != nil {
			return err
		}
	}
	if !c.DisableDedup {
		if err := c.Dedup.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Cleaner cleans pages. It is safe for concurrent use; Clean does CPU work only (no I/O) and
// returns within about Config.Timeout.
type Cleaner struct {
	cfg      Config
	log      *zap.Logger
	m        *metrics
	langs    langSet
	Template *TemplateLearner // nil when disabled; exposed for Snapshot/Restore
	Dedup    *DedupIndex      // nil when disabled; exposed for Snapshot/Restore
}

// New validates cfg and returns a Cleaner registering its metrics on reg (nil: not
// registered).
func New(cfg Config, log *zap.Logger, reg prometheus.Registerer) (*Cleaner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("clean: metrics: %w", err)
	}
	ls, _ := langWhitelist(cfg.Languages)
	c := &Cleaner{cfg: cfg, log: log, m: m, langs: ls}
	if !cfg.DisableTemplate {
		if c.Template, err = NewTemplateLearner(cfg.Template); err != nil {
			return nil, err
		}
	}
	if !cfg.DisableDedup {
		if c.Dedup, err = NewDedupIndex(cfg.Dedup); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Sentinel reasons for rejected input; Clean wraps them in bus.Permanent.
var (
	ErrEmpty       = errors.New("empty body")
	ErrTooLarge    = errors.New("body too large")
	ErrBinary      = errors.New("binary content")
	ErrEncoding    = errors.New("broken text encoding")
	ErrContentType = errors.New("unsupported content type")
	ErrTooDeep     = errors.New("html nesting too deep")
	ErrNoText      = errors.New("no article text")
	ErrTimeBudget  = errors.New("time budget exceeded")
)

// Clean extracts the article from raw. Errors caused by the input (see the Err* reasons) are
// wrapped with bus.Permanent so the runtime dead-letters the message; a canceled ctx returns
// ctx.Err() (retryable). The page's own time budget (Config.Timeout) running out is
// permanent: the same page would run out again.
func (c *Cleaner) Clean(ctx context.Context, id string, raw *article.Raw) (*article.Clean, error) {
	start := time.Now()
	out, err := c.clean(ctx, id, raw)
	c.m.extract.Observe(time.Since(start).Seconds())
	switch {
	case err == nil && out.DuplicateOf != "":
		c.m.pages.WithLabelValues("duplicate").Inc()
	case err == nil:
		c.m.pages.WithLabelValues("ok").Inc()
	case errors.Is(err, ErrTimeBudget):
		c.m.pages.WithLabelValues("timeout").Inc()
	case bus.IsPermanent(err):
		c.m.pages.WithLabelValues("permanent").Inc()
	default:
		c.m.pages.WithLabelValues("canceled").Inc()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func permanent(id string, reason error, format string, args ...any) error {
	detail := fmt.Sprintf(format, args...)
	if detail != "" {
		return bus.Permanent(fmt.Errorf("cleaner: %s: %w: %s", id, reason, detail))
	}
	return bus.Permanent(fmt.Errorf("cleaner: %s: %w", id, reason))
}

func (c *Cleaner) clean(ctx context.Context, id string, raw *article.Raw) (*article.Clean, error) {
	if raw == nil {
		return nil, permanent(id, ErrEmpty, "no raw payload")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cleaner: %s: %w", id, err)
	}
	fromFeed := feedBody(raw.Extra)
	if raw.Feed != nil {
		// Feed titles, descriptions and authors are HTML by convention: plain text here.
		cp, f := *raw, *raw.Feed
		f.Title, f.Description = FeedLine(f.Title), FeedLine(f.Description)
		f.Authors = mapStrings(f.Authors, FeedLine)
		cp.Feed = &f
		raw = &cp
		if raw.Body == "" && len(raw.BodyGzip) == 0 && strings.TrimSpace(f.Content) != "" {
			// Full-content feed item fetched without a page body: clean the feed's content.
			cp.Body, cp.ContentType, fromFeed = f.Content, "text/plain", true
		}
	}
	body, err := c.body(id, raw)
	if err != nil {
		return nil, err
	}
	kind := "text"
	if fromFeed {
		// The feed item's own text (an HTML fragment, or text with entities), not a page:
		// no page extraction, the parser's plain text with its paragraph breaks.
		body = FeedText(body)
	} else if kind, err = c.kind(id, raw.ContentType, body); err != nil {
		return nil, err
	}
	ex := &extraction{}
	if kind == "html" {
		ex, err = c.extractHTMLBudget(ctx, id, raw, body)
		if err != nil {
			return nil, err
		}
	} else {
		ex = extractPlain(body, raw, !fromFeed)
	}
	return c.finish(ctx, id, raw, ex)
}

// body returns the UTF-8 body, decompressing BodyGzip, checking size, binary content and
// encoding.
func (c *Cleaner) body(id string, raw *article.Raw) (string, error) {
	body := raw.Body
	if body == "" && len(raw.BodyGzip) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(raw.BodyGzip))
		if err != nil {
			return "", permanent(id, ErrEncoding, "body_gzip: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, int64(c.cfg.MaxInputBytes)+1))
		if err != nil {
			return "", permanent(id, ErrEncoding, "body_gzip: %v", err)
		}
		body = string(b)
	}
	if strings.TrimSpace(body) == "" {
		return "", permanent(id, ErrEmpty, "")
	}
	if len(body) > c.cfg.MaxInputBytes {
		return "", permanent(id, ErrTooLarge, "%d bytes > limit %d", len(body), c.cfg.MaxInputBytes)
	}
	// Binary sniff over the first 8 KiB: NULs or many control bytes.
	head := body[:min(len(body), 8192)]
	ctl := 0
	for i := 0; i < len(head); i++ {
		b := head[i]
		if b == 0 {
			return "", permanent(id, ErrBinary, "NUL byte at offset %d", i)
		}
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f' {
			ctl++
		}
	}
	if ctl*20 > len(head) {
		return "", permanent(id, ErrBinary, "%d control bytes in first %d", ctl, len(head))
	}
	if !utf8.ValidString(body) {
		// Bytes not in UTF-8 (a producer that did not decode, e.g. a file given to
		// `newsflow extract`): the fetcher's decoder (declared charset checked against the
		// bytes, else detection) recovers legacy charsets; a BOM or no plausible charset
		// leaves them to the checks below.
		if out, d := article.DecodeHTML([]byte(body), raw.ContentType); d.Charset != "utf-8" &&
			(d.Source == article.CharsetDetected || d.Source == article.CharsetHTTP || d.Source == article.CharsetMeta) {
			return string(out), nil
		}
		bad := 0
		for i := 0; i < len(body); {
			r, sz := utf8.DecodeRuneInString(body[i:])
			if r == utf8.RuneError && sz == 1 {
				bad++
			}
			i += sz
		}
		if bad*20 > len(body) || (bad*5 > len(head) && len(body) < 256) {
			return "", permanent(id, ErrEncoding, "%d invalid UTF-8 bytes in %d", bad, len(body))
		}
		body = strings.ToValidUTF8(body, "\uFFFD")
	}
	if rep, high := replacementShare(body); rep >= minLostRunes && rep*2 > high {
		// Text that was decoded with the wrong charset before it reached us (invalid bytes
		// became U+FFFD when the message was encoded): say so rather than let the
		// paragraphs of "����" fall to the boilerplate rules.
		return "", permanent(id, errLostEncoding, "%d of %d non-ASCII characters are U+FFFD: the bytes were not in the charset they were read as", rep, high)
	}
	return body, nil
}

// errLostEncoding is both ErrEncoding (the cause) and ErrDegenerate (what the text is).
var errLostEncoding = fmt.Errorf("%w (%w)", ErrEncoding, ErrDegenerate)

// minLostRunes: fewer U+FFFD than this are stray characters, not a lost encoding.
const minLostRunes = 20

// replacementShare counts U+FFFD runes and all non-ASCII runes of s.
func replacementShare(s string) (rep, high int) {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			high++
			if r == utf8.RuneError {
				rep++
			}
		}
	}
	return rep, high
}

// kind decides between "html" and "text" from the declared content type and the body.
func (c *Cleaner) kind(id, contentType, body string) (string, error) {
	mt := ""
	if contentType != "" {
		if t, _, err := mime.ParseMediaType(contentType); err == nil {
			mt = strings.ToLower(t)
		} else {
			mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
		}
	}
	looksHTML := looksLikeHTML(body)
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		if looksHTML {
			return "html", nil
		}
		return "text", nil // servers mislabel plain text as text/html
	case mt == "text/plain":
		return "text", nil
	case mt == "":
		sniff := http.DetectContentType([]byte(body[:min(len(body), 512)]))
		if looksHTML {
			return "html", nil
		}
		if strings.HasPrefix(sniff, "text/plain") {
			return "text", nil
		}
		return "", permanent(id, ErrContentType, "sniffed %q", sniff)
	}
	return "", permanent(id, ErrContentType, "%q", mt)
}

func looksLikeHTML(body string) bool {
	head := strings.ToLower(body[:min(len(body), 4096)])
	for _, t := range []string{"<html", "<!doctype html", "<head", "<body", "<p>", "<p ", "<div", "<article", "<br", "<meta", "<title"} {
		if strings.Contains(head, t) {
			return true
		}
	}
	return false
}

// finish applies boilerplate removal, normalisation, language, hashes and dedup.
func (c *Cleaner) finish(ctx context.Context, id string, raw *article.Raw, ex *extraction) (*article.Clean, error) {
	mergeFeed(ex, raw.Feed)
	site := siteKey(raw)
	paras := make([]string, 0, len(ex.paragraphs))
	replaced := ex.replaced // U+FFFD in the extracted text (NormalizeText drops them)
	for _, p := range ex.paragraphs {
		if len(paras) >= maxParagraphs {
			break
		}
		replaced += strings.Count(p, "\uFFFD")
		if p = NormalizeText(p); p != "" {
			for _, l := range strings.Split(p, "\n") {
				if containsFoldASCII(l, "tweet") { // literal prefilter
					l = reClickToTweet.ReplaceAllString(l, "")
				}
				if l = strings.TrimSpace(l); l != "" {
					paras = append(paras, l)
				}
			}
		}
	}
	var tmpl []bool
	if c.Template != nil {
		var err error
		if tmpl, err = c.Template.ObserveMatch(ctx, site, id, paras); err != nil {
			return nil, fmt.Errorf("cleaner: %s: %w", id, err)
		}
	}
	tmplRemoved, linkRemoved := 0, 0
	kept, removed := filterLines(paras, func(i int, key string) bool {
		if tmpl != nil && tmpl[i] {
			tmplRemoved++
			return true
		}
		if len(ex.links) > 0 && ex.links[key] {
			linkRemoved++
			return true
		}
		return false
	})
	// Leading lines repeating the title (the body starts after the headline).
	titles := map[string]bool{}
	for _, t := range append(ex.titles, ex.title) {
		if k := normLine(t); k != "" {
			titles[k] = true
		}
	}
	for len(kept) > 0 && titles[normLine(kept[0])] {
		kept = kept[1:]
		removed++
	}
	if tmplRemoved > 0 {
		c.m.removed.WithLabelValues("template").Add(float64(tmplRemoved))
	}
	if linkRemoved > 0 {
		c.m.removed.WithLabelValues("link").Add(float64(linkRemoved))
	}
	if r := removed - tmplRemoved - linkRemoved; r > 0 {
		c.m.removed.WithLabelValues("rule").Add(float64(r))
	}
	kept = capParagraphs(kept, maxTextBytes)
	text := strings.Join(kept, "\n\n")
	if utf8.RuneCountInString(text) < max(c.cfg.MinTextRunes, 1) {
		return nil, permanent(id, ErrNoText, "%d paragraphs extracted, %d removed as boilerplate", len(paras), removed)
	}
	if reason := degenerateReason(text, replaced); reason != "" {
		return nil, permanent(id, ErrDegenerate, "%s", reason)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cleaner: %s: %w", id, err)
	}
	out := &article.Clean{
		URL:           raw.URL,
		CanonicalURL:  raw.CanonicalURL,
		Source:        raw.Source,
		Title:         NormalizeText(ex.title),
		Authors:       ex.authors,
		FetchedAt:     raw.FetchedAt,
		SiteName:      NormalizeText(ex.siteName),
		Description:   NormalizeText(ex.description),
		Text:          text,
		Paragraphs:    kept,
		Image:         ex.image,
		Tags:          ex.tags,
		RemovedBlocks: removed,
	}
	if _, canon, err := article.ChooseCanonical(raw.URL, ex.canonical...); err == nil {
		out.CanonicalURL = canon
	} else if out.CanonicalURL == "" {
		out.CanonicalURL = raw.URL
	}
	out.PublishedAt, out.ModifiedAt, out.DateSource = chooseDates(raw, ex)
	decls := []declaration{{raw.Source.Language, "source"}}
	if raw.Feed != nil {
		decls = append(decls, declaration{raw.Feed.Language, "feed"})
	}
	decls = append(decls, declaration{ex.htmlLang, "page"}, declaration{ex.contentLang, "page"})
	if raw.HTTP != nil {
		decls = append(decls, declaration{raw.HTTP.ContentLanguage, "http"})
	}
	out.Language, out.LanguageConf, out.LanguageSource = c.langs.detect(text, decls...)
	out.WordCount = len(strings.Fields(text))
	norm := normLine(text) // once for the content hash and the SimHash
	sum := sha256.Sum256([]byte(norm))
	out.ContentHash = hex.EncodeToString(sum[:])
	sim := simHashNorm(norm)
	out.SimHash = fmt.Sprintf("%016x", sim)
	// Duplicates are recorded under the ID the article is published with downstream: the
	// one of its canonical URL (DESIGN.md), which may differ from the fetcher's.
	did := id
	if out.CanonicalURL != "" {
		did = article.IDFromCanonical(out.CanonicalURL)
	}
	if c.Dedup != nil {
		at := raw.FetchedAt
		if at.IsZero() {
			at = time.Now()
		}
		r, err := c.Dedup.AddContext(ctx, did, sim, out.ContentHash, out.WordCount, at)
		if err != nil {
			return nil, fmt.Errorf("cleaner: %s: %w", id, err)
		}
		out.DuplicateOf, out.ClusterID = r.DuplicateOf, r.ClusterID
		if r.DuplicateOf != "" {
			c.m.duplicates.Inc()
		}
	} else {
		out.ClusterID = did
	}
	return out, nil
}

// maxTextBytes caps the cleaned text so a clean envelope (text + paragraphs) stays under the
// broker's 1 MiB payload limit; the enricher reads at most 200 KiB anyway.
const maxTextBytes = 256 << 10

// capParagraphs keeps whole paragraphs up to limit bytes of joined text (paragraphs are
// joined with a 2-byte separator; at least the first one is kept, cut at a rune boundary if
// it alone is longer than limit).
func capParagraphs(paras []string, limit int) []string {
	n := 0
	for i, p := range paras {
		if i > 0 {
			n += 2 // "\n\n" before every paragraph but the first
		}
		n += len(p)
		if n <= limit {
			continue
		}
		if i > 0 {
			return paras[:i]
		}
		// The first paragraph alone is longer than limit (so p[limit] exists): cut it at
		// the last rune start at or before limit.
		cut := limit
		for cut > 0 && !utf8.RuneStart(p[cut]) {
			cut--
		}
		return []string{p[:cut]}
	}
	return paras
}

// mergeFeed fills metadata the page lacks from the feed item, and adds the feed's categories
// to the page's tags.
func mergeFeed(ex *extraction, f *article.FeedItem) {
	if f == nil {
		return
	}
	if ex.title == "" {
		ex.title = f.Title
	}
	if len(ex.authors) == 0 {
		ex.authors = dedupStrings(f.Authors, 10)
	}
	if ex.description == "" {
		ex.description = f.Description
	}
	if ex.image == "" {
		ex.image = f.Image
	}
	ex.tags = dedupStrings(append(append([]string{}, ex.tags...), f.Categories...), 30)
}

// Snapshot returns the learned state (site templates, dedup window) for a KV store; nil for
// a disabled part. Safe to call concurrently with Clean.
func (c *Cleaner) Snapshot() (template, dedup []byte) {
	if c.Template != nil {
		template = c.Template.Snapshot()
	}
	if c.Dedup != nil {
		dedup = c.Dedup.Snapshot()
	}
	return template, dedup
}

// Restore loads state saved by Snapshot (empty slices are skipped). Call before the first
// Clean.
func (c *Cleaner) Restore(template, dedup []byte) error {
	if c.Template != nil && len(template) > 0 {
		if err := c.Template.Restore(template); err != nil {
			return err
		}
	}
	if c.Dedup != nil && len(dedup) > 0 {
		if err := c.Dedup.Restore(dedup); err != nil {
			return err
		}
	}
	return nil
}

func mapStrings(in []string, f func(string) string) []string {
	if len(in) == 0 {
		return in
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// maxParagraphs bounds the paragraphs kept per page (a real article has at most a few
// hundred; hostile inputs can have millions of lines).
const maxParagraphs = 5000

// siteKey is the template-learning key: the source domain, else the URL host without www.
func siteKey(raw *article.Raw) string {
	if raw.Source.Domain != "" {
		return strings.ToLower(raw.Source.Domain)
	}
	u := raw.URL
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	return strings.TrimPrefix(strings.ToLower(u), "www.")
}
