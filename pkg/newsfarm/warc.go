package newsfarm

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/nlnwa/gowarc/v3"
)

// WARCOptions shape WriteWARC's output.
type WARCOptions struct {
	Plain bool // uncompressed WARC instead of one gzip member per record
	// FetchDelay: each page's WARC-Date is its publication time plus this (default 30s).
	FetchDelay time.Duration
}

// WARCStats counts what WriteWARC wrote.
type WARCStats struct {
	Records   int // all records (warcinfo, request, response)
	Responses int // response records (one per manifest entry)
	Bytes     int64
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteWARC writes every manifest entry up to t (Manifest(t), in that order) as a WARC
// request and response record pair, after a warcinfo record: the CC-NEWS layout. Tracking
// duplicates are recorded under their tracking URL (a crawler that met both links); poison
// pages carry their poison bodies. The output is deterministic for a fixed Config.Start and
// site URLs (an unstarted farm's sites are http://siteNN.newsfarm.test).
func (f *Farm) WriteWARC(w io.Writer, t time.Time, opts WARCOptions) (WARCStats, error) {
	if opts.FetchDelay <= 0 {
		opts.FetchDelay = 30 * time.Second
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	var st WARCStats
	seq := 0
	write := func(typ gowarc.RecordType, date time.Time, target, ctype string, block []byte) error {
		seq++
		rb := gowarc.NewRecordBuilder(typ, gowarc.WithVersion(gowarc.V1_0), gowarc.WithAddMissingDigest(true), gowarc.WithAddMissingContentLength(true))
		if _, err := rb.Write(block); err != nil {
			return fmt.Errorf("newsfarm: warc block: %w", err)
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d", f.cfg.Seed, seq))
		rb.AddWarcHeader(gowarc.WarcRecordID, fmt.Sprintf("<urn:uuid:%x-%x-%x-%x-%x>", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]))
		rb.AddWarcHeader(gowarc.WarcDate, date.UTC().Format(time.RFC3339))
		rb.AddWarcHeader(gowarc.ContentType, ctype)
		if target != "" {
			rb.AddWarcHeader(gowarc.WarcTargetURI, target)
		}
		rec, _, err := rb.Build()
		if err != nil {
			return fmt.Errorf("newsfarm: warc record %d: %w", seq, err)
		}
		defer func() { _ = rec.Close() }()
		out := io.Writer(cw)
		var zw *gzip.Writer
		if !opts.Plain {
			zw, _ = gzip.NewWriterLevel(cw, gzip.BestSpeed)
			out = zw
		}
		if _, _, err := gowarc.NewMarshaler().Marshal(out, rec, 0); err != nil {
			return fmt.Errorf("newsfarm: warc write: %w", err)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return fmt.Errorf("newsfarm: warc gzip: %w", err)
			}
		}
		st.Records++
		return nil
	}
	info := fmt.Sprintf("software: newsflow newsfarm\r\nformat: WARC File Format 1.0\r\ndescription: newsfarm seed %d, %d sites\r\n", f.cfg.Seed, len(f.sites))
	if err := write(gowarc.Warcinfo, f.cfg.Start, "", "application/warc-fields", []byte(info)); err != nil {
		return st, err
	}
	for _, p := range f.pagesUntil(t) {
		sty := f.story(p)
		var body []byte
		enc := ""
		if p.kind == KindPoison {
			body, enc = poisonBody(p)
		} else {
			body = []byte(f.renderPage(p, &sty))
		}
		for _, e := range f.entries(p) {
			date := e.Published.Add(opts.FetchDelay)
			u, _ := url.Parse(e.URL)
			req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: newsfarm/1.0\r\nAccept-Encoding: gzip\r\n\r\n", u.RequestURI(), u.Host)
			if err := write(gowarc.Request, date, e.URL, "application/http; msgtype=request", []byte(req)); err != nil {
				return st, err
			}
			hdr := fmt.Sprintf("HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: text/html; charset=utf-8\r\n", date.UTC().Format(http.TimeFormat))
			if enc != "" {
				hdr += "Content-Encoding: " + enc + "\r\n"
			}
			hdr += fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
			if err := write(gowarc.Response, date, e.URL, "application/http; msgtype=response", append([]byte(hdr), body...)); err != nil {
				return st, err
			}
			st.Responses++
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("newsfarm: warc flush: %w", err)
	}
	st.Bytes = cw.n
	return st, nil
}
