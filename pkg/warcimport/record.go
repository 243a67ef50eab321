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
	"strconv"
	"strings"
	"time"

	"github.com/nlnwa/gowarc/v3"

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
// convert turns one WARC record into a raw message, or a skip or bad-record error. scratch
// is the caller's buffer for decompressing bodies, reused from record to record (nil: none).
func convert(rec gowarc.WarcRecord, maxBody int64, tags []string, scratch *[]byte) (converted, error) {
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
	size, _ := strconv.ParseInt(hdr.Get("Content-Length"), 10, 64)
	body, err := readBody(payload, hdr.Get("Content-Encoding"), maxBody, size, scratch)
	if err != nil {
		return converted{}, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return converted{}, skip(SkipEmpty, "")
	}
	body, cs, csSource := toUTF8(body, ctype)
	raw := &article.Raw{
		URL: target, FetchedAt: fetched.UTC(), ContentType: "text/html", Body: string(body),
		Source: article.Source{Name: hostOf(u), Domain: hostOf(u), Tags: tags},
		HTTP:   &article.HTTPFacts{Status: status, ETag: hdr.Get("ETag"), LastModified: hdr.Get("Last-Modified"), Charset: cs, CharsetSource: csSource, Bytes: len(body)},
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
// BadTooLarge past max bytes (a gzip bomb stops there). size is the payload's declared
// Content-Length (0 unknown): an unencoded payload declared larger than max fails unread, and
// an unencoded one is read into a buffer of that size instead of one grown by doubling (which
// cleared and copied about three times the body's bytes).
func readBody(r io.Reader, encoding string, max, size int64, scratch *[]byte) ([]byte, error) {
	payload := r
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity", "none":
		if size > max {
			return nil, bad(BadTooLarge, "body of %d bytes declared, over %d", size, max)
		}
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
	lr := io.LimitReader(r, max+1)
	var b []byte
	var err error
	switch {
	case size > 0 && r == payload:
		b, err = readInto(make([]byte, 0, min(size, max)+1), lr)
	case scratch != nil && r != payload:
		// A compressed body's size is unknown until it is read (a gzip bomb reads max+1
		// bytes): it is read into the reused scratch buffer and copied out at its size.
		if cap(*scratch) < int(max)+2 { // room for max+1 bytes and the read that sees EOF
			*scratch = make([]byte, 0, max+2)
		}
		*scratch, err = readInto((*scratch)[:0], lr)
		if b = *scratch; err == nil && int64(len(b)) <= max {
			b = bytes.Clone(b)
		}
	default:
		b, err = io.ReadAll(lr)
	}
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

// readInto appends r's bytes to b until EOF, growing b only when it is full (io.ReadAll with a
// buffer sized by the caller).
func readInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// toUTF8 converts an HTML body to UTF-8 exactly as the fetcher does (article.DecodeHTML: a
// BOM, then the declared charset checked against the bytes, valid UTF-8 winning over a stale
// declaration, else detection), so a page imported from a WARC and the same page fetched live
// read the same. It returns the charset the bytes were read as when that is not UTF-8 ("")
// and the evidence that decided it.
func toUTF8(b []byte, contentType string) ([]byte, string, string) {
	out, d := article.DecodeHTML(b, contentType)
	if d.Charset == "utf-8" {
		return out, "", d.Source
	}
	return out, d.Charset, d.Source
}
