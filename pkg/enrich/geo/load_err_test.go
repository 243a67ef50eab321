package geo

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// TestLoadMalformedDataFails: a malformed line in any data file makes Load fail instead of
// returning a gazetteer without the rest of that file (cities' error was once overwritten by
// the regions' load).
func TestLoadMalformedDataFails(t *testing.T) {
	for _, name := range []string{"data/countries.tsv.gz", "data/cities.tsv.gz", "data/regions.tsv.gz"} {
		t.Run(name, func(t *testing.T) {
			orig := readData
			t.Cleanup(func() { readData = orig })
			readData = func(n string) ([]byte, error) {
				if n != name {
					return orig(n)
				}
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write([]byte("too\tfew\tfields\n"))
				zw.Close()
				return buf.Bytes(), nil
			}
			g, err := Load()
			if err == nil || !strings.Contains(err.Error(), "fields") {
				t.Fatalf("Load with a malformed %s: %v, %v; want a fields error", name, g != nil, err)
			}
		})
	}
}
