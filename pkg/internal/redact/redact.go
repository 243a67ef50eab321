// Package redact keeps secrets out of logs, error messages, /metrics and CLI output: URL
// user-info (passwords, NATS tokens), token-like query parameters and webhook URLs (whose path
// is the secret) are masked wherever a URL appears in a text, and Error wraps an error so its
// message carries no URL secret and none of the secret strings its caller names.
//
// Every log field, error message or line of output that holds a server or webhook URL goes
// through URL, Field or Error.
package redact

import (
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Mask replaces a secret: a password, a token, a query parameter's value.
const Mask = "REDACTED"

// altMask replaces a secret that is itself part of Mask (so replacing it by Mask would leave it).
const altMask = "***"

// withheld is the whole message of an error whose secrets could not be cut out of it.
const withheld = "error message withheld: it contained a secret"

// URL returns s with every URL in it redacted: the password of user-info becomes Mask (a
// user-info without a password, a token, becomes Mask as a whole), the values of token-like
// query parameters (token, key, apikey, api_key, password, secret, sig, signature,
// access_token, …) become Mask, and a webhook URL (hooks.slack.com, or a path with a
// /services/, /hooks/ or /webhooks/ segment) keeps only its scheme and host:
// "https://hooks.slack.com/…". s may be one URL, a comma-separated list (NATS) or any text.
func URL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pos := 0 // s[:pos] is written or redacted
	for {
		k := strings.Index(s[pos:], "://")
		if k < 0 {
			break
		}
		k += pos
		st := k
		for st > pos && schemeByte(s[st-1]) {
			st--
		}
		for st < k && !isLetter(s[st]) { // a scheme starts with a letter
			st++
		}
		if st == k {
			b.WriteString(s[pos : k+3])
			pos = k + 3
			continue
		}
		end := urlEnd(s, k+3)
		b.WriteString(s[pos:st])
		b.WriteString(redactOne(s[st:k], s[k+3:end]))
		pos = end
	}
	b.WriteString(s[pos:])
	return b.String()
}

// Field is zap.String(key, URL(u)): the log field of a server or webhook URL.
func Field(key, u string) zap.Field { return zap.String(key, URL(u)) }

// Webhook returns the scheme and host of a webhook URL, "https://hooks.slack.com/…": the rest
// of a webhook URL is its secret, whatever its path looks like.
func Webhook(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Mask
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Credentials returns the secrets inside the URL(s) s (comma-separated for NATS): user-info
// passwords, NATS tokens (the user-info of a nats://, tls://, ws:// or wss:// URL without a
// password) and the values of token-like query parameters. Pass them to Error so a message
// quoting one outside its URL is redacted too.
func Credentials(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				out = append(out, p)
			} else if tokenScheme(u.Scheme) {
				out = append(out, u.User.Username())
			}
		}
		for k, vs := range u.Query() {
			if sensitiveKey(k) {
				out = append(out, vs...)
			}
		}
	}
	return nonEmpty(out)
}

// Error wraps err so that its message has every URL redacted (as URL does) and every one of
// secrets replaced: a secret that is a URL (a webhook) by its Webhook form, with its
// credentials and path masked wherever they appear alone, any other secret by Mask. If a
// secret still shows after that, the whole message is withheld. errors.Is and errors.As see
// err through Unwrap. Error(nil) is nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err, secrets: expand(secrets)}
}

// Text is URL(s) with secrets replaced as Error replaces them.
func Text(s string, secrets ...string) string { return scrub(s, expand(secrets)) }

type redacted struct {
	err     error
	secrets []replacement
}

func (r *redacted) Error() string { return scrub(r.err.Error(), r.secrets) }
func (r *redacted) Unwrap() error { return r.err }

// replacement is one secret form and what replaces it.
type replacement struct{ secret, with string }

func expand(secrets []string) []replacement {
	var out []replacement
	add := func(s, with string) {
		if s == "" {
			return
		}
		if strings.Contains(with, s) {
			with = altMask
		}
		out = append(out, replacement{s, with})
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Scheme == "" || u.Host == "" {
			add(s, Mask)
			if q := strconv.Quote(s); q[1:len(q)-1] != s {
				add(q[1:len(q)-1], Mask)
			}
			continue
		}
		// A secret URL: the whole of it in its forms (as given, as net/http and %q print it),
		// then its parts alone, longest first so a part never cuts a longer form.
		w := Webhook(s)
		for _, form := range []string{s, strings.TrimSpace(s), u.String(), u.Redacted()} {
			add(form, w)
			if q := strconv.Quote(form); q[1:len(q)-1] != form {
				add(q[1:len(q)-1], w)
			}
		}
		var parts []string
		if p := u.EscapedPath(); len(strings.Trim(p, "/")) > 0 {
			parts = append(parts, strings.TrimPrefix(p, "/"), strings.TrimPrefix(u.Path, "/"))
		}
		if u.RawQuery != "" {
			parts = append(parts, u.RawQuery)
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				parts = append(parts, p)
			} else {
				parts = append(parts, u.User.Username())
			}
		}
		for _, p := range parts {
			add(p, Mask)
		}
	}
	// Longest first: "a/b/c" is replaced before "b".
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j].secret) > len(out[j-1].secret); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// scrub replaces the secrets, redacts the URLs, and replaces again (a mask written next to
// a secret's neighbours could spell one); a secret left after that withholds the message.
func scrub(s string, secrets []replacement) string {
	s = replaceAll(s, secrets)
	s = URL(s)
	s = replaceAll(s, secrets)
	for _, r := range secrets {
		if strings.Contains(s, r.secret) {
			return withheld
		}
	}
	return s
}

func replaceAll(s string, secrets []replacement) string {
	for range 4 {
		changed := false
		for _, r := range secrets {
			if strings.Contains(s, r.secret) {
				s = strings.ReplaceAll(s, r.secret, r.with)
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return s
}

// urlEnd is where the URL whose authority starts at i ends: at white space, a quote, an
// angle bracket, a backslash (an escaped quote) or a comma that starts the next URL of a list.
func urlEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v', '"', '\'', '`', '<', '>', '\\':
			return i
		case ',':
			j := i + 1
			for j < len(s) && schemeByte(s[j]) {
				j++
			}
			if j > i+1 && strings.HasPrefix(s[j:], "://") {
				return i
			}
		}
	}
	return i
}

// redactOne redacts one URL: scheme "://" rest.
func redactOne(scheme, rest string) string {
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	at := strings.LastIndexByte(rest[:authEnd], '@')
	if at < 0 && authEnd < len(rest) {
		// A password with an unescaped '/', '?' or '#' ("user:pa/ss@host"): the part before
		// it has a colon that is no port.
		if c := strings.IndexByte(rest[:authEnd], ':'); c >= 0 && !allDigits(rest[c+1:authEnd]) {
			if a := strings.IndexByte(rest[authEnd:], '@'); a >= 0 {
				at = authEnd + a
				if e := strings.IndexAny(rest[at:], "/?#"); e >= 0 {
					authEnd = at + e
				} else {
					authEnd = len(rest)
				}
			}
		}
	}
	host := rest[at+1 : authEnd]
	tail := rest[authEnd:]
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if isWebhook(host, tail) {
		b.WriteString(host)
		b.WriteString("/…")
		return b.String()
	}
	if at >= 0 {
		if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
			b.WriteString(rest[:c])
			b.WriteByte(':')
		}
		b.WriteString(Mask)
		b.WriteByte('@')
	}
	b.WriteString(host)
	path, query, frag := tail, "", ""
	if h := strings.IndexByte(path, '#'); h >= 0 {
		path, frag = path[:h], path[h+1:]
	}
	hasQuery := false
	if q := strings.IndexByte(path, '?'); q >= 0 {
		path, query, hasQuery = path[:q], path[q+1:], true
	}
	b.WriteString(path)
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(redactParams(query))
	}
	if h := strings.IndexByte(tail, '#'); h >= 0 {
		b.WriteByte('#')
		b.WriteString(redactParams(frag))
	}
	return b.String()
}

// redactParams masks the values of token-like keys in "k=v&k=v" (also ';'-separated).
func redactParams(q string) string {
	if !strings.Contains(q, "=") {
		return q
	}
	var b strings.Builder
	start := 0
	for i := 0; i <= len(q); i++ {
		if i < len(q) && q[i] != '&' && q[i] != ';' {
			continue
		}
		kv := q[start:i]
		if eq := strings.IndexByte(kv, '='); eq >= 0 {
			k, err := url.QueryUnescape(kv[:eq])
			if err != nil {
				k = kv[:eq]
			}
			if sensitiveKey(k) {
				kv = kv[:eq+1] + Mask
			}
		}
		b.WriteString(kv)
		if i < len(q) {
			b.WriteByte(q[i])
		}
		start = i + 1
	}
	return b.String()
}

var sensitiveKeys = map[string]bool{
	"token": true, "key": true, "apikey": true, "password": true, "passwd": true, "pass": true,
	"pwd": true, "secret": true, "sig": true, "signature": true, "accesstoken": true,
	"auth": true, "authorization": true, "credential": true, "credentials": true, "code": true,
}

// sensitiveKey: token, key, apikey, api_key, password, secret, sig, signature, access_token and
// their kin (X-Amz-Signature, client_secret, private_token, …).
func sensitiveKey(k string) bool {
	k = strings.ToLower(k)
	k = strings.NewReplacer("-", "", "_", "", ".", "").Replace(k)
	if sensitiveKeys[k] {
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "signature", "apikey", "accesskey", "privatekey", "credential"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// isWebhook: Slack's hooks host, or a path with a services, hooks or webhooks segment.
func isWebhook(host, tail string) bool {
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	if h == "hooks.slack.com" || strings.HasPrefix(h, "hooks.") {
		return true
	}
	p := strings.ToLower(tail)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p += "/"
	return strings.Contains(p, "/services/") || strings.Contains(p, "/hooks/") || strings.Contains(p, "/webhooks/")
}

func tokenScheme(s string) bool {
	switch strings.ToLower(s) {
	case "nats", "tls", "ws", "wss":
		return true
	}
	return false
}

func schemeByte(c byte) bool {
	return isLetter(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
