package warcimport

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nlnwa/gowarc/v3"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/fetch"
)

// Outcome classes of a record. Skipped records are expected content a news pipeline does not
// want (requests, metadata, redirects, images); bad records are broken or hostile input,
// dead-lettered with the reason unless Config.NoDeadLetter.
const (
	SkipNotResponse = "not a response record"
	SkipStatus      = "http status not 200"
	SkipContentType = "not html"
	SkipEmpty       = "empty body"
	SkipBadURL      = "bad target uri"

	BadCorrupt  = "corrupt record"
	BadHTTP     = "unparseable http response"
	BadTooLarge = "body too large"
	BadEncoding = "bad content-encoding"
)

// recordError is a record that is skipped or dead-lettered, with its class and detail.
type recordError struct {
	class  string // one of the Skip*/Bad* constants
	detail string
	bad    bool
}

func (e *recordError) Error() string {
	if e.detail == "" {
		return e.class
	}
	return e.class + ": " + e.detail
}

func skip(class, format string, a ...any) error {
	return &recordError{class: class, detail: fmt.Sprintf(format, a...)}
}

func bad(class, format string, a ...any) error {
	return &recordError{class: class, detail: fmt.Sprintf(format, a...), bad: true}
}

// classOf returns the class of a record error and whether it is bad ("", false for others).
func classOf(err error) (string, bool) {
	var re *recordError
	if errors.As(err, &re) {
		return re.class, re.bad
	}
	return BadCorrupt, true
}

// converted is one record turned into a raw article.
type converted struct {
	id  string
	raw *article.Raw
}

// convert turns a WARC response record into the raw payload the fetcher would have
// published for the same page: the target URI, the WARC-Date as fetch time, the HTTP facts,
// the body converted to UTF-8, and the ID from the page's declared canonical URL
// (article.ChooseCanonical, the fetcher's rule). It returns a *recordError for records to
// skip or dead-letter.
func convert(rec gowarc.WarcRecord, maxBody int64, tags []string) (converted, error) {
	if rec.Type() != gowarc.Response {
		return converted{}, skip(SkipNotResponse, "%s", rec.Type())
	}
	h := rec.WarcHeader()
	target := strings.TrimSpace(h.Get(gowarc.WarcTargetURI))
	target = strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return converted{}, skip(SkipBadURL, "%q", target)
	}
	if _, _, err := article.ID(target); err != nil {
		return converted{}, skip(SkipBadURL, "%v", err)
	}
	if n, err := rec.ContentLength(); err == nil && n > maxBody*4+64<<10 {
		return converted{}, bad(BadTooLarge, "record of %d bytes (limit %d)", n, maxBody*4+64<<10)
	}
	fetched, err := rec.Date()
	if err != nil || fetched.IsZero() {
		fetched = time.Now()
	}
	hb, ok := rec.Block().(gowarc.HttpResponseBlock)
	if !ok {
		return converted{}, bad(BadHTTP, "response record %s without an http response block", target)
	}
	status := hb.HttpStatusCode()
	if status != http.StatusOK {
		return converted{}, skip(SkipStatus, "%d", status)
	}
	hdr := http.Header{}
	if p := hb.HttpHeader(); p != nil {
		hdr = *p
	}
	ctype := hdr.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		return converted{}, skip(SkipContentType, "%s", mt)
	}
	payload, err := hb.PayloadBytes()
	if err != nil {
		return converted{}, bad(BadHTTP, "payload: %v", err)
	}
	body, err := readBody(payload, hdr.Get("Content-Encoding"), maxBody)
	if err != nil {
		return converted{}, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return converted{}, skip(SkipEmpty, "")
	}
	body, cs := toUTF8(body, ctype)
	raw := &article.Raw{
		URL: target, FetchedAt: fetched.UTC(), ContentType: "text/html", Body: string(body),
		Source: article.Source{Name: hostOf(u), Domain: hostOf(u), Tags: tags},
		HTTP:   &article.HTTPFacts{Status: status, ETag: hdr.Get("ETag"), LastModified: hdr.Get("Last-Modified"), Charset: cs, Bytes: len(body)},
		Extra:  map[string]string{"body_source": "warc", "warc_record_id": rec.RecordId()},
	}
	if cl := hdr.Get("Content-Language"); cl != "" {
		raw.Extra["content_language"] = cl
	}
	id, canon, err := article.ChooseCanonical(target, fetch.HeadCanonicals(body)...)
	if err != nil {
		return converted{}, skip(SkipBadURL, "%v", err)
	}
	raw.CanonicalURL = canon
	return converted{id: id, raw: raw}, nil
}

func hostOf(u *url.URL) string {
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// readBody reads the payload, undoing a gzip or deflate Content-Encoding, and fails with
// BadTooLarge past max bytes (a gzip bomb stops there).
func readBody(r io.Reader, encoding string, max int64) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity", "none":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, bad(BadEncoding, "gzip: %v", err)
		}
		defer func() { _ = zr.Close() }()
		r = zr
	case "deflate":
		zr := flate.NewReader(r)
		defer func() { _ = zr.Close() }()
		r = zr
	default:
		return nil, bad(BadEncoding, "unsupported content-encoding %q", encoding)
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		if encoding != "" {
			return nil, bad(BadEncoding, "%s: %v", encoding, err)
		}
		return nil, bad(BadCorrupt, "payload: %v", err)
	}
	if int64(len(b)) > max {
		return nil, bad(BadTooLarge, "body over %d bytes", max)
	}
	return b, nil
}

// toUTF8 converts an HTML body to UTF-8 (Content-Type charset, BOM, <meta charset>, or a
// guess), returning the original charset when it converted; like the fetcher.
func toUTF8(b []byte, contentType string) ([]byte, string) {
	enc, name, _ := charset.DetermineEncoding(b, contentType)
	if name == "utf-8" || enc == nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), ""
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), name
	}
	return out, name
}
