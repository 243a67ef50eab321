package warcimport

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nlnwa/gowarc/v3"
	"go.uber.org/goleak"
	"golang.org/x/text/encoding/charmap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		// kafka-go's shared transport keeps idle connections with their reader goroutines.
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go.(*conn).run"),
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go.(*connPool).discover"),
	)
}

// memBus is an in-memory publisher for the pure-logic tests.
type memBus struct {
	mu   sync.Mutex
	msgs map[string][]bus.Outgoing // subject → messages
}

func newMemBus() *memBus { return &memBus{msgs: map[string][]bus.Outgoing{}} }

func (b *memBus) Publish(_ context.Context, subject string, m bus.Outgoing) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs[subject] = append(b.msgs[subject], m)
	return nil
}
func (b *memBus) Consume(context.Context, string, bus.ConsumeOptions, bus.Handler) error {
	return fmt.Errorf("memBus: no consume")
}
func (b *memBus) Features() bus.Features { return bus.Features{Name: "mem", MaxPayload: 1 << 20} }
func (b *memBus) Close() error           { return nil }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// farmWARC writes a farm's backlog as a WARC file and returns its path and manifest.
func farmWARC(t testing.TB, dir string, backlog int, plain bool) (string, []newsfarm.Entry) {
	t.Helper()
	f, err := newsfarm.New(newsfarm.Config{Seed: 3, Backlog: backlog, Start: epoch})
	if err != nil {
		t.Fatal(err)
	}
	name := "farm.warc.gz"
	if plain {
		name = "farm.warc"
	}
	p := filepath.Join(dir, name)
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteWARC(fh, epoch, newsfarm.WARCOptions{Plain: plain}); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return p, f.Manifest(epoch)
}

// expected returns the distinct article IDs of the manifest's importable entries and the
// number of poison entries of each kind.
func expected(m []newsfarm.Entry) (ids map[string]bool, poison map[string]int) {
	ids, poison = map[string]bool{}, map[string]int{}
	for _, e := range m {
		if e.Kind == newsfarm.KindPoison {
			poison[e.Poison]++
			if e.Poison != newsfarm.PoisonBinary { // binary junk declared text/html goes on (the cleaner dead-letters it)
				continue
			}
		}
		ids[e.ID] = true
	}
	return ids, poison
}

func keysOf(ms []bus.Outgoing) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		out[m.Key]++
	}
	return out
}

func TestImportFarmWARC(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			dir := t.TempDir()
			p, m := farmWARC(t, dir, 250, plain)
			b := newMemBus()
			var progress bytes.Buffer
			im, err := New(Config{Batch: 32, StateFile: filepath.Join(dir, "state.json"), Progress: &progress, ProgressEvery: time.Hour}, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			st, err := im.Import(context.Background(), []string{p})
			if err != nil {
				t.Fatal(err)
			}
			ids, poison := expected(m)
			got := keysOf(b.msgs[article.SubjectRaw])
			for id := range ids {
				if got[id] == 0 {
					t.Errorf("id %s not published", id)
				}
			}
			if len(got) != len(ids) {
				t.Errorf("%d distinct ids published, want %d", len(got), len(ids))
			}
			if st.Bad[BadTooLarge] != poison[newsfarm.PoisonGzipBomb] || st.Skipped[SkipEmpty] != poison[newsfarm.PoisonEmpty] {
				t.Errorf("bad %v skipped %v; poison in the farm %v", st.Bad, st.Skipped, poison)
			}
			if n := len(b.msgs[article.SubjectDLQ]); n != st.BadTotal() {
				t.Errorf("%d dead letters for %d bad records", n, st.BadTotal())
			}
			if st.Skipped[SkipNotResponse] != len(m)+1 { // requests + warcinfo
				t.Errorf("skipped %v, want %d non-responses", st.Skipped, len(m)+1)
			}
			if !strings.Contains(progress.String(), "100%") || !strings.Contains(progress.String(), "ETA 0s") {
				t.Errorf("last progress line: %q", progress.String())
			}
			// Re-import with the state file: nothing more is published.
			b2 := newMemBus()
			im2, _ := New(Config{StateFile: filepath.Join(dir, "state.json")}, b2, nil)
			st2, err := im2.Import(context.Background(), []string{p})
			if err != nil || len(b2.msgs[article.SubjectRaw]) != 0 || st2.Resumed != 1 {
				t.Errorf("re-import: %v, %d published, %+v", err, len(b2.msgs[article.SubjectRaw]), st2)
			}
			// The fetch time, URL and HTTP facts come from the record.
			var env *article.Envelope
			for _, msg := range b.msgs[article.SubjectRaw] {
				if msg.Key == m[0].ID {
					if env, err = article.Decode(msg.Data); err != nil {
						t.Fatal(err)
					}
				}
			}
			if env == nil {
				t.Fatalf("%s not published", m[0].ID)
			}
			if env.Raw.URL != m[0].URL || !env.Raw.FetchedAt.Equal(m[0].Published.Add(30*time.Second)) || env.Raw.HTTP.Status != 200 || env.Raw.Extra["body_source"] != "warc" {
				t.Errorf("raw %s %s %+v %v, manifest %+v", env.Raw.URL, env.Raw.FetchedAt, env.Raw.HTTP, env.Raw.Extra, m[0])
			}
		})
	}
}

// buildRecord returns one gzipped WARC response record.
func buildRecord(t testing.TB, target, httpResp string) []byte {
	t.Helper()
	rb := gowarc.NewRecordBuilder(gowarc.Response, gowarc.WithAddMissingDigest(true), gowarc.WithAddMissingRecordId(true))
	if _, err := rb.WriteString(httpResp); err != nil {
		t.Fatal(err)
	}
	rb.AddWarcHeader(gowarc.WarcDate, "2025-06-01T10:00:00Z")
	rb.AddWarcHeader(gowarc.ContentType, "application/http; msgtype=response")
	rb.AddWarcHeader(gowarc.WarcTargetURI, target)
	rec, _, err := rb.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, _, err := gowarc.NewMarshaler().Marshal(zw, rec, 0); err != nil {
		t.Fatal(err)
	}
	_ = zw.Close()
	return buf.Bytes()
}

func page(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
}

const goodHTML = `<html><head><link rel="canonical" href="https://news.example/a?utm_source=x"></head><body><p>Hello world, a news article.</p></body></html>`

func TestRecordClasses(t *testing.T) {
	latin1 := "<html><head><meta charset=\"iso-8859-1\"></head><body><p>Caf\xe9 cr\xe8me</p></body></html>"
	// UTF-8 bytes under a windows-1252 declaration (a CMS template's stale <meta>): the bytes
	// win, as in the fetcher; trusting the declaration gave "CafÃ©".
	utf8Mislabelled := "<html><head><meta charset=\"windows-1252\"></head><body><p>Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, d\u00e9j\u00e0 vu.</p></body></html>"
	// windows-1251 Russian with no declaration anywhere: detected, as in the fetcher.
	cp1251, _ := charmap.Windows1251.NewEncoder().String("<html><body><p>Правительство объявило о новых мерах поддержки для малого бизнеса в регионах страны. Министр экономики рассказал журналистам о планах на следующий год.</p></body></html>")
	tests := []struct {
		name     string
		target   string
		resp     string
		class    string // "" = published
		wantURL  string
		wantBody string // a part of the published body ("" = not checked)
		charset  string // the published http.charset (checked when wantBody is set)
	}{
		{"html with canonical", "https://news.example/a?id=1&utm_medium=feed", page(goodHTML), "", "https://news.example/a", "", ""},
		{"latin-1 page", "https://news.example/latin", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + latin1, "", "https://news.example/latin", "Café crème", "windows-1252"},
		{"utf-8 bytes declared windows-1252", "https://news.example/mislabelled", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + utf8Mislabelled, "", "https://news.example/mislabelled", "Café crème brûlée, déjà vu.", ""},
		{"undeclared windows-1251", "https://news.example/ru", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + cp1251, "", "https://news.example/ru", "Правительство объявило", "windows-1251"},
		{"redirect", "https://news.example/r", "HTTP/1.1 301 Moved\r\nLocation: /a\r\n\r\n", SkipStatus, "", "", ""},
		{"image", "https://news.example/i.png", "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG", SkipContentType, "", "", ""},
		{"empty", "https://news.example/e", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", SkipEmpty, "", "", ""},
		{"ftp target", "ftp://news.example/x", page(goodHTML), SkipBadURL, "", "", ""},
		{"broken gzip encoding", "https://news.example/g", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\nnot gzip at all", BadEncoding, "", "", ""},
		{"unknown encoding", "https://news.example/z", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: zstd\r\n\r\nxx", BadEncoding, "", "", ""},
		{"huge body", "https://news.example/h", page(strings.Repeat("<p>long</p>", 1<<16)), BadTooLarge, "", "", ""},
		{"huge body, no content-length", "https://news.example/h2", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + strings.Repeat("<p>long</p>", 1<<16), BadTooLarge, "", "", ""},
		{"content-length understated", "https://news.example/cl", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n" + goodHTML, "", "https://news.example/a", "Hello world, a news article.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, st := importBytes(t, buildRecord(t, tt.target, tt.resp))
			raw := b.msgs[article.SubjectRaw]
			if tt.class == "" {
				if len(raw) != 1 {
					t.Fatalf("not published: %+v", st)
				}
				env, err := article.Decode(raw[0].Data)
				if err != nil {
					t.Fatal(err)
				}
				id, _, _ := article.ID(tt.wantURL)
				if env.Raw.CanonicalURL != tt.wantURL || env.ID != id || raw[0].Key != id {
					t.Errorf("canonical %s id %s key %s, want %s %s", env.Raw.CanonicalURL, env.ID, raw[0].Key, tt.wantURL, id)
				}
				if tt.wantBody != "" && (!strings.Contains(env.Raw.Body, tt.wantBody) || env.Raw.HTTP.Charset != tt.charset) {
					t.Errorf("body %q charset %q, want it to hold %q, charset %q", env.Raw.Body, env.Raw.HTTP.Charset, tt.wantBody, tt.charset)
				}
				return
			}
			if len(raw) != 0 || st.Skipped[tt.class]+st.Bad[tt.class] != 1 {
				t.Errorf("want class %q: published %d, skipped %v, bad %v", tt.class, len(raw), st.Skipped, st.Bad)
			}
			if _, isBad := classOf(&recordError{class: tt.class, bad: st.Bad[tt.class] > 0}); isBad != (len(b.msgs[article.SubjectDLQ]) == 1) {
				t.Errorf("dead letters: %d", len(b.msgs[article.SubjectDLQ]))
			}
		})
	}
}

// TestCorruptWARC: a truncated gzip member, garbage between records and a truncated tail
// are counted as corrupt and dead-lettered; every good record around them is imported.
func TestCorruptWARC(t *testing.T) {
	var recs [][]byte
	for i := 0; i < 6; i++ {
		recs = append(recs, buildRecord(t, fmt.Sprintf("https://news.example/%d", i), page(strings.Replace(goodHTML, "/a?utm_source=x", fmt.Sprintf("/%d", i), 1))))
	}
	var file []byte
	file = append(file, recs[0]...)
	file = append(file, recs[1][:len(recs[1])/2]...) // truncated member
	file = append(file, recs[2]...)
	file = append(file, []byte("garbage between records\x00\x01")...)
	file = append(file, recs[3]...)
	file = append(file, recs[4]...)
	file = append(file, recs[5][:len(recs[5])-20]...) // truncated tail
	for _, plain := range []bool{false} {
		dir := t.TempDir()
		p := filepath.Join(dir, "corrupt.warc.gz")
		if err := os.WriteFile(p, file, 0o644); err != nil {
			t.Fatal(err)
		}
		b := newMemBus()
		im, _ := New(Config{}, b, nil)
		st, err := im.Import(context.Background(), []string{p})
		if err != nil {
			t.Fatalf("plain=%v: %v", plain, err)
		}
		got := keysOf(b.msgs[article.SubjectRaw])
		for _, i := range []int{0, 2, 3, 4} {
			id, _, _ := article.ID(fmt.Sprintf("https://news.example/%d", i))
			if got[id] != 1 {
				t.Errorf("record %d not imported once (%d)", i, got[id])
			}
		}
		if len(got) != 4 || st.Bad[BadCorrupt] < 2 || len(b.msgs[article.SubjectDLQ]) != st.BadTotal() {
			t.Errorf("published %d, stats %+v, dead letters %d", len(got), st, len(b.msgs[article.SubjectDLQ]))
		}
		for _, m := range b.msgs[article.SubjectDLQ] {
			env, err := article.Decode(m.Data)
			if err != nil || env.DLQ.Stage != "import" || !strings.Contains(env.DLQ.Reason, "corrupt.warc.gz offset") {
				t.Errorf("dead letter: %v %+v", err, env)
			}
		}
	}
}

func TestResync(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	data := append(bytes.Repeat([]byte("x"), 3<<20), []byte("WARC/1.0\r\n")...)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	for _, tt := range []struct {
		from int64
		gz   bool
		want int64
	}{{0, false, 3 << 20}, {(1 << 20) - 3, false, 3 << 20}, {3<<20 + 1, false, -1}, {0, true, -1}} {
		if got, err := resync(f, tt.from, tt.gz); err != nil || got != tt.want {
			t.Errorf("resync(%d, gz=%v) = %d, %v; want %d", tt.from, tt.gz, got, err, tt.want)
		}
	}
}

func TestStateFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, "state.json")
	if err := os.WriteFile(sp, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	im, _ := New(Config{StateFile: sp}, newMemBus(), nil)
	if _, err := im.Import(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("corrupt state file: %v", err)
	}
}

func TestProgressLine(t *testing.T) {
	s := Stats{Records: 100, Published: 50, Bytes: 250, Skipped: map[string]int{SkipStatus: 3}, Bad: map[string]int{BadCorrupt: 1}}
	got := progressLine(s, 1000, 10*time.Second)
	for _, want := range []string{"[######", " 25%", "50 published (5/s)", "3 skipped", "1 bad", "ETA 30s", "corrupt record 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress %q lacks %q", got, want)
		}
	}
}

// TestCompressedBodies: gzip- and deflate-encoded bodies of different sizes in one WARC, a
// gzip bomb among them, each decompressed through the importer's reused scratch buffer:
// every good record is published with exactly its own body (no bytes of a longer earlier
// one), and the bomb is a bad record.
func TestCompressedBodies(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.String()
	}
	deflate := func(s string) string {
		var b bytes.Buffer
		zw, _ := flate.NewWriter(&b, flate.BestSpeed)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.String()
	}
	body := func(word string, n int) string {
		return "<html><body><p>" + strings.Repeat(word+" ", n) + "</p></body></html>"
	}
	enc := func(encoding, b string) string {
		return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: " + encoding + "\r\nContent-Length: " + fmt.Sprint(len(b)) + "\r\n\r\n" + b
	}
	recs := []struct{ target, resp, want string }{
		{"https://news.example/long", enc("gzip", gz(body("long", 20000))), body("long", 20000)},
		{"https://news.example/short", enc("gzip", gz(body("short", 3))), body("short", 3)},
		{"https://news.example/bomb", enc("gzip", gz(strings.Repeat("0", 300<<10))), ""},
		{"https://news.example/deflated", enc("deflate", deflate(body("deflated", 50))), body("deflated", 50)},
		{"https://news.example/plain", page(body("plain", 2)), body("plain", 2)},
	}
	var warc []byte
	for _, r := range recs {
		warc = append(warc, buildRecord(t, r.target, r.resp)...)
	}
	b, st := importBytes(t, warc)
	got := map[string]string{}
	for _, m := range b.msgs[article.SubjectRaw] {
		env, err := article.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		got[env.Raw.URL] = env.Raw.Body
	}
	for _, r := range recs {
		if r.want == "" {
			if _, ok := got[r.target]; ok {
				t.Errorf("%s published", r.target)
			}
			continue
		}
		if got[r.target] != r.want {
			t.Errorf("%s: body of %d bytes, want %d: %.80q", r.target, len(got[r.target]), len(r.want), got[r.target])
		}
	}
	if st.Bad[BadTooLarge] != 1 || st.Published != 4 {
		t.Errorf("published %d, bad %v; want 4 and the bomb too large", st.Published, st.Bad)
	}
}

// importBytes imports the WARC file warc (bodies up to 256 KiB) onto a memory bus.
func importBytes(t *testing.T, warc []byte) (*memBus, Stats) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "one.warc.gz")
	if err := os.WriteFile(p, warc, 0o644); err != nil {
		t.Fatal(err)
	}
	b := newMemBus()
	im, _ := New(Config{MaxBodyBytes: 256 << 10}, b, nil)
	st, err := im.Import(context.Background(), []string{p})
	if err != nil {
		t.Fatal(err)
	}
	return b, st
}
