package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/enrich/internal/phrase"
)

// TestLoadMatchesReference checks that Load builds exactly what the straightforward loader
// (loadReference) builds from the embedded data: every country, city and region, under every
// key, in the same order.
func TestLoadMatchesReference(t *testing.T) {
	got, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadReference()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.cities) < 30000 || len(got.regions) < 3000 || len(got.list) < 200 {
		t.Fatalf("loaded %d city keys, %d region keys, %d countries: data missing", len(got.cities), len(got.regions), len(got.list))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("Load and loadReference differ")
	}
}

// TestEachLineSplitsAsScanner checks eachLineIn against bufio.Scanner and strings.Split.
func TestEachLineSplitsAsScanner(t *testing.T) {
	for _, in := range []string{"", "a", "a\n", "a\tb\n\nc\t\td", "a\r\nb\r", "\n\n", "x\ty\r\n\r\n"} {
		var got, want [][]string
		if err := eachLineIn("t", []byte(in), func(f []string) error {
			got = append(got, append([]string(nil), f...))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(in))
		for sc.Scan() {
			want = append(want, strings.Split(sc.Text(), "\t"))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// loadReference is Load as it was before it was made faster (bufio.Scanner, strings.Split,
// a map per city, maps grown as they fill): TestLoadMatchesReference proves both load the same.
func loadReference() (*Gazetteer, error) {
	g := &Gazetteer{countries: map[string]*Country{}, cities: map[string][]*City{}, regions: map[string][]*Region{}, demonymSet: map[int]bool{}}
	b := phrase.NewBuilder()
	err := eachLineReference("data/countries.tsv.gz", func(f []string) error {
		if len(f) < 8 {
			return fmt.Errorf("countries: %d fields", len(f))
		}
		c := &Country{Code: f[0], Name: f[1], Lat: atof(f[2]), Lon: atof(f[3]), Population: atoi(f[4]), Capital: f[5]}
		id := len(g.list)
		g.list = append(g.list, c)
		g.countries[c.Code] = c
		for _, n := range split(f[6]) {
			b.Add(n, id)
		}
		for _, n := range split(f[7]) {
			b.Add(n, demonymBase+id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.countryM = b.Build()
	err = eachLineReference("data/cities.tsv.gz", func(f []string) error {
		if len(f) < 8 {
			return fmt.Errorf("cities: %d fields", len(f))
		}
		c := &City{Name: f[0], Lat: atof(f[1]), Lon: atof(f[2]), Country: f[3], Admin1: f[4], Population: atoi(f[5]), Feature: f[6]}
		seen := map[string]bool{}
		for _, n := range append([]string{f[0]}, split(f[7])...) {
			k, _ := phrase.Key(n)
			if seen[k] {
				continue
			}
			seen[k] = true
			g.cities[k] = append(g.cities[k], c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cs := range g.cities {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Population > cs[j].Population })
	}
	err = eachLineReference("data/regions.tsv.gz", func(f []string) error {
		if len(f) < 5 {
			return fmt.Errorf("regions: %d fields", len(f))
		}
		cc, _, _ := strings.Cut(f[0], ".")
		r := &Region{Code: f[0], Name: f[1], Country: cc, Lat: atof(f[3]), Lon: atof(f[4])}
		for _, n := range []string{f[1], f[2]} {
			k, _ := phrase.Key(n)
			if len(g.regions[k]) == 0 || g.regions[k][len(g.regions[k])-1] != r {
				g.regions[k] = append(g.regions[k], r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func eachLineReference(name string, fn func([]string) error) error {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("geo: %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("geo: %s: %w", name, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		if err := fn(strings.Split(sc.Text(), "\t")); err != nil {
			return fmt.Errorf("geo: %s: %w", name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("geo: %s: %w", name, err)
	}
	return nil
}
