package article

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/newsflow/newsflow/pkg/article/articletest"
)

// comparable re-encodes an envelope as a generic JSON value without the skipped payload
// members.
func comparable(t testing.TB, e *Envelope, skip []string) any {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"raw", "clean", "enriched"} {
		if m, ok := v[p].(map[string]any); ok {
			for _, k := range skip {
				delete(m, k)
			}
		}
	}
	return v
}

// checkSame fails unless DecodeWithout(b, skip) is Decode(b) with the skipped members zero,
// and the skipped fields are zero.
func checkSame(t testing.TB, b []byte, skip []string) {
	t.Helper()
	full, ferr := Decode(b)
	part, perr := DecodeWithout(b, skip...)
	if ferr != nil {
		return // invalid input: DecodeWithout may or may not reject it (see its doc)
	}
	if perr != nil {
		t.Fatalf("DecodeWithout failed where Decode did not: %v\n%q", perr, b)
	}
	if !reflect.DeepEqual(comparable(t, full, skip), comparable(t, part, skip)) {
		t.Fatalf("DecodeWithout(%v) differs from Decode\n%q", skip, b)
	}
}

func TestDecodeWithoutFarmEnvelopes(t *testing.T) {
	envs := articletest.FarmEnvelopes(t)
	for _, skip := range [][]string{IndexerSkips, AlerterSkips, {"text", "entities", "keywords"}} {
		for _, b := range envs {
			checkSame(t, b, skip)
			e, err := DecodeWithout(b, skip...)
			if err != nil {
				t.Fatal(err)
			}
			if skip[0] == "paragraphs" && (e.Enriched.Paragraphs != nil || e.Enriched.RemovedBlocks != 0) {
				t.Fatalf("%s: skipped members decoded", e.ID)
			}
		}
	}
	// The farm's pages do have what is skipped.
	full, _ := Decode(envs[0])
	if len(full.Enriched.Paragraphs) == 0 || len(full.Enriched.Places) == 0 {
		t.Fatalf("fixture without paragraphs or places")
	}
}

func TestDecodeWithout(t *testing.T) {
	const head = `{"schema":1,"id":"a1","stage":"enriched","sent_at":"2026-12-06T08:00:00Z",`
	tests := []struct {
		name string
		in   string
		skip []string
		// wantErr: DecodeWithout fails; otherwise checkSame compares it with Decode
		wantErr bool
	}{
		{name: "first member dropped", in: head + `"enriched":{"paragraphs":["a","b"],"text":"a\n\nb","url":"u"}}`, skip: IndexerSkips},
		{name: "last member dropped", in: head + `"enriched":{"text":"a\n\nb","url":"u","paragraphs":["a","b"]}}`, skip: IndexerSkips},
		{name: "consecutive dropped", in: head + `"enriched":{"text":"t","paragraphs":["a"],"removed_blocks":3,"url":"u"}}`, skip: IndexerSkips},
		{name: "all dropped", in: head + `"enriched":{"paragraphs":["a"],"removed_blocks":3}}`, skip: IndexerSkips},
		{name: "escaped quotes and brackets inside dropped", in: head + `"enriched":{"paragraphs":["a \"]}\\", "\\\"{"],"text":"x"}}`, skip: IndexerSkips},
		{name: "whitespace everywhere", in: "{ \"schema\" : 1 ,\n \"id\":\"a\", \"stage\":\"enriched\", \"enriched\" : { \"paragraphs\" : [ \"a\" ] , \"text\" : \"t\" } \n}", skip: IndexerSkips},
		{name: "nested objects dropped", in: head + `"enriched":{"places":[{"name":"Paris","lat":48.8,"lon":2.3}],"dates":[{"text":"today","resolved":"2026-12-06T00:00:00Z","offset":3}],"text":"t"}}`, skip: AlerterSkips},
		{name: "nothing to drop", in: head + `"enriched":{"text":"t"}}`, skip: IndexerSkips},
		{name: "payload before id", in: `{"enriched":{"paragraphs":["p"],"text":"t"},"schema":1,"id":"a","stage":"enriched"}`, skip: IndexerSkips},
		{name: "clean stage", in: `{"schema":1,"id":"a","stage":"clean","clean":{"paragraphs":["p"],"text":"t"}}`, skip: IndexerSkips},
		{name: "key matched without case", in: head + `"enriched":{"Paragraphs":["p"],"text":"t"}}`, skip: IndexerSkips},
		{name: "escaped key kept", in: head + `"enriched":{"p\u0061ragraphs":["p"],"text":"t"}}`, skip: IndexerSkips},
		{name: "unterminated", in: head + `"enriched":{"paragraphs":["a],"text":"t"}}`, skip: IndexerSkips, wantErr: true},
		{name: "mismatched brackets", in: head + `"enriched":{"paragraphs":["a"},"text":"t"}}`, skip: IndexerSkips, wantErr: true},
		{name: "missing payload", in: `{"schema":1,"id":"a","stage":"enriched"}`, skip: IndexerSkips, wantErr: true},
		{name: "wrong schema", in: `{"schema":2,"id":"a","stage":"enriched","enriched":{"paragraphs":[]}}`, skip: IndexerSkips, wantErr: true},
		{name: "trailing garbage", in: head + `"enriched":{"paragraphs":[],"text":"t"}}x`, skip: IndexerSkips, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWithout([]byte(tt.in), tt.skip...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				checkSame(t, []byte(tt.in), tt.skip)
			}
		})
	}
}

func TestDropMembersOutput(t *testing.T) {
	in := `{"id":"a","enriched":{"paragraphs":["p"],"text":"t","removed_blocks":2,"url":"u","paragraphs":["q"]},"x":1}`
	out, ok := dropMembers(nil, []byte(in), IndexerSkips)
	if !ok {
		t.Fatal("not dropped")
	}
	if want := `{"id":"a","enriched":{"text":"t","url":"u"},"x":1}`; string(out) != want {
		t.Fatalf("got %s\nwant %s", out, want)
	}
}

func FuzzDecodeWithout(f *testing.F) {
	for _, s := range []string{
		`{"schema":1,"id":"a","stage":"enriched","enriched":{"paragraphs":["a","b"],"text":"a\n\nb"}}`,
		`{"schema":1,"id":"a","stage":"clean","clean":{"text":"t","paragraphs":["x\"]"],"removed_blocks":1}}`,
		`{"schema":1,"id":"a","stage":"raw","raw":{"url":"u","body":"<p>"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSame(t, b, AlerterSkips)
	})
}

// BenchmarkDecodeWithout decodes the farm's enriched envelopes fully (Decode, what the
// indexer and alerter did) and without what each of them skips, in the same run. MB/s are of
// the whole envelopes.
func BenchmarkDecodeWithout(b *testing.B) {
	envs := articletest.FarmEnvelopes(b)
	var n int
	for _, e := range envs {
		n += len(e)
	}
	// What the bus would carry without paragraphs (Text is strings.Join(Paragraphs, "\n\n")):
	// the envelope's bytes with and without the member.
	b.Run("bytes", func(b *testing.B) {
		var without int
		for _, e := range envs {
			out, _ := dropMembers(nil, e, []string{"paragraphs"})
			without += len(out)
		}
		for b.Loop() {
		}
		b.ReportMetric(float64(n)/float64(len(envs)), "B/envelope")
		b.ReportMetric(float64(without)/float64(len(envs)), "B/without-paragraphs")
	})
	for _, c := range []struct {
		name string
		skip []string
	}{{"full", nil}, {"indexer", IndexerSkips}, {"alerter", AlerterSkips}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n / len(envs)))
			i := 0
			for b.Loop() {
				if _, err := DecodeWithout(envs[i%len(envs)], c.skip...); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
