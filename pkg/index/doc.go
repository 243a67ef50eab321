// Package index writes enriched articles and alerts to Elasticsearch 8: index templates and
// lifecycle setup, the document shape Kibana sees, and a BulkWriter that acks each bus message
// only after its bulk item succeeded (exactly-once effect via _id = article ID and external
// versioning).
package index

import (
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// Languages with a per-language analysed copy of title and text (text_lang.<code>).
// English has none: the main fields carry it (title.english, text.english subfields), so an
// English article — most of them — is stored and analysed once per analyser instead of
// carrying its text twice (BenchmarkBulkIndex5KB: no-lang-copy vs default).
var analysedLanguages = map[string]string{
	"de": "german", "fr": "french", "es": "spanish", "it": "italian",
	"pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "ru": "russian",
}

// ArticleDoc is the Elasticsearch document for one article (mapping: templates.go).
type ArticleDoc struct {
	Timestamp          time.Time           `json:"@timestamp"`
	ID                 string              `json:"id"`
	URL                string              `json:"url"`
	CanonicalURL       string              `json:"canonical_url"`
	Title              string              `json:"title"`
	Description        string              `json:"description,omitempty"`
	Text               string              `json:"text"`
	TextLang           map[string]LangText `json:"text_lang,omitempty"`
	Authors            []string            `json:"authors,omitempty"`
	SiteName           string              `json:"site_name,omitempty"`
	Source             article.Source      `json:"source"`
	Language           string              `json:"language,omitempty"`
	LanguageConfidence float64             `json:"language_confidence,omitempty"`
	LanguageSource     string              `json:"language_source,omitempty"`
	PublishedAt        *time.Time          `json:"published_at,omitempty"`
	ModifiedAt         *time.Time          `json:"modified_at,omitempty"`
	FetchedAt          time.Time           `json:"fetched_at"`
	EnrichedAt         time.Time           `json:"enriched_at"`
	DateSource         string              `json:"date_source,omitempty"`
	Image              string              `json:"image,omitempty"`
	Tags               []string            `json:"tags,omitempty"`
	Categories         []string            `json:"categories,omitempty"`
	WordCount          int                 `json:"word_count"`
	ContentHash        string              `json:"content_hash,omitempty"`
	SimHash            string              `json:"simhash,omitempty"`
	DuplicateOf        string              `json:"duplicate_of,omitempty"`
	ClusterID          string              `json:"cluster_id,omitempty"`
	IsDuplicate        bool                `json:"is_duplicate"`
	Entities           EntityFields        `json:"entities"`
	EntityDetails      []article.Entity    `json:"entity_details,omitempty"`
	Keywords           []string            `json:"keywords,omitempty"`
	Sentiment          *float64            `json:"sentiment,omitempty"`
	Quotes             []QuoteDoc          `json:"quotes,omitempty"`
	Places             PlaceFields         `json:"places"`
	MainCountry        string              `json:"main_country,omitempty"`
	DatesMentioned     []time.Time         `json:"dates_mentioned,omitempty"`
	EnrichmentVersion  int                 `json:"enrichment_version"`
}

// LangText is the per-language analysed copy of title and text.
type LangText struct {
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
}

// EntityFields holds canonical entity names per type, plus "TYPE:normalized" keys in All for
// one terms aggregation across types.
type EntityFields struct {
	PER  []string `json:"per,omitempty"`
	ORG  []string `json:"org,omitempty"`
	LOC  []string `json:"loc,omitempty"`
	MISC []string `json:"misc,omitempty"`
	All  []string `json:"all,omitempty"`
}

// QuoteDoc is a quote as indexed.
type QuoteDoc struct {
	Text    string `json:"text"`
	Speaker string `json:"speaker,omitempty"`
}

// PlaceFields holds places for filters (names, country codes) and Kibana Maps (locations).
type PlaceFields struct {
	Names        []string   `json:"names,omitempty"`
	CountryCodes []string   `json:"country_codes,omitempty"`
	Locations    []GeoPoint `json:"locations,omitempty"`
}

// GeoPoint is an ES geo_point in object form.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// NewArticleDoc builds the document for an enriched article.
func NewArticleDoc(id string, e *article.Enriched) ArticleDoc {
	d := ArticleDoc{
		ID: id, URL: e.URL, CanonicalURL: e.CanonicalURL, Title: e.Title, Description: e.Description,
		Text: e.Text, Authors: e.Authors, SiteName: e.SiteName, Source: e.Source, Language: e.Language,
		LanguageConfidence: e.LanguageConf, LanguageSource: e.LanguageSource, PublishedAt: e.PublishedAt, ModifiedAt: e.ModifiedAt,
		FetchedAt: e.FetchedAt, EnrichedAt: e.EnrichedAt, DateSource: e.DateSource, Image: e.Image,
		Tags: e.Tags, Categories: e.Categories, WordCount: e.WordCount, ContentHash: e.ContentHash,
		SimHash: e.SimHash, DuplicateOf: e.DuplicateOf, ClusterID: e.ClusterID, IsDuplicate: e.DuplicateOf != "",
		EntityDetails: e.Entities, Sentiment: e.Sentiment, MainCountry: e.MainCountry,
		EnrichmentVersion: e.EnrichmentVersion,
	}
	d.Timestamp = DocTime(e)
	if _, ok := analysedLanguages[e.Language]; ok {
		d.TextLang = map[string]LangText{e.Language: {Title: e.Title, Text: e.Text}}
	}
	for _, en := range e.Entities {
		switch strings.ToUpper(en.Type) {
		case "PER":
			d.Entities.PER = append(d.Entities.PER, en.Name)
		case "ORG":
			d.Entities.ORG = append(d.Entities.ORG, en.Name)
		case "LOC":
			d.Entities.LOC = append(d.Entities.LOC, en.Name)
		default:
			d.Entities.MISC = append(d.Entities.MISC, en.Name)
		}
		d.Entities.All = append(d.Entities.All, strings.ToUpper(en.Type)+":"+en.Normalized)
	}
	for _, k := range e.Keywords {
		d.Keywords = append(d.Keywords, k.Term)
	}
	for _, q := range e.Quotes {
		d.Quotes = append(d.Quotes, QuoteDoc{Text: q.Text, Speaker: q.Speaker})
	}
	seenCC := map[string]bool{}
	for _, p := range e.Places {
		d.Places.Names = append(d.Places.Names, p.Name)
		if p.CountryCode != "" && !seenCC[p.CountryCode] {
			seenCC[p.CountryCode] = true
			d.Places.CountryCodes = append(d.Places.CountryCodes, p.CountryCode)
		}
		if p.Lat != 0 || p.Lon != 0 {
			d.Places.Locations = append(d.Places.Locations, GeoPoint{Lat: p.Lat, Lon: p.Lon})
		}
	}
	for _, dm := range e.Dates {
		d.DatesMentioned = append(d.DatesMentioned, dm.Resolved)
	}
	return d
}

// DocTime is the time an article is filed under: published, else fetched.
func DocTime(e *article.Enriched) time.Time {
	if e.PublishedAt != nil && !e.PublishedAt.IsZero() {
		return e.PublishedAt.UTC()
	}
	return e.FetchedAt.UTC()
}

// Version is the external version of an article document: newer fetches win, and for the same
// fetch a newer enrichment wins. Redelivery of the same message has the same version, which
// external_gte accepts as an idempotent overwrite; an older one gets 409 and is skipped.
// An article without a (positive) fetch time gets only its enrichment version, so it is
// treated as the oldest possible fetch; ES never sees a negative version.
func Version(e *article.Enriched) int64 {
	ev := int64(e.EnrichmentVersion % 1000)
	if ev < 0 {
		ev = 0
	}
	ms := e.FetchedAt.UnixMilli()
	if e.FetchedAt.IsZero() || ms <= 0 {
		return ev
	}
	return ms*1000 + ev
}

// AlertDoc is the Elasticsearch document for an alert.
// Alerts of an episode share one document (ID = the episode id) that each message of the
// episode replaces; MessageID is the latest message's id.
type AlertDoc struct {
	Timestamp time.Time `json:"@timestamp"`
	ID        string    `json:"id"`
	MessageID string    `json:"message_id,omitempty"`
	*article.Alert
}
