package article

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchRaw is a raw envelope like the fetcher's: a news page of about 40 KB of HTML (markup,
// scripts, inline JSON-LD: many '<', '>' and '&').
func benchRaw() *Envelope {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Council approves budget &amp; new transit plan</title>`)
	b.WriteString(`<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Council approves budget & transit"}</script>`)
	b.WriteString(`</head><body><nav><ul>`)
	for i := range 40 {
		fmt.Fprintf(&b, `<li><a href="/section/%d?ref=nav&amp;x=1">Section %d</a></li>`, i, i)
	}
	b.WriteString(`</ul></nav><article><h1>Council approves budget</h1>`)
	for b.Len() < 40<<10 {
		b.WriteString(`<div class="row"><div class="col-md-8"><p class="story-body__text">The city council on Tuesday approved a budget of <span class="num">$4.2 billion</span> that includes money for a new <a href="/topics/light-rail?utm_source=body&amp;id=3">light-rail line</a>, said Mayor Jane Doe.</p></div>` + "\n")
		b.WriteString(`<aside class="related"><ul><li><a href="/2026/12/05/story">Earlier story</a></li><li><a href="/2026/12/04/other">Other story</a></li></ul></aside></div>` + "\n")
	}
	b.WriteString(`</article><script>window.dataLayer=[];if(a<b&&c>d){x()}</script></body></html>`)
	pub := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	return &Envelope{ID: "0123456789abcdef0123456789abcdef", Stage: StageRaw, SentAt: pub, Raw: &Raw{
		URL: "https://news.example.com/2026/12/06/council-budget", CanonicalURL: "https://news.example.com/2026/12/06/council-budget",
		Source: Source{Name: "example", Domain: "news.example.com", FeedURL: "https://news.example.com/rss"}, FetchedAt: pub,
		Feed: &FeedItem{GUID: "x1", Title: "Council approves budget", Description: "<p>The council &amp; the mayor</p>", Published: &pub},
		HTTP: &HTTPFacts{Status: 200, Bytes: b.Len()}, ContentType: "text/html", Body: b.String(), Extra: map[string]string{"body_source": "page"},
	}}
}

// BenchmarkEnvelope: encoding and decoding a raw envelope (the largest message on the bus,
// written by the fetcher and read by the cleaner), Encode's output against json.Marshal's
// (HTML escaped as \u003c…, what Encode wrote before) in the same run. MB/s are of the
// encoded size, which the encoded-bytes sub-benchmarks report.
func BenchmarkEnvelope(b *testing.B) {
	e := benchRaw()
	enc, err := Encode(e)
	if err != nil {
		b.Fatal(err)
	}
	escaped, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoded-bytes/Encode", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(len(enc)), "bytes")
	})
	b.Run("encoded-bytes/escaped", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(len(escaped)), "bytes")
	})
	b.Run("encode/escaped", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/escaped", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Decode(escaped); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/Encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Encode(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/Encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
