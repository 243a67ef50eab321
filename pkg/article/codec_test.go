package article

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/newsflow/newsflow/pkg/article/articletest"
)

// The reference codec: encoding/json v1, as Encode and Decode used it before codec.go.

func refUnmarshal(b []byte, e *Envelope) error { return json.Unmarshal(b, e) }

func refMarshal(e *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkDecodeSame fails unless the codec and encoding/json both reject b or decode it to the
// same value. It reports whether b decoded.
func checkDecodeSame(t testing.TB, b []byte) bool {
	t.Helper()
	var got, want Envelope
	gerr := unmarshal(b, &got)
	werr := refUnmarshal(b, &want)
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("codec err = %v, encoding/json err = %v\ninput %q", gerr, werr, b)
	}
	if werr != nil {
		return false
	}
	if !reflect.DeepEqual(&got, &want) {
		t.Fatalf("codec and encoding/json decode differently\ninput %q\ncodec         %+v\nencoding/json %+v", b, got, want)
	}
	return true
}

// codecCases are inputs where encoding/json v1 and json v2 differ without options, or could.
var codecCases = []string{
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00Z","raw":{"url":"https://e.com/","body":"<p>x &amp; y</p>"}}`,
	// invalid UTF-8 (v1 replaces it by U+FFFD), in values and in names
	"{\"schema\":1,\"id\":\"a\xff\xfeb\",\"stage\":\"raw\",\"raw\":{\"body\":\"\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\"}}",
	"{\"schema\":1,\"id\":\"a\",\"st\xffage\":\"raw\"}",
	// escapes: surrogate pairs, lone surrogates, U+2028/U+2029, controls
	`{"schema":1,"id":"\ud83d\ude00\ud800x\udc00\ud800","stage":"clean","clean":{"text":"\u2028\u2029\u0000\t\"\\\/","title":"\u00e9"}}`,
	// duplicate names, at the top and inside payloads (v1 keeps the last, merging objects)
	`{"schema":1,"id":"a","id":"b","stage":"raw","raw":{"url":"u"},"raw":{"body":"b"}}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"source":{"tags":["x","y"]},"source":{"tags":["z"]},"extra":{"a":"1"},"extra":{"b":"2"}}}`,
	`{"schema":1,"schema":null,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00Z","sent_at":null,"raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"url":"u"},"raw":null}`,
	// names matched without case (Unicode folding: Kelvin sign, long s), delimiters not ignored
	`{"SCHEMA":1,"Id":"a","sTaGe":"enriched","Sent_At":"2026-12-06T08:00:00Z","ENRICHED":{"\u212aeywords":[{"term":"t","\u017fcore":1}],"Word_Count":3,"wordcount":4}}`,
	`{"schema":1,"id":"a","stage":"raw","sentat":"2026-12-06T08:00:00Z","raw":{"content-type":"x","canonicalurl":"y"}}`,
	`{"sch\u0065ma":1,"\u0049D":"a","stage":"enriched","enriched":{"p\u0061ragraphs":["x"],"T\u0045XT":"t","\u0074itle":"u"}}`,
	// nulls everywhere
	`{"schema":1,"id":"a","stage":"raw","sent_at":null,"raw":{"url":null,"source":null,"feed":null,"http":null,"body_gzip":null,"fetched_at":null,"extra":null}}`,
	`{"schema":1,"id":"a","stage":"enriched","enriched":{"entities":[null,{"name":null}],"sentiment":null,"keywords":null,"published_at":null}}`,
	`null`,
	// times: RFC 3339 variants v1 accepts or rejects
	`{"schema":1,"id":"a","stage":"alert","sent_at":"2026-12-06T08:00:00.123456789+01:00","alert":{"window_start":"2026-12-06T08:00:00-00:00","window_end":"0000-01-01T00:00:00Z","first_seen":"9999-12-31T23:59:59.999999999Z","fired_at":"2026-12-06T08:00:00+23:59"}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06 08:00:00Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T8:00:00Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00,5Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00+24:00","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00+0100","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00.Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-12-06T08:00:00","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"2026-02-30T08:00:00Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":"\u0032026-12-06T08:00:00Z","raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","sent_at":1733472000,"raw":{}}`,
	// []byte: base64 with line breaks, unpadded, URL alphabet, as an array of numbers
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":"aGVs\r\nbG8=","attempts":3}}`,
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":"aGVsbG8"}}`,
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":"-_-_"}}`,
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":"+/+/"}}`,
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":[104,105]}}`,
	`{"schema":1,"id":"a","stage":"dlq","dlq":{"payload":[256]}}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"body_gzip":""}}`,
	// numbers: into ints and floats
	`{"schema":1.0,"id":"a","stage":"raw","raw":{}}`,
	`{"schema":1e0,"id":"a","stage":"raw","raw":{}}`,
	`{"schema":-0,"id":"a","stage":"raw","raw":{}}`,
	`{"schema":"1","id":"a","stage":"raw","raw":{}}`,
	`{"schema":99999999999999999999,"id":"a","stage":"raw","raw":{}}`,
	`{"schema":01,"id":"a","stage":"raw","raw":{}}`,
	`{"schema":1,"id":"a","stage":"enriched","enriched":{"language_confidence":1e400}}`,
	`{"schema":1,"id":"a","stage":"enriched","enriched":{"language_confidence":-0.0,"sentiment":1E-7,"places":[{"lat":4.9e-324,"lon":1.7976931348623157e308}]}}`,
	`{"schema":1,"id":"a","stage":"alert","alert":{"episode_version":-9223372036854775808,"current":0.1}}`,
	`{"schema":1,"id":"a","stage":"alert","alert":{"episode_version":9223372036854775808}}`,
	// wrong types
	`{"schema":1,"id":"a","stage":"raw","raw":[]}`,
	`{"schema":1,"id":"a","stage":"raw","raw":"x"}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"extra":{"a":1}}}`,
	`{"schema":1,"id":7,"stage":"raw","raw":{}}`,
	`{"schema":1,"id":"a","stage":true,"raw":{}}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"source":{"tags":"x"}}}`,
	// unknown members, deep nesting inside them
	`{"schema":1,"id":"a","stage":"raw","x":{"y":[1,2,{"z":null}]},"raw":{"q":true}}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{},"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{},"x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`,
	// syntax
	` {"schema":1,"id":"a","stage":"raw","raw":{}} ` + "\n",
	`{"schema":1,"id":"a","stage":"raw","raw":{}}x`,
	`{"schema":1,"id":"a","stage":"raw","raw":{}} {}`,
	"\ufeff{}",
	`{"schema":1,"id":"a",}`,
	`{"schema":1 "id":"a"}`,
	`{'schema':1}`,
	`{"schema":1,"id":"a\x01"}`,
	`{"schema":1,"id":"\x"}`,
	`{"schema":1,"id":"\u12"}`,
	`{"schema":1,"id":"a","stage":"raw","raw":{"url":"u"`,
	`[]`,
	`""`,
	``,
	`1`,
	`{}`,
	`{"schema":NaN}`,
	`{"schema":tru}`,
}

// edgeEnvelopes are values whose encoding by Encode (encoding/json) the codecs could decode
// differently: escapes \ufffd, \u2028, \u0000, base64, floats, zones, nanoseconds.
func edgeEnvelopes() []*Envelope {
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 123456789, time.FixedZone("CET", 3600))
	neg := -0.0
	tiny, huge := 1e-7, 1e21
	return []*Envelope{
		{Schema: 1, ID: "a", Stage: StageRaw, SentAt: t0, Raw: &Raw{
			URL: "https://e.com/?a=1&b=<2>", Body: "<p>\u2028\u2029 \x00\x1f \x7f é \xff\xfe \ud7ff</p>", BodyGzip: []byte{0, 1, 254, 255},
			Extra:  map[string]string{"z": "1", "a": "2", "é": "3", "<": "4", "": "5"},
			Source: Source{Tags: []string{}}, Feed: &FeedItem{Published: &t0, Authors: []string{""}}, HTTP: &HTTPFacts{}}},
		{Schema: 1, ID: "b", Stage: StageEnriched, Enriched: &Enriched{
			Clean:    Clean{LanguageConf: 0.1 + 0.2, Paragraphs: []string{}, Authors: nil, PublishedAt: &time.Time{}},
			Keywords: []Keyword{{Score: math.SmallestNonzeroFloat64}, {Score: math.MaxFloat64}, {Score: 1e20}, {Score: 1e21}, {Score: 1e-6}, {Score: 1e-7}, {Score: -0.0}, {Score: 123456789.125}},
			Places:   []Place{{Lat: float64(float32(0.1))}}, Sentiment: &neg, Entities: []Entity{}, Dates: []DateMention{{Resolved: t0.In(time.UTC)}}}},
		{Schema: 1, ID: "c", Stage: StageAlert, Alert: &Alert{Current: tiny, Baseline: huge, Peak: 0, EpisodeVersion: math.MaxInt64,
			EpisodeStart: &t0, TopArticles: []AlertArticle{{}}, TopSources: []string{}}},
		{Schema: 1, ID: "d", Stage: StageDLQ, DLQ: &DeadLetter{Payload: []byte{}}},
		{Schema: 1, ID: "e", Stage: StageDLQ, DLQ: &DeadLetter{Payload: nil}},
		// both fail: NaN, ±Inf, years outside 0000–9999
		{Schema: 1, ID: "f", Stage: StageAlert, Alert: &Alert{Score: math.NaN()}},
		{Schema: 1, ID: "g", Stage: StageAlert, Alert: &Alert{Score: math.Inf(-1)}},
		{Schema: 1, ID: "h", Stage: StageAlert, SentAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Alert: &Alert{}},
		{Schema: 1, ID: "i", Stage: StageAlert, SentAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), Alert: &Alert{}},
		{Schema: 1, ID: "j", Stage: StageAlert, SentAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)), Alert: &Alert{}},
		{},
	}
}

// TestCodecDifferential checks the codec against encoding/json on the farm's enriched
// envelopes, a raw page, edge-case values and edge-case inputs: the same decoded values, the
// same errors' presence, the same bytes.
func TestCodecDifferential(t *testing.T) {
	t.Run("farm", func(t *testing.T) {
		envs := articletest.FarmEnvelopes(t)
		for _, b := range envs {
			if !checkDecodeSame(t, b) {
				t.Fatalf("farm envelope does not decode: %q", b[:100])
			}
			e, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			// Nothing lost: the file's bytes were written by Encode.
			if out, _ := Encode(e); !bytes.Equal(out, b) {
				t.Fatalf("%s: re-encoded bytes differ from the file's", e.ID)
			}
		}
	})
	t.Run("raw page", func(t *testing.T) {
		b, err := Encode(benchRaw())
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecodeSame(t, b) {
			t.Fatal("raw page does not decode")
		}
	})
	t.Run("values", func(t *testing.T) {
		for _, e := range edgeEnvelopes() {
			if b, err := refMarshal(e); err == nil {
				checkDecodeSame(t, b)
			}
		}
	})
	t.Run("inputs", func(t *testing.T) {
		n := 0
		for _, in := range codecCases {
			if checkDecodeSame(t, []byte(in)) {
				n++
			}
		}
		// Not all rejected: the cases do test decoded values.
		if n < len(codecCases)/3 {
			t.Fatalf("only %d of %d cases decode", n, len(codecCases))
		}
	})
}

// TestDecodeErrorsKept checks that Decode's errors are the ones it returned with
// encoding/json: each case fails with the codec and with encoding/json, wrapping the same
// sentinel.
func TestDecodeErrorsKept(t *testing.T) {
	refDecode := func(b []byte) error {
		var e Envelope
		if err := refUnmarshal(b, &e); err != nil {
			return ErrMalformed
		}
		_, err := Decode(b) // past the unmarshal, Decode's checks do not depend on the codec
		return err
	}
	sentinels := []error{ErrMalformed, ErrSchemaVersion, ErrMissingID}
	for _, in := range codecCases {
		_, err := Decode([]byte(in))
		want := refDecode([]byte(in))
		if (err == nil) != (want == nil) {
			t.Fatalf("%q: err = %v, want %v", in, err, want)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) != errors.Is(want, s) {
				t.Fatalf("%q: err = %v, want %v", in, err, want)
			}
		}
	}
}

// FuzzDecodeDifferential feeds the same bytes to the codec and to encoding/json: both must
// reject them or decode them to the same value, which both must encode to the same bytes.
func FuzzDecodeDifferential(f *testing.F) {
	for _, in := range codecCases {
		if len(in) < 4096 {
			f.Add([]byte(in))
		}
	}
	for _, e := range edgeEnvelopes() {
		if b, err := refMarshal(e); err == nil {
			f.Add(b)
		}
	}
	// Two whole enriched envelopes: the fuzzer mutates real structure too.
	envs := articletest.FarmEnvelopes(f)
	slices.SortFunc(envs, func(a, b []byte) int { return len(a) - len(b) })
	f.Add(envs[0])
	f.Add(envs[len(envs)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodeSame(t, b)
	})
}

// marshalV2 is json v2 encoding an envelope as Encode does (encoding/json's output, HTML not
// escaped), for BenchmarkCodec: Encode does not use it, json v2 encodes no faster.
func marshalV2(e *Envelope) ([]byte, error) {
	return jsonv2.Marshal(e, jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false), jsontext.EscapeForHTML(false))
}

// BenchmarkCodec compares the codec with encoding/json in the same run, on the farm's
// enriched envelopes (what the indexer and alerter read) and a raw page (what the cleaner
// reads); encode: encoding/json (Encode) against json v2 (marshalV2).
func BenchmarkCodec(b *testing.B) {
	envs := articletest.FarmEnvelopes(b)
	raw, err := Encode(benchRaw())
	if err != nil {
		b.Fatal(err)
	}
	var es []*Envelope
	for _, d := range envs {
		e, err := Decode(d)
		if err != nil {
			b.Fatal(err)
		}
		es = append(es, e)
	}
	rawEnv := benchRaw()
	for _, c := range []struct {
		name      string
		unmarshal func([]byte, *Envelope) error
		marshal   func(*Envelope) ([]byte, error)
	}{
		{"encoding-json", refUnmarshal, refMarshal},
		{"codec", func(b []byte, e *Envelope) error { return unmarshal(b, e) }, marshalV2},
	} {
		b.Run("decode/farm/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var e Envelope
				if err := c.unmarshal(envs[i%len(envs)], &e); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("decode/raw/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var e Envelope
				if err := c.unmarshal(raw, &e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode/farm/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.marshal(es[i%len(es)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("encode/raw/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := c.marshal(rawEnv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeWithoutReusedBuffer checks that an envelope DecodeWithout returned does not
// change when the pooled buffer it was decoded from is reused for the next envelopes: the
// codec copies what it keeps. Each envelope is re-encoded at once and again after the other
// envelopes have gone through the buffer (decoding the same envelope again would refill the
// buffer with the same bytes and hide an alias).
func TestDecodeWithoutReusedBuffer(t *testing.T) {
	envs := articletest.FarmEnvelopes(t)
	var kept []*Envelope
	var at [][]byte
	for _, b := range envs[:20] {
		e, err := DecodeWithout(b, IndexerSkips...)
		if err != nil {
			t.Fatal(err)
		}
		now, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		kept, at = append(kept, e), append(at, now)
	}
	for i, e := range kept {
		later, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(later, at[i]) {
			t.Fatalf("%s changed after its buffer was reused", e.ID)
		}
	}
}
