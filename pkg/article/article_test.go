package article

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{name: "not json", in: "\x00\x01binary", want: ErrMalformed},
		{name: "truncated", in: `{"schema":1,"id":"a","stage":"raw","raw":{`, want: ErrMalformed},
		{name: "future schema", in: `{"schema":2,"id":"a","stage":"raw","raw":{}}`, want: ErrSchemaVersion},
		{name: "no schema", in: `{"id":"a","stage":"raw","raw":{}}`, want: ErrSchemaVersion},
		{name: "missing id", in: `{"schema":1,"stage":"raw","raw":{}}`, want: ErrMissingID},
		{name: "unknown stage", in: `{"schema":1,"id":"a","stage":"cooked"}`, want: ErrMalformed},
		{name: "stage without payload", in: `{"schema":1,"id":"a","stage":"clean"}`, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	pub := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	s := 0.25
	in := &Envelope{ID: "0123456789abcdef0123456789abcdef", Stage: StageEnriched, Enriched: &Enriched{
		Clean:             Clean{URL: "https://example.com/a", Title: "T", PublishedAt: &pub, Text: "x", WordCount: 1},
		EnrichmentVersion: EnrichmentVersion,
		Entities:          []Entity{{Type: "PER", Name: "Joe Biden", Normalized: "joe biden", Mentions: 2}},
		Sentiment:         &s,
	}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Enriched.Entities, out.Enriched.Entities) || *out.Enriched.Sentiment != s || !out.Enriched.PublishedAt.Equal(pub) {
		t.Fatalf("round trip changed the envelope: %+v", out.Enriched)
	}
}

func TestCompressBody(t *testing.T) {
	big := bytes.Repeat([]byte("<p>news text </p>"), 20000)
	r := &Raw{Body: string(big)}
	if err := r.CompressBody(1024); err != nil {
		t.Fatal(err)
	}
	if r.Body != "" || len(r.BodyGzip) == 0 || len(r.BodyGzip) >= len(big) {
		t.Fatalf("not compressed: body %d gzip %d", len(r.Body), len(r.BodyGzip))
	}
	got, err := r.Text()
	if err != nil || got != string(big) {
		t.Fatalf("Text() after compression: %v", err)
	}
	small := &Raw{Body: "hi"}
	_ = small.CompressBody(1024)
	if small.Body != "hi" || small.BodyGzip != nil {
		t.Fatal("small body should stay plain")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(&Envelope{ID: "a", Stage: StageRaw, Raw: &Raw{URL: "https://e.com/", Body: "<p>x</p>"}})
	f.Add(good)
	f.Add([]byte(`{"schema":1,"id":"a","stage":"clean","clean":{"title":"t"}}`))
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		b2, err := Encode(e)
		if err != nil {
			t.Fatalf("decoded envelope does not encode: %v", err)
		}
		e2, err := Decode(b2)
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if e2.ID != e.ID || e2.Stage != e.Stage {
			t.Fatalf("round trip changed id/stage")
		}
	})
}
