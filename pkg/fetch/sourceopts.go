package fetch

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/publicsuffix"

	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// Secrets are per-source header or cookie values: their names may be shown, their values
// never (String, GoString and zap's reflection all print "[redacted]").
type Secrets map[string]string

// String lists the names only.
func (s Secrets) String() string {
	if len(s) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k+": [redacted]")
	}
	sort.Strings(keys)
	return "{" + strings.Join(keys, ", ") + "}"
}

// GoString keeps %#v from printing the values.
func (s Secrets) GoString() string { return s.String() }

// MarshalJSON keeps JSON dumps (logs, debug endpoints) from printing the values.
func (s Secrets) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, fmt.Sprintf("%q:%q", k, "[redacted]"))
	}
	sort.Strings(keys)
	return []byte("{" + strings.Join(keys, ",") + "}"), nil
}

// MarshalYAML keeps YAML dumps from printing the values.
func (s Secrets) MarshalYAML() (any, error) {
	out := make(map[string]string, len(s))
	for k := range s {
		out[k] = "[redacted]"
	}
	return out, nil
}

// Render modes of SourceOptions.Render.
const (
	RenderNone = ""
	RenderJS   = "js"
)

// forbiddenHeaders are set by the fetcher itself; a source may not override them.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Accept-Encoding": true, "Connection": true,
	"Transfer-Encoding": true, "If-None-Match": true, "If-Modified-Since": true, "Cookie": true,
}

// validate checks the fetch options: header names and values, cookie names, the proxy URL
// and the render mode. Errors name the offending key, never a secret value.
func (o SourceOptions) validate() error {
	for k, v := range o.Headers {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			return fmt.Errorf("headers: invalid header name %q", k)
		case forbiddenHeaders[ck]:
			return fmt.Errorf("headers: %s is set by the fetcher (use cookies: for cookies)", ck)
		case !httpguts.ValidHeaderFieldValue(v):
			return fmt.Errorf("headers: %s: invalid characters in the value", ck)
		}
	}
	for k, v := range o.Cookies {
		c := &http.Cookie{Name: k, Value: v}
		if err := c.Valid(); err != nil || strings.ContainsAny(v, ";\r\n") {
			return fmt.Errorf("cookies: %q: invalid cookie name or value", k)
		}
	}
	if o.Proxy != "" {
		if _, err := parseProxy(o.Proxy); err != nil {
			return err
		}
	}
	switch strings.ToLower(o.Render) {
	case RenderNone, "none", RenderJS:
	default:
		return fmt.Errorf("render %q: want js or none", o.Render)
	}
	if o.MaxItems < 0 {
		return fmt.Errorf("max_items %d: must not be negative", o.MaxItems)
	}
	return nil
}

// parseProxy accepts http, https, socks5 and socks5h proxy URLs.
func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("proxy %s: not a URL", redact.URL(s))
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("proxy %s: scheme %q (want http, https, socks5 or socks5h)", redact.URL(s), u.Scheme)
	}
	if u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("proxy %s: want host:port", redact.URL(s))
	}
	return u, nil
}

// regDomain is the registrable domain (eTLD+1) of host, or host itself when it has none (an IP,
// localhost).
func regDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// sendsTo reports whether a source's headers and cookies go with a request to target: only
// to the source's own site (the registrable domain of its URL), never to the other sites
// its feed links to.
func sendsTo(sourceURL, target string) bool {
	su, err1 := url.Parse(sourceURL)
	tu, err2 := url.Parse(target)
	if err1 != nil || err2 != nil {
		return false
	}
	return regDomain(su.Hostname()) == regDomain(tu.Hostname())
}

// cookieHeader renders cookies as one Cookie header value, in name order.
func cookieHeader(c Secrets) string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = (&http.Cookie{Name: k, Value: c[k]}).String()
	}
	return strings.Join(parts, "; ")
}
