package article

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// ErrBadURL is returned by Canonicalize for URLs that cannot identify an article.
var ErrBadURL = errors.New("article: bad url")

// trackingParams are query parameters removed by Canonicalize (exact names, lowercase).
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gclsrc": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "igshid": true, "twclid": true, "ttclid": true, "li_fat_id": true,
	"_ga": true, "_gl": true, "_hsenc": true, "_hsmi": true, "__hstc": true, "__hssc": true, "__hsfp": true,
	"hsctatracking": true, "mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true, "rb_clickid": true,
	"s_cid": true, "vero_id": true, "wickedid": true, "ncid": true, "cmpid": true, "ocid": true,
	"sr_share": true, "spm": true, "ref_src": true, "ref_url": true, "smid": true, "cmp": true,
	"at_medium": true, "at_campaign": true, "at_custom1": true, "at_custom2": true, "at_custom3": true, "at_custom4": true,
	"guccounter": true, "guce_referrer": true, "guce_referrer_sig": true, "fb_action_ids": true, "fb_action_types": true, "fb_ref": true, "fb_source": true,
}

// trackingPrefixes are query parameter prefixes removed by Canonicalize.
var trackingPrefixes = []string{"utm_", "pk_", "mtm_", "matomo_", "hmb_", "ito_", "__twitter_impression"}

func isTracking(name string) bool {
	n := strings.ToLower(name)
	if trackingParams[n] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// Canonicalize returns the canonical form of an absolute http(s) URL: scheme and host
// lowercased, IDN hosts in punycode, default port and fragment dropped, empty path made "/",
// dot segments resolved, tracking parameters removed and the remaining query sorted by key
// (stable for equal keys). It is pure and safe for concurrent use.
func Canonicalize(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%w: empty", ErrBadURL)
	}
	if strings.HasPrefix(raw, "//") {
		raw = "https:" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%w: scheme %q in %q", ErrBadURL, u.Scheme, raw)
	}
	host := u.Hostname()
	port := u.Port()
	if host == "" {
		return "", fmt.Errorf("%w: no host in %q", ErrBadURL, raw)
	}
	host = strings.TrimRight(strings.ToLower(host), ".")
	if host == "" {
		return "", fmt.Errorf("%w: no host in %q", ErrBadURL, raw)
	}
	if net.ParseIP(host) == nil {
		if h, err := idna.Lookup.ToASCII(host); err == nil {
			host = h
			if !validHost(host) {
				return "", fmt.Errorf("%w: invalid host in %q", ErrBadURL, raw)
			}
		} else {
			return "", fmt.Errorf("%w: host %q: %v", ErrBadURL, host, err)
		}
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host = host + ":" + port
	}
	u.Host = host
	u.User = nil
	u.Fragment = ""
	u.RawFragment = ""
	if u.Path == "" {
		u.Path = "/"
	}
	u.Path = resolveDots(u.Path)
	u.RawPath = ""
	if u.RawQuery != "" {
		u.RawQuery = canonicalQuery(u.RawQuery)
	}
	u.ForceQuery = false
	return u.String(), nil
}

func canonicalQuery(rawQuery string) string {
	type kv struct{ k, v string }
	var kept []kv
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		if isTracking(dk) {
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		kept = append(kept, kv{dk, dv})
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].k < kept[j].k })
	var b strings.Builder
	for i, p := range kept {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.v))
	}
	return b.String()
}

func resolveDots(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case ".":
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	if trailing && !strings.HasSuffix(r, "/") {
		r += "/"
	}
	return r
}

// Resolve makes ref absolute against base (for relative links such as canonical tags).
func Resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: base: %v", ErrBadURL, err)
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("%w: ref: %v", ErrBadURL, err)
	}
	return b.ResolveReference(r).String(), nil
}

// IDFromCanonical returns the article ID for an already canonical URL: lowercase hex of the
// first 16 bytes of SHA-256.
func IDFromCanonical(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:16])
}

// ID canonicalizes raw and returns its article ID and canonical URL.
func ID(raw string) (id, canonical string, err error) {
	canonical, err = Canonicalize(raw)
	if err != nil {
		return "", "", err
	}
	return IDFromCanonical(canonical), canonical, nil
}

// SameSite reports whether two URLs share a registrable domain (eTLD+1), the rule for trusting
// a page's <link rel=canonical> or og:url over the fetched URL.
func SameSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Hostname() == "" || ub.Hostname() == "" {
		return false
	}
	da, err1 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(ua.Hostname()))
	db, err2 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(ub.Hostname()))
	if err1 != nil || err2 != nil {
		return strings.EqualFold(ua.Hostname(), ub.Hostname())
	}
	return da == db
}

// ChooseCanonical implements DESIGN.md's rule: the page's declared canonical (rel=canonical,
// else og:url) when present, absolute-resolvable and same-site as the fetched URL, else the
// fetched URL; the result is canonicalized. It returns the ID too.
func ChooseCanonical(fetched string, declared ...string) (id, canonical string, err error) {
	for _, d := range declared {
		if strings.TrimSpace(d) == "" {
			continue
		}
		abs, err := Resolve(fetched, d)
		if err != nil || !SameSite(fetched, abs) {
			continue
		}
		if id, c, err := ID(abs); err == nil {
			return id, c, nil
		}
	}
	return ID(fetched)
}

// validHost checks DNS length limits and characters of an ASCII host name.
func validHost(h string) bool {
	if h == "" || len(h) > 253 || strings.ContainsAny(h, "/?#@[]%\\ ") {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
	}
	return true
}
