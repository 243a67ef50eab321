package index

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Names of the indices, aliases and templates. Articles live in monthly indices
// "<prefix>-articles-YYYY.MM" chosen by DocTime (published, else fetched), so one article
// always lands in the same index and redelivery overwrites instead of duplicating (an undated
// article re-fetched in a later month goes to the index that already holds it: see
// Indexer.existingIndex); the read alias "<prefix>-articles" spans them all (Kibana's data
// view points at it).
type Names struct{ Prefix string }

func (n Names) p() string {
	if n.Prefix == "" {
		return "newsflow"
	}
	return n.Prefix
}

// ArticlesAlias is the read alias over all article indices.
func (n Names) ArticlesAlias() string { return n.p() + "-articles" }

// AlertsAlias is the read alias over all alert indices.
func (n Names) AlertsAlias() string { return n.p() + "-alerts" }

// ArticleIndex is the monthly index for t.
func (n Names) ArticleIndex(t time.Time) string {
	return n.p() + "-articles-" + t.UTC().Format("2006.01")
}

// AlertIndex is the monthly alerts index for t.
func (n Names) AlertIndex(t time.Time) string { return n.p() + "-alerts-" + t.UTC().Format("2006.01") }

func (n Names) articlesTemplate() string  { return n.p() + "-articles" }
func (n Names) alertsTemplate() string    { return n.p() + "-alerts" }
func (n Names) settingsComponent() string { return n.p() + "-settings" }
func (n Names) articlesComponent() string { return n.p() + "-articles-mappings" }
func (n Names) alertsComponent() string   { return n.p() + "-alerts-mappings" }
func (n Names) ilmPolicy() string         { return n.p() + "-retention" }

var kw = map[string]any{"type": "keyword", "ignore_above": 512}

// titleField is title: standard analysis, an English-stemmed subfield (English articles have
// no text_lang copy) and a keyword for sorting and exact filters.
func titleField() map[string]any {
	return map[string]any{"type": "text", "analyzer": "standard", "fields": map[string]any{
		"keyword": map[string]any{"type": "keyword", "ignore_above": 512},
		"english": map[string]any{"type": "text", "analyzer": "english"},
	}}
}

// ArticleMapping is the explicit mapping of ArticleDoc. dynamic: strict, so a document with an
// unexpected field is rejected (and dead-lettered with ES's reason) instead of silently
// growing the mapping; entity_details is stored but not indexed (enabled: false).
func ArticleMapping() map[string]any {
	langProps := map[string]any{}
	for code, analyzer := range analysedLanguages {
		langProps[code] = map[string]any{"properties": map[string]any{
			"title": map[string]any{"type": "text", "analyzer": analyzer},
			"text":  map[string]any{"type": "text", "analyzer": analyzer},
		}}
	}
	return map[string]any{
		"dynamic": "strict",
		"properties": map[string]any{
			"@timestamp":    map[string]any{"type": "date"},
			"id":            kw,
			"url":           kw,
			"canonical_url": kw,
			"title":         titleField(),
			"description":   map[string]any{"type": "text"},
			"text":          map[string]any{"type": "text", "analyzer": "standard", "fields": map[string]any{"english": map[string]any{"type": "text", "analyzer": "english"}}},
			"text_lang":     map[string]any{"properties": langProps},
			"authors":       kw,
			"site_name":     kw,
			"source": map[string]any{"properties": map[string]any{
				"name": kw, "domain": kw, "feed_url": kw, "tags": kw, "language": kw,
			}},
			"language":            kw,
			"language_confidence": map[string]any{"type": "float"},
			"language_source":     kw,
			"published_at":        map[string]any{"type": "date"},
			"modified_at":         map[string]any{"type": "date"},
			"fetched_at":          map[string]any{"type": "date"},
			"enriched_at":         map[string]any{"type": "date"},
			"date_source":         kw,
			"image":               map[string]any{"type": "keyword", "index": false},
			"tags":                kw,
			"categories":          kw,
			"word_count":          map[string]any{"type": "integer"},
			"content_hash":        kw,
			"simhash":             kw,
			"duplicate_of":        kw,
			"cluster_id":          kw,
			"is_duplicate":        map[string]any{"type": "boolean"},
			"entities": map[string]any{"properties": map[string]any{
				"per": kw, "org": kw, "loc": kw, "misc": kw, "all": kw,
			}},
			"entity_details": map[string]any{"type": "object", "enabled": false},
			"keywords":       kw,
			"sentiment":      map[string]any{"type": "float"},
			"quotes": map[string]any{"properties": map[string]any{
				"text": map[string]any{"type": "text"}, "speaker": kw,
			}},
			"places": map[string]any{"properties": map[string]any{
				"names": kw, "country_codes": kw, "locations": map[string]any{"type": "geo_point"},
			}},
			"main_country":       kw,
			"dates_mentioned":    map[string]any{"type": "date"},
			"enrichment_version": map[string]any{"type": "integer"},
		},
	}
}

// AlertMapping is the explicit mapping of AlertDoc.
func AlertMapping() map[string]any {
	return map[string]any{
		"dynamic": "strict",
		"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date"},
			"id":         kw, "rule_id": kw, "rule_type": kw, "term": kw, "term_kind": kw, "status": kw,
			"window_start": map[string]any{"type": "date"}, "window_end": map[string]any{"type": "date"},
			"current": map[string]any{"type": "float"}, "baseline": map[string]any{"type": "float"},
			"score": map[string]any{"type": "float"}, "reason": map[string]any{"type": "text"},
			"first_seen": map[string]any{"type": "date"}, "fired_at": map[string]any{"type": "date"},
			"top_sources": kw,
			"message_id":  kw, "episode_id": kw, "episode_version": map[string]any{"type": "long"},
			"episode_start": map[string]any{"type": "date"}, "peak": map[string]any{"type": "float"},
			"peak_per_min": map[string]any{"type": "float"}, "peak_at": map[string]any{"type": "date"},
			"ended_at": map[string]any{"type": "date"},
			"top_articles": map[string]any{"properties": map[string]any{
				"id": kw, "title": map[string]any{"type": "text"}, "url": kw, "source": kw,
			}},
		},
	}
}

// SetupConfig shapes the index settings.
type SetupConfig struct {
	Names     Names
	Shards    int           // primary shards per monthly index (default 1)
	Replicas  int           // replicas (default 0: the single local node; 1+ in a cluster)
	Retention time.Duration // ILM delete phase after this age (0: keep forever)
	// RefreshInterval is index.refresh_interval (default "1s": an article is searchable in
	// Kibana about a second after it was indexed; "30s" costs less CPU under heavy ingest).
	RefreshInterval string
	// TranslogDurability is index.translog.durability: "" or "request" (the ES default:
	// fsync before a bulk is acknowledged) or "async" (fsync every 5s: faster, but a node
	// crash can lose the last seconds of acknowledged writes — and the indexer has acked
	// those messages, so they are not redelivered). Opt-in only.
	TranslogDurability string
}

// Validate reports invalid settings.
func (c SetupConfig) Validate() error {
	switch c.TranslogDurability {
	case "", "request", "async":
	default:
		return fmt.Errorf("index: translog durability %q: want request or async", c.TranslogDurability)
	}
	if c.RefreshInterval != "" && c.RefreshInterval != "-1" {
		if _, err := time.ParseDuration(c.RefreshInterval); err != nil {
			return fmt.Errorf("index: refresh interval %q: want a duration like 1s or -1", c.RefreshInterval)
		}
	}
	return nil
}

func (c SetupConfig) withDefaults() SetupConfig {
	if c.Shards <= 0 {
		c.Shards = 1
	}
	if c.RefreshInterval == "" {
		c.RefreshInterval = "1s"
	}
	if c.Replicas < 0 {
		c.Replicas = 0
	}
	return c
}

// Templates returns the component and composable templates and the ILM policy to install, as
// ordered (path, body) requests.
func Templates(c SetupConfig) []Request {
	c = c.withDefaults()
	n := c.Names
	idx := map[string]any{
		"number_of_shards": c.Shards, "number_of_replicas": c.Replicas, "refresh_interval": c.RefreshInterval,
	}
	if c.TranslogDurability != "" {
		idx["translog.durability"] = c.TranslogDurability
	}
	settings := map[string]any{"template": map[string]any{"settings": idx}}
	var reqs []Request
	if c.Retention > 0 {
		days := int(c.Retention.Hours() / 24)
		if days < 1 {
			days = 1
		}
		reqs = append(reqs, Request{Path: "/_ilm/policy/" + n.ilmPolicy(), Body: map[string]any{"policy": map[string]any{"phases": map[string]any{
			"hot":    map[string]any{"actions": map[string]any{}},
			"delete": map[string]any{"min_age": fmt.Sprintf("%dd", days), "actions": map[string]any{"delete": map[string]any{}}},
		}}}})
		settings["template"].(map[string]any)["settings"].(map[string]any)["index.lifecycle.name"] = n.ilmPolicy()
	}
	reqs = append(reqs,
		Request{Path: "/_component_template/" + n.settingsComponent(), Body: settings},
		Request{Path: "/_component_template/" + n.articlesComponent(), Body: map[string]any{"template": map[string]any{"mappings": ArticleMapping()}}},
		Request{Path: "/_component_template/" + n.alertsComponent(), Body: map[string]any{"template": map[string]any{"mappings": AlertMapping()}}},
		Request{Path: "/_index_template/" + n.articlesTemplate(), Body: map[string]any{
			"index_patterns": []string{n.p() + "-articles-*"}, "priority": 200,
			"composed_of": []string{n.settingsComponent(), n.articlesComponent()},
			"template":    map[string]any{"aliases": map[string]any{n.ArticlesAlias(): map[string]any{}}},
			"_meta":       map[string]any{"managed_by": "newsflow", "schema": 1},
		}},
		// Alert indices created before a field was added keep a strict mapping without it:
		// add the current fields to every existing alert index (a no-op when none exists).
		Request{Path: "/" + n.p() + "-alerts-*/_mapping?allow_no_indices=true&ignore_unavailable=true",
			Body: map[string]any{"properties": AlertMapping()["properties"]}},
		Request{Path: "/_index_template/" + n.alertsTemplate(), Body: map[string]any{
			"index_patterns": []string{n.p() + "-alerts-*"}, "priority": 200,
			"composed_of": []string{n.settingsComponent(), n.alertsComponent()},
			"template":    map[string]any{"aliases": map[string]any{n.AlertsAlias(): map[string]any{}}},
			"_meta":       map[string]any{"managed_by": "newsflow", "schema": 1},
		}},
	)
	return reqs
}

// Request is one idempotent PUT of setup.
type Request struct {
	Path string
	Body map[string]any
}

// JSON renders the body.
func (r Request) JSON() string {
	b, _ := json.Marshal(r.Body)
	return string(b)
}

// MappedFields lists every field path of a mapping ("entities.per", "places.locations",
// "title.keyword"), for checking saved objects against it.
func MappedFields(mapping map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, props map[string]any)
	walk = func(prefix string, props map[string]any) {
		for name, v := range props {
			f, ok := v.(map[string]any)
			if !ok {
				continue
			}
			path := strings.TrimPrefix(prefix+"."+name, ".")
			if t, ok := f["type"].(string); ok {
				out[path] = t
			} else {
				out[path] = "object"
			}
			if sub, ok := f["properties"].(map[string]any); ok {
				walk(path, sub)
			}
			if sub, ok := f["fields"].(map[string]any); ok {
				walk(path, sub)
			}
		}
	}
	if props, ok := mapping["properties"].(map[string]any); ok {
		walk("", props)
	}
	return out
}
