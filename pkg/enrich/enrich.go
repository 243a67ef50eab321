// Package enrich turns a cleaned article into an enriched one: named entities (NER model +
// gazetteers + alias merging), keyphrases, tone, quotes with speakers, places with ISO codes
// and coordinates, resolved date mentions and coarse categories.
//
// An *Enricher is safe for concurrent use. Enrich is CPU-bound and bounded: it processes at
// most Config.MaxTextBytes of text, never blocks on I/O, and checks ctx between stages.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/enrich/alias"
	"github.com/newsflow/newsflow/pkg/enrich/dates"
	"github.com/newsflow/newsflow/pkg/enrich/geo"
	"github.com/newsflow/newsflow/pkg/enrich/internal/phrase"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
	"github.com/newsflow/newsflow/pkg/enrich/keywords"
	"github.com/newsflow/newsflow/pkg/enrich/ner"
	"github.com/newsflow/newsflow/pkg/enrich/quotes"
	"github.com/newsflow/newsflow/pkg/enrich/sentiment"
)

// ErrInvalid marks input that can never be enriched (nil article). It is permanent: the
// service should dead-letter the message.
var ErrInvalid = errors.New("enrich: invalid input")

// ErrInternal wraps a panic recovered inside Enrich (a bug triggered by this input). Retrying
// the same input would fail again: treat it as permanent and dead-letter the message.
var ErrInternal = errors.New("enrich: internal error")

// Recognizer finds entity spans; *ner.Model implements it.
type Recognizer interface {
	Extract(text string) []ner.Span
}

// Config configures an Enricher. Zero values take the defaults documented per field.
type Config struct {
	// MaxTextBytes caps the text processed per article (default 200 KiB); the rest is ignored.
	MaxTextBytes int
	// AliasFiles are YAML alias tables applied on top of the built-in one, in order.
	AliasFiles []string
	// MaxKeywords per article (default 10).
	MaxKeywords int
	// DFMaxTerms bounds the stream document-frequency table (default 200,000 words);
	// DFMinDocs is the number of articles seen before IDF weighting starts (default 100).
	DFMaxTerms, DFMinDocs int
	// MinQuoteWords is the shortest direct quote kept (default 4).
	MinQuoteWords int
	// MinConfidence is the NER score below which an untyped span is only kept when a
	// gazetteer or name rule types it (default 0.3).
	MinConfidence float64
	// NER overrides the entity recogniser for every language (default: the embedded model
	// for the article's language, ner.ForLanguage, else the English ner.Default()).
	NER Recognizer
	// Now overrides the clock for EnrichedAt (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.MaxTextBytes == 0 {
		c.MaxTextBytes = 200 << 10
	}
	if c.MaxKeywords == 0 {
		c.MaxKeywords = 10
	}
	if c.MinQuoteWords == 0 {
		c.MinQuoteWords = 4
	}
	if c.MinConfidence == 0 {
		c.MinConfidence = 0.3
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	switch {
	case c.MaxTextBytes < 0 || c.MaxTextBytes > 16<<20:
		return fmt.Errorf("enrich: MaxTextBytes %d out of range [1, 16 MiB]", c.MaxTextBytes)
	case c.MaxKeywords < 0 || c.MaxKeywords > 100:
		return fmt.Errorf("enrich: MaxKeywords %d out of range [0, 100]", c.MaxKeywords)
	case c.DFMaxTerms < 0 || c.DFMinDocs < 0:
		return fmt.Errorf("enrich: negative DF settings")
	case c.MinConfidence < 0 || c.MinConfidence > 1:
		return fmt.Errorf("enrich: MinConfidence %v out of range [0, 1]", c.MinConfidence)
	}
	return nil
}

// Enricher enriches cleaned articles. Safe for concurrent use.
type Enricher struct {
	cfg     Config
	log     *zap.Logger
	ner     Recognizer
	aliases *alias.Table
	geo     *geo.Gazetteer
	df      *keywords.DocFreq

	articles *prometheus.CounterVec
	seconds  prometheus.Histogram
	entities *prometheus.CounterVec
}

// New loads the alias table and the gazetteers (about 100–300 ms the first time) and
// registers the enricher's metrics on reg (nil: not registered).
func New(cfg Config, log *zap.Logger, reg prometheus.Registerer) (*Enricher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	if log == nil {
		log = zap.NewNop()
	}
	tab, err := alias.LoadTable(cfg.AliasFiles...)
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	g, err := loadGeo()
	if err != nil {
		return nil, fmt.Errorf("enrich: gazetteer: %w", err)
	}
	rec := cfg.NER
	if rec == nil {
		rec = ner.Default()
	}
	e := &Enricher{
		cfg: cfg, log: log, ner: rec, aliases: tab, geo: g,
		df: keywords.NewDocFreq(cfg.DFMaxTerms, cfg.DFMinDocs),
		articles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_enricher_articles_total", Help: "Articles enriched, by outcome (ok, empty, truncated, invalid, canceled, panic).",
		}, []string{"outcome"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "newsflow_enricher_enrich_seconds", Help: "Time to enrich one article.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		entities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsflow_enricher_entities_total", Help: "Entities found, by type.",
		}, []string{"type"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{e.articles, e.seconds, e.entities} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("enrich: register metrics: %w", err)
			}
		}
	}
	return e, nil
}

func loadGeo() (g *geo.Gazetteer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return geo.Default(), nil
}

// Enrich returns the enrichment of c. Empty text and unsupported languages give a defined,
// sparse result (no sentiment, no keywords), not an error. Errors: ErrInvalid (nil article,
// permanent), ctx.Err() when canceled between stages (retry), or ErrInternal if a stage
// panicked (logged with the article id and stack; permanent).
func (e *Enricher) Enrich(ctx context.Context, id string, c *article.Clean) (out *article.Enriched, err error) {
	start := time.Now()
	outcome := "ok"
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("enrich panic", zap.String("id", id), zap.Any("panic", r), zap.Stack("stack"))
			out, err = nil, fmt.Errorf("%w: %s: %v", ErrInternal, id, r)
			outcome = "panic"
		}
		e.articles.WithLabelValues(outcome).Inc()
		e.seconds.Observe(time.Since(start).Seconds())
	}()
	if c == nil {
		outcome = "invalid"
		return nil, fmt.Errorf("%w: %s: nil article", ErrInvalid, id)
	}
	out = &article.Enriched{Clean: *c, EnrichmentVersion: article.EnrichmentVersion, EnrichedAt: e.cfg.Now().UTC()}
	text := c.Text
	if len(text) > e.cfg.MaxTextBytes {
		text = textutil.Truncate(text, e.cfg.MaxTextBytes)
		outcome = "truncated"
	}
	if strings.TrimSpace(text) == "" {
		outcome = "empty"
		return out, nil
	}
	toks := textutil.Tokenize(text)
	lang := c.Language
	if lang == "" {
		ws := make([]string, 0, min(len(toks), 400))
		for _, t := range toks[:min(len(toks), 600)] {
			if textutil.IsWord(t.Text) {
				ws = append(ws, strings.ToLower(t.Text))
			}
		}
		lang = keywords.GuessLanguage(ws)
		if lang == "" && mostlyHan(text) {
			lang = "zh" // the stopword guess has no Chinese; the script tells
		}
	}

	// entities and places
	doc := e.analyse(text, toks, lang)
	out.Entities = doc.entities
	for _, en := range doc.entities {
		e.entities.WithLabelValues(en.Type).Inc()
	}
	out.Places, out.MainCountry = doc.places, doc.mainCountry
	if err := ctx.Err(); err != nil {
		outcome = "canceled"
		return nil, fmt.Errorf("enrich: %s: %w", id, err)
	}

	// quotes
	out.Quotes = quotes.Find(text, doc.refs, quotes.Options{MinWords: e.cfg.MinQuoteWords})

	// dates
	ref := c.FetchedAt
	if c.PublishedAt != nil && !c.PublishedAt.IsZero() {
		ref = *c.PublishedAt
	}
	out.Dates = dates.Find(text, ref)

	// keywords (language-aware stopwords; stream IDF), then learn this document's words;
	// none for text written without spaces between words (a clause is not a keyword)
	if e.cfg.MaxKeywords > 0 && !unspaced(lang, text) {
		out.Keywords = keywords.Extract(text, keywords.Options{Lang: lang, Max: e.cfg.MaxKeywords, DF: e.df, Title: c.Title, Tokens: toks})
		e.df.ObserveTokens(toks)
	}
	if err := ctx.Err(); err != nil {
		outcome = "canceled"
		return nil, fmt.Errorf("enrich: %s: %w", id, err)
	}

	// tone: English only, null otherwise
	if sentiment.Supported(lang) {
		// text without any lexicon word is neutral (0), not unknown
		s, _ := sentiment.Score(text)
		s = math.Round(s*1000) / 1000
		out.Sentiment = &s
	}
	out.Categories = categorize(toks, lang)
	return out, nil
}

type docResult struct {
	entities    []article.Entity
	refs        []quotes.Ref
	places      []article.Place
	mainCountry string
}

// orgSuffix words mark an untyped capitalised phrase as an organisation.
var orgSuffix = map[string]bool{"department": true, "ministry": true, "council": true, "agency": true, "committee": true,
	"commission": true, "party": true, "bank": true, "university": true, "institute": true, "inc": true, "inc.": true,
	"corp": true, "corp.": true, "ltd": true, "ltd.": true, "group": true, "company": true, "association": true,
	"union": true, "court": true, "office": true, "army": true, "navy": true, "police": true, "parliament": true,
	"senate": true, "congress": true, "organization": true, "organisation": true, "foundation": true, "federation": true,
	"news": true, "times": true, "post": true, "airlines": true, "bureau": true, "service": true, "forces": true}

func (e *Enricher) isPlace(s string) bool {
	_, ok := e.geo.LookupCountry(s)
	return ok
}

func overlaps(a0, a1, b0, b1 int) bool { return a0 < b1 && b0 < a1 }

// foldedBufs pools analyse's folded tokens (*[]string).
var foldedBufs sync.Pool

func (e *Enricher) analyse(text string, toks []textutil.Token, lang string) docResult {
	var res docResult
	var ms []alias.Mention
	type iv struct{ s, e int }
	var strong []iv
	// gazetteer: alias table
	fb, _ := foldedBufs.Get().(*[]string)
	if fb == nil {
		fb = new([]string)
	}
	folded := phrase.FoldInto(*fb, toks)
	defer func() { // the folded tokens are used by the gazetteer scans only
		clear(folded)
		if *fb = folded[:0]; cap(folded) <= 1<<16 {
			foldedBufs.Put(fb)
		}
	}()
	for _, h := range e.aliases.FindFolded(toks, folded) {
		ms = append(ms, alias.Mention{Start: h.Start, End: h.End, Text: text[h.Start:h.End], Type: h.Entry.Type, Canonical: h.Entry.Canonical, Strong: true})
		strong = append(strong, iv{h.Start, h.End})
	}
	// gazetteer: countries (names are LOC entities; demonyms only count for places)
	countryW := map[string]float64{}
	countryN := map[string]int{}
	countryFirst := map[string]int{}
	for _, cm := range e.geo.FindCountriesFolded(toks, folded) {
		clash := false
		for _, s := range strong {
			if overlaps(cm.Start, cm.End, s.s, s.e) {
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		cc := cm.Country.Code
		if _, ok := countryFirst[cc]; !ok {
			countryFirst[cc] = cm.Start
		}
		countryN[cc]++
		if cm.Demonym {
			countryW[cc] += 0.5
			strong = append(strong, iv{cm.Start, cm.End})
			continue
		}
		countryW[cc]++
		ms = append(ms, alias.Mention{Start: cm.Start, End: cm.End, Text: text[cm.Start:cm.End], Type: "LOC", Canonical: cm.Country.Name, Strong: true})
		strong = append(strong, iv{cm.Start, cm.End})
	}
	// the statistical model
	spans := e.safeExtract(text, toks, lang)
	ms = slices.Grow(ms, len(spans))
	for _, sp := range spans {
		n, ok := alias.Normalize(text, sp.Start, sp.End, e.isPlace)
		if !ok {
			continue
		}
		clash := false
		for _, s := range strong {
			if overlaps(n.Start, n.End, s.s, s.e) {
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		m := alias.Mention{Start: n.Start, End: n.End, Text: n.Text}
		confident := sp.Score >= e.cfg.MinConfidence && sp.Type != "MISC"
		if en, ok := e.aliases.Lookup(n.Text); ok {
			m.Type, m.Canonical, m.Strong = en.Type, en.Canonical, true
		} else if c, ok := e.geo.LookupCountry(n.Text); ok && sp.Type != "PER" {
			if !unspaced(lang, n.Text) {
				continue // a demonym or country handled above (e.g. inside a longer span)
			}
			// text without spaces (Chinese): the name scan cannot see words, so the model's
			// span is the country mention
			if _, seen := countryFirst[c.Code]; !seen {
				countryFirst[c.Code] = n.Start
			}
			countryN[c.Code]++
			countryW[c.Code]++
			m.Type, m.Canonical, m.Strong = "LOC", c.Name, true
		} else if confident {
			m.Type, m.Strong = sp.Type, true
		} else {
			m.Type = e.guessType(text, n, sp)
		}
		ms = append(ms, m)
	}
	ents, assign := alias.Merge(ms)
	res.entities = ents
	res.refs = make([]quotes.Ref, 0, len(ms))
	for i, m := range ms {
		if assign[i] >= 0 {
			en := ents[assign[i]]
			res.refs = append(res.refs, quotes.Ref{Start: m.Start, End: m.End, Name: en.Name, Type: en.Type})
		}
	}
	// places: countries, then other LOC entities as cities/regions
	type pl struct {
		p     article.Place
		first int
	}
	var places []pl
	for cc, n := range countryN {
		c := e.geo.Country(cc)
		places = append(places, pl{article.Place{Name: c.Name, CountryCode: cc, Kind: "country", Lat: c.Lat, Lon: c.Lon, Mentions: n}, countryFirst[cc]})
	}
	for _, en := range ents {
		if en.Type != "LOC" {
			continue
		}
		if _, ok := e.geo.LookupCountry(en.Name); ok {
			continue
		}
		if p, ok := e.resolvePlace(text, en, countryW); ok {
			places = append(places, pl{p, en.FirstOffset})
			countryW[p.CountryCode] += 0.5
		}
	}
	sort.SliceStable(places, func(i, j int) bool {
		if places[i].p.Mentions != places[j].p.Mentions {
			return places[i].p.Mentions > places[j].p.Mentions
		}
		return places[i].first < places[j].first
	})
	best, bestW, bestFirst := "", 0.0, math.MaxInt
	for cc, w := range countryW {
		f := countryFirst[cc]
		if w > bestW || w == bestW && f < bestFirst {
			best, bestW, bestFirst = cc, w, f
		}
	}
	res.mainCountry = best
	for _, p := range places {
		res.places = append(res.places, p.p)
	}
	return res
}

func (e *Enricher) resolvePlace(text string, en article.Entity, ctx map[string]float64) (article.Place, bool) {
	// "the Donetsk region" / "Donetsk Oblast": prefer an admin-1 region
	// look for a region word after any mention of the name
	regionCue := false
	for _, form := range append([]string{en.Name}, en.Aliases...) {
		for off := 0; off < len(text); {
			i := strings.Index(text[off:], form)
			if i < 0 {
				break
			}
			a := off + i + len(form)
			after := strings.ToLower(text[a:min(len(text), a+12)])
			if strings.HasPrefix(after, " region") || strings.HasPrefix(after, " oblast") || strings.HasPrefix(after, " province") || strings.HasPrefix(after, " state") {
				regionCue = true
				break
			}
			off = a
		}
	}
	if regionCue {
		var best *geo.Region
		for _, r := range e.geo.Regions(en.Name) {
			if best == nil || ctx[r.Country] > ctx[best.Country] {
				best = r
			}
		}
		if best != nil {
			return article.Place{Name: best.Name, CountryCode: best.Country, Kind: "region", Lat: best.Lat, Lon: best.Lon, Mentions: en.Mentions}, true
		}
	}
	// a city, or an admin-1 region ("Colorado", "Bavaria"): regions score like a city of
	// 300,000 people, both get the country-context bonus
	total := 0.0
	for _, w := range ctx {
		total += w
	}
	bonus := func(cc string) float64 {
		if total == 0 {
			return 0
		}
		return 2.5 * ctx[cc] / total
	}
	var best article.Place
	bestScore := math.Inf(-1)
	if c, ok := e.geo.ResolveCity(en.Name, ctx, 0); ok {
		best = article.Place{Name: c.Name, CountryCode: c.Country, Kind: "city", Lat: c.Lat, Lon: c.Lon, Mentions: en.Mentions}
		bestScore = math.Log10(float64(c.Population)+1) + bonus(c.Country)
		if c.Feature == "PPLC" {
			bestScore++
		}
	}
	for _, r := range e.geo.Regions(en.Name) {
		if s := 5.5 + bonus(r.Country); s > bestScore {
			best = article.Place{Name: r.Name, CountryCode: r.Country, Kind: "region", Lat: r.Lat, Lon: r.Lon, Mentions: en.Mentions}
			bestScore = s
		}
	}
	return best, !math.IsInf(bestScore, -1)
}

// guessType types a low-confidence or MISC span with name rules; "" means unknown (kept only if
// it turns out to be a known person's surname).
func (e *Enricher) guessType(text string, n alias.Normalized, sp ner.Span) string {
	fs := strings.Fields(n.Text)
	allCap := true
	for _, f := range fs {
		if !textutil.IsCap(f) && !textutil.IsAllCaps(f) && !isLinkWord(f) {
			allCap = false
		}
	}
	switch {
	case !allCap:
	case n.PersonTitle && len(fs) <= 4:
		return "PER"
	case orgSuffix[strings.ToLower(fs[len(fs)-1])] && len(fs) >= 2:
		return "ORG"
	case len(fs) >= 2 && len(fs) <= 4 && alias.IsForename(fs[0]) && !textutil.IsAllCaps(n.Text):
		return "PER"
	}
	if len(fs) <= 3 && !textutil.IsAllCaps(n.Text) {
		if cs := e.geo.Cities(n.Text); len(cs) > 0 && (cs[0].Population >= 100000 || locCue(text, n.Start)) {
			return "LOC"
		}
		if rs := e.geo.Regions(n.Text); len(rs) > 0 && locCue(text, n.Start) {
			return "LOC"
		}
	}
	if sp.Type == "MISC" && sp.Score >= e.cfg.MinConfidence {
		return "MISC"
	}
	return ""
}

func isLinkWord(w string) bool {
	switch w {
	case "of", "de", "la", "the", "and", "for", "von", "van", "der", "del", "da", "bin", "al", "&":
		return true
	}
	return false
}

// locCue reports a locative preposition right before start ("in Donetsk", "near Kharkiv").
func locCue(text string, start int) bool {
	a := max(0, start-12)
	pre := strings.ToLower(text[a:start])
	for _, p := range []string{" in ", " near ", " from ", " to ", " at ", " outside ", " of ", " in the "} {
		if strings.HasSuffix(pre, p) {
			return true
		}
	}
	return false
}

// unspaced reports whether text is in a language or script written without spaces between
// words (Chinese, Japanese, Thai, Lao, Khmer, Burmese, Tibetan), judged by lang or, when
// that is not one of them, by most letters of the first 2,000 bytes.
func unspaced(lang, text string) bool {
	switch lang {
	case "zh", "ja", "th", "lo", "km", "my", "bo":
		return true
	}
	letters, _, un, _ := scriptCounts(text)
	return letters > 0 && un*2 > letters
}

// mostlyHan reports whether most letters of the first 2,000 bytes of text are Han characters
// and none is Japanese kana.
func mostlyHan(text string) bool {
	letters, han, _, kana := scriptCounts(text)
	return !kana && letters > 0 && han*2 > letters
}

// scriptCounts counts the letters of the first 2,000 bytes of text: all of them, the Han
// ones, and those of scripts written without spaces; kana reports any Japanese kana.
func scriptCounts(text string) (letters, han, unspaced int, kana bool) {
	for _, r := range text[:min(len(text), 2000)] {
		if r < utf8.RuneSelf { // ASCII: a letter of no script counted apart
			if 'a' <= r|0x20 && r|0x20 <= 'z' {
				letters++
			}
			continue
		}
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			unspaced++
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana = true
			unspaced++
		case unicode.In(r, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan):
			unspaced++
		}
	}
	return letters, han, unspaced, kana
}

// recognizer is the entity recogniser for lang: Config.NER when set, else the embedded model
// for lang (ner.ForLanguage: the character model for zh, multi for other non-English
// languages), else (English, unknown, Japanese...) the English model.
func (e *Enricher) recognizer(lang string) Recognizer {
	if e.cfg.NER == nil {
		if m := ner.ForLanguage(lang); m != nil {
			return m
		}
	}
	return e.ner
}

// tokenRecognizer is a Recognizer that can take the text's tokens (textutil.Tokenize(text))
// instead of tokenising it again; *ner.Model is one.
type tokenRecognizer interface {
	ExtractTokens(text string, toks []ner.Token) []ner.Span
}

func (e *Enricher) safeExtract(text string, toks []textutil.Token, lang string) (spans []ner.Span) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("ner panic; continuing without model spans", zap.Any("panic", r))
			spans = nil
		}
	}()
	if r, ok := e.recognizer(lang).(tokenRecognizer); ok {
		spans = r.ExtractTokens(text, toks)
	} else {
		spans = e.recognizer(lang).Extract(text)
	}
	// defensive: drop spans with bad offsets
	out := spans[:0]
	for _, s := range spans {
		if s.Start >= 0 && s.End <= len(text) && s.Start < s.End {
			out = append(out, s)
		}
	}
	return out
}
