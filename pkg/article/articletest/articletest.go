// Package articletest holds test fixtures of the message contract for the packages that
// consume envelopes.
package articletest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FarmEnvelopes returns the enriched envelopes of pkg/article/testdata/enriched-farm.jsonl.gz:
// the news farm's pages (synthetic; six sites in English, German, Spanish and French, four
// page templates) fetched, cleaned and enriched by the real stages and encoded by
// article.Encode (regenerate: pkg/article/gen_envelopes_test.go).
func FarmEnvelopes(tb testing.TB) [][]byte {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", "enriched-farm.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) < 100 {
		tb.Fatalf("%d farm envelopes", len(out))
	}
	return out
}
