package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind says how a source's URL is read.
type Kind string

// Source kinds. KindFeed sniffs the body (RSS/Atom/JSON Feed, sitemap, or an HTML page whose
// feed is autodiscovered); the specific kinds are hints with the same parser behind them.
const (
	KindFeed        Kind = "feed"
	KindRSS         Kind = "rss"
	KindAtom        Kind = "atom"
	KindJSONFeed    Kind = "jsonfeed"
	KindSitemap     Kind = "sitemap"
	KindNewsSitemap Kind = "newssitemap"
	KindSite        Kind = "site"
)

func (k Kind) valid() bool {
	switch k {
	case KindFeed, KindRSS, KindAtom, KindJSONFeed, KindSitemap, KindNewsSitemap, KindSite:
		return true
	}
	return false
}

// Source is one entry of the sources file.
type Source struct {
	Name     string        `yaml:"name"`
	URL      string        `yaml:"url"`
	Kind     Kind          `yaml:"kind"`
	Tags     []string      `yaml:"tags"`
	Language string        `yaml:"language"`
	Interval time.Duration `yaml:"interval"` // fixed base interval; 0 = adaptive
	Options  SourceOptions `yaml:"options"`
}

// SourceOptions are per-source switches.
type SourceOptions struct {
	// FullContent: the feed carries whole articles (content:encoded); publish the feed's
	// content as the body and skip the page fetch when it is non-empty.
	FullContent bool `yaml:"full_content"`
	// UserAgent overrides Config.UserAgent for this source (feed and its pages).
	UserAgent string `yaml:"user_agent"`
	// MaxItems bounds the items handled per poll (0 = Config.MaxItemsPerPoll).
	MaxItems int `yaml:"max_items"`
}

// Key is the stable state key of the source (hash of its URL), valid as a JetStream KV key.
func (s Source) Key() string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(s.URL)))
	return "feed." + hex.EncodeToString(sum[:12])
}

// Validate reports a configuration error in the source.
func (s Source) Validate() error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("fetch: source %q: url %q must be absolute http(s)", s.Name, s.URL)
	}
	if !s.Kind.valid() {
		return fmt.Errorf("fetch: source %q: unknown kind %q (want feed|rss|atom|jsonfeed|sitemap|newssitemap|site)", s.Name, s.Kind)
	}
	if s.Interval < 0 {
		return fmt.Errorf("fetch: source %q: negative interval", s.Name)
	}
	return nil
}

type sourcesFile struct {
	Sources []Source `yaml:"sources"`
}

// LoadSources reads a YAML sources file ({sources: [...]} or a bare list) or an OPML export
// (detected by a .opml extension or an <opml> root). Defaults: kind "feed", name = URL host.
// Duplicate URLs are dropped (first wins). Every source is validated.
func LoadSources(path string) ([]Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fetch: sources: %w", err)
	}
	trim := bytes.TrimSpace(b)
	if strings.EqualFold(filepath.Ext(path), ".opml") || bytes.HasPrefix(trim, []byte("<")) {
		return ParseOPML(b)
	}
	return ParseSourcesYAML(b)
}

// ParseSourcesYAML parses the YAML sources format.
func ParseSourcesYAML(b []byte) ([]Source, error) {
	var f sourcesFile
	if err := yaml.Unmarshal(b, &f); err != nil || f.Sources == nil {
		var list []Source
		if err2 := yaml.Unmarshal(b, &list); err2 != nil {
			if err == nil {
				err = err2
			}
			return nil, fmt.Errorf("fetch: sources yaml: %w", err)
		}
		f.Sources = list
	}
	return normalizeSources(f.Sources)
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr"`
	Type     string        `xml:"type,attr"`
	XMLURL   string        `xml:"xmlUrl,attr"`
	HTMLURL  string        `xml:"htmlUrl,attr"`
	Language string        `xml:"language,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Body    []opmlOutline `xml:"body>outline"`
}

// ParseOPML imports an OPML subscription list. Nested outline titles become tags.
func ParseOPML(b []byte) ([]Source, error) {
	var doc opmlDoc
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = charsetReader
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fetch: opml: %w", err)
	}
	var out []Source
	var walk func(os []opmlOutline, tags []string)
	walk = func(os []opmlOutline, tags []string) {
		for _, o := range os {
			name := o.Title
			if name == "" {
				name = o.Text
			}
			if o.XMLURL != "" {
				out = append(out, Source{Name: name, URL: o.XMLURL, Kind: KindFeed, Tags: append([]string(nil), tags...), Language: o.Language})
			}
			if len(o.Outlines) > 0 {
				t := tags
				if name != "" {
					t = append(append([]string(nil), tags...), name)
				}
				walk(o.Outlines, t)
			}
		}
	}
	walk(doc.Body, nil)
	if len(out) == 0 {
		return nil, errors.New("fetch: opml: no outline with xmlUrl")
	}
	return normalizeSources(out)
}

func normalizeSources(in []Source) ([]Source, error) {
	seen := make(map[string]bool, len(in))
	out := make([]Source, 0, len(in))
	for i, s := range in {
		s.URL = strings.TrimSpace(s.URL)
		if s.Kind == "" {
			s.Kind = KindFeed
		}
		s.Kind = Kind(strings.ToLower(string(s.Kind)))
		if s.Name == "" {
			if u, err := url.Parse(s.URL); err == nil {
				s.Name = u.Host
			}
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("source #%d: %w", i+1, err)
		}
		if seen[s.URL] {
			continue
		}
		seen[s.URL] = true
		out = append(out, s)
	}
	return out, nil
}
