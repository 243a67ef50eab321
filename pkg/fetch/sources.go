package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/newsflow/newsflow/pkg/internal/redact"
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

// Source is one entry of the sources file. Unknown keys are errors (see CheckSourcesYAML).
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
	// Headers are extra request headers (e.g. Authorization for licensed content), sent with
	// the source's requests to its own site (see SourceOptions.sendsTo). Values are secrets:
	// never logged.
	Headers Secrets `yaml:"headers"`
	// Cookies are sent as a Cookie header to the source's own site (consent or subscription
	// cookies). Values are secrets: never logged.
	Cookies Secrets `yaml:"cookies"`
	// Proxy routes the source's requests through an HTTP(S) or SOCKS5 proxy
	// ("http://host:3128", "socks5://user:pass@host:1080"). The proxy is trusted: the SSRF
	// guard cannot see the addresses behind it.
	Proxy string `yaml:"proxy"`
	// Render "js" loads the source's pages in headless Chromium so that pages building
	// their article in JavaScript have a body ("" or "none": plain HTTP).
	Render string `yaml:"render"`
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
		return fmt.Errorf("fetch: source %q: url %q must be absolute http(s)", s.Name, redact.URL(s.URL))
	}
	if !s.Kind.valid() {
		return fmt.Errorf("fetch: source %q: unknown kind %q (want feed|rss|atom|jsonfeed|sitemap|newssitemap|site)", s.Name, s.Kind)
	}
	if s.Interval < 0 {
		return fmt.Errorf("fetch: source %q: negative interval", s.Name)
	}
	if err := s.Options.validate(); err != nil {
		return fmt.Errorf("fetch: source %q: %w", s.Name, err)
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

// CheckSourcesFile reads a sources file like LoadSources and returns the valid sources and
// every problem found (YAML: each with its line, see CheckSourcesYAML; OPML: the parse or
// validation error). For `newsflow check`.
func CheckSourcesFile(path string) ([]Source, []SourceError) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []SourceError{{Msg: fmt.Sprintf("sources: %v", err)}}
	}
	if strings.EqualFold(filepath.Ext(path), ".opml") || bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
		srcs, err := ParseOPML(b)
		if err != nil {
			return nil, []SourceError{{Msg: err.Error()}}
		}
		return srcs, nil
	}
	return CheckSourcesYAML(b)
}

// ParseSourcesYAML parses the YAML sources format strictly: every problem CheckSourcesYAML
// finds is returned, joined, one "line N: ..." each.
func ParseSourcesYAML(b []byte) ([]Source, error) {
	srcs, problems := CheckSourcesYAML(b)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("fetch: sources yaml: %d problem(s):\n%w", len(problems), errors.Join(errs...))
	}
	return srcs, nil
}

// SourceError is one problem of a sources file, at a line (0 when unknown).
type SourceError struct {
	Line int
	Msg  string
}

func (e SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// yamlLineRe finds the line of a yaml.v3 type error ("line 7: field langauge not found …").
var yamlLineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// CheckSourcesYAML parses a YAML sources file ({sources: [...]} or a bare list) and returns
// the valid sources and every problem found, each with its line: YAML syntax, unknown keys
// (a misspelt `langauge:` is an error, not a silently ignored key), wrong types, and each
// source's validation (URL, kind, interval, options). Sources with problems are left out.
// `newsflow check` lists these.
func CheckSourcesYAML(b []byte) ([]Source, []SourceError) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlProblems(err)
	}
	if len(root.Content) == 0 {
		return nil, []SourceError{{Msg: "empty sources file (want `sources:` and a list)"}}
	}
	doc := root.Content[0]
	var list *yaml.Node
	var problems []SourceError
	topKeys := map[int]bool{}
	switch doc.Kind {
	case yaml.SequenceNode:
		list = doc
	case yaml.MappingNode:
		for i := 0; i+1 < len(doc.Content); i += 2 {
			k, v := doc.Content[i], doc.Content[i+1]
			topKeys[k.Line] = true
			if k.Value != "sources" {
				problems = append(problems, SourceError{k.Line, fmt.Sprintf("unknown key %q (want sources)", k.Value)})
				continue
			}
			if v.Kind != yaml.SequenceNode {
				problems = append(problems, SourceError{v.Line, "sources: want a list"})
				continue
			}
			list = v
		}
	default:
		return nil, []SourceError{{doc.Line, "want `sources:` with a list of sources, or a list"}}
	}
	if list == nil {
		if len(problems) == 0 {
			problems = append(problems, SourceError{doc.Line, "no `sources:` list"})
		}
		return nil, problems
	}
	// Unknown keys and type errors: a strict decode of the whole document reports them all,
	// each with its line; a source with any of them is left out.
	var strictErr error
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if doc.Kind == yaml.SequenceNode {
		var l []Source
		strictErr = d.Decode(&l)
	} else {
		var f sourcesFile
		strictErr = d.Decode(&f)
	}
	var strict []SourceError
	if strictErr != nil {
		strict = yamlProblems(strictErr)
	}
	var out []Source
	seen := map[string]bool{}
	for i, n := range list.Content {
		end := math.MaxInt
		if i+1 < len(list.Content) {
			end = list.Content[i+1].Line
		}
		bad := false
		for _, p := range strict {
			if p.Line >= n.Line && p.Line < end && !topKeys[p.Line] {
				problems = append(problems, SourceError{p.Line, fmt.Sprintf("source #%d: %s", i+1, p.Msg)})
				bad = true
			}
		}
		var s Source
		if !bad {
			if err := n.Decode(&s); err != nil {
				problems = append(problems, SourceError{n.Line, fmt.Sprintf("source #%d: %v", i+1, err)})
				bad = true
			}
		}
		if bad {
			continue
		}
		s = defaultSource(s)
		if err := s.Validate(); err != nil {
			problems = append(problems, SourceError{n.Line, fmt.Sprintf("source #%d: %s", i+1, strings.TrimPrefix(err.Error(), "fetch: "))})
			continue
		}
		if seen[s.URL] {
			continue // a repeated URL: the first wins (lists merged from OPML exports repeat)
		}
		seen[s.URL] = true
		out = append(out, s)
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return out, problems
}

// yamlProblems splits a yaml.v3 error into one problem per line-numbered message.
func yamlProblems(err error) []SourceError {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]SourceError, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			out = append(out, SourceError{line, strings.Replace(sm[2], "in type fetch.", "in ", 1)})
			continue
		}
		out = append(out, SourceError{0, m})
	}
	return out
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
		s = defaultSource(s)
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

// defaultSource trims the URL and fills the defaults: kind feed, name = URL host.
func defaultSource(s Source) Source {
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
	return s
}
