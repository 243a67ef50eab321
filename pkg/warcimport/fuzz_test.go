package warcimport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

// FuzzImport feeds arbitrary bytes to the import as a WARC file: it must never panic, hang or
// fail (bad records are counted), and whatever it publishes must be a valid raw envelope
// keyed by its canonical URL's ID.
func FuzzImport(f *testing.F) {
	farm, err := newsfarm.New(newsfarm.Config{Seed: 5, Backlog: 3, PoisonEvery: 2, Start: epoch})
	if err != nil {
		f.Fatal(err)
	}
	for _, plain := range []bool{false, true} {
		var buf bytes.Buffer
		if _, err := farm.WriteWARC(&buf, epoch, newsfarm.WARCOptions{Plain: plain}); err != nil {
			f.Fatal(err)
		}
		w := buf.Bytes()
		f.Add(w)
		f.Add(w[:len(w)/2])
		f.Add(w[:len(w)-7])
		f.Add(append(append([]byte{}, w[:len(w)/3]...), w[len(w)/2:]...))
	}
	f.Add(buildRecord(f, "https://news.example/a", page(goodHTML)))
	f.Add([]byte("WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nHTTP/\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.example/\r\nContent-Length: 40\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08\r\n\r\n"))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "fuzz.warc")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := newMemBus()
		im, err := New(Config{MaxBodyBytes: 1 << 20}, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := im.Import(ctx, []string{p}); err != nil {
			t.Fatalf("import failed on bad input: %v", err)
		}
		for _, m := range b.msgs[article.SubjectRaw] {
			env, err := article.Decode(m.Data)
			if err != nil {
				t.Fatalf("published an invalid envelope: %v", err)
			}
			if env.ID != m.Key || env.ID != article.IDFromCanonical(env.Raw.CanonicalURL) {
				t.Fatalf("key %s, id %s, canonical %s", m.Key, env.ID, env.Raw.CanonicalURL)
			}
		}
	})
}
