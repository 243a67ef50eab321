// Command buildgeo compiles the GeoNames / mledoze country data under a gazetteer directory
// (default ../../../../shared/ml/gazetteers, i.e. /work/shared/ml/gazetteers from
// pkg/enrich/geo) into the compact gzip'd TSV files that package geo embeds:
//
//	countries.tsv.gz  cc, name, lat, lon, population, capital, names|…, demonyms|…
//	cities.tsv.gz     name, lat, lon, cc, admin1, population, feature code, alternates|…
//	regions.tsv.gz    cc.admin1, name, ascii name, lat, lon (of the region's largest city)
//
// Only Latin-script names are kept. Output is deterministic (sorted, zero gzip mtime).
// Run via `go generate ./enrich/geo` from pkg.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type country struct {
	Name struct {
		Common   string `json:"common"`
		Official string `json:"official"`
	} `json:"name"`
	CCA2         string   `json:"cca2"`
	CCA3         string   `json:"cca3"`
	Capital      []string `json:"capital"`
	AltSpellings []string `json:"altSpellings"`
	LatLng       []float64
	Demonyms     map[string]struct{ F, M string } `json:"demonyms"`
	Translations map[string]struct {
		Official string `json:"official"`
		Common   string `json:"common"`
	} `json:"translations"`
}

// shortForms are abbreviations that are written as such in news text; other 2–3 letter
// altSpellings are mostly ISO codes that collide with words ("IT", "IN", "NO").
var shortForms = map[string][]string{
	"US": {"US", "U.S.", "USA", "U.S.A.", "America"},
	"GB": {"UK", "U.K.", "Britain", "Great Britain"},
	"AE": {"UAE", "U.A.E."},
	"CD": {"DRC", "DR Congo"},
	"KR": {"South Korea"},
	"KP": {"North Korea"},
	"RU": {"Russia"},
	"CZ": {"Czech Republic"},
}

// translationLangs are the languages whose country names are kept: Latin-script ones, and
// Chinese, whose articles the zh entity model tags (its LOC entities are looked up here).
var translationLangs = []string{"deu", "fra", "spa", "ita", "por", "nld", "pol", "hrv", "swe", "fin", "ces", "slk", "tur", "zho"}

func main() {
	data := flag.String("data", "../../../../shared/ml/gazetteers", "gazetteer directory")
	out := flag.String("out", "data", "output directory")
	minPop := flag.Int("minpop", 15000, "minimum city population")
	flag.Parse()
	if err := run(*data, *out, *minPop); err != nil {
		log.Fatal(err)
	}
}

func latin(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return false
		}
		if unicode.IsDigit(r) || r == '|' || r == '\t' || r == '(' || r == '=' {
			return false
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

func run(dir, out string, minPop int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// countryInfo: population, name.
	pop := map[string]int{}
	infoName := map[string]string{}
	if err := eachTSV(filepath.Join(dir, "countryInfo.tsv"), func(f []string) {
		if len(f) > 7 {
			p, _ := strconv.Atoi(f[7])
			pop[f[0]] = p
			infoName[f[0]] = f[4]
		}
	}); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "countries.json"))
	if err != nil {
		return err
	}
	var cs []country
	if err := json.Unmarshal(b, &cs); err != nil {
		return fmt.Errorf("countries.json: %w", err)
	}
	var lines []string
	for _, c := range cs {
		if len(c.CCA2) != 2 {
			continue
		}
		names := newSet()
		names.add(c.Name.Common)
		names.add(c.Name.Official)
		names.add(infoName[c.CCA2])
		for _, a := range c.AltSpellings {
			if len([]rune(a)) > 3 {
				names.add(a)
			}
		}
		for _, a := range shortForms[c.CCA2] {
			names.add(a)
		}
		for _, l := range translationLangs {
			if t, ok := c.Translations[l]; ok {
				names.add(t.Common)
			}
		}
		dem := newSet()
		if d, ok := c.Demonyms["eng"]; ok {
			for _, x := range []string{d.M, d.F} {
				dem.add(x)
				if strings.HasSuffix(x, "n") || strings.HasSuffix(x, "i") {
					dem.add(x + "s")
				}
			}
		}
		lat, lon := 0.0, 0.0
		if len(c.LatLng) == 2 {
			lat, lon = c.LatLng[0], c.LatLng[1]
		}
		capital := ""
		if len(c.Capital) > 0 {
			capital = c.Capital[0]
		}
		lines = append(lines, strings.Join([]string{c.CCA2, c.Name.Common, ff(lat), ff(lon), strconv.Itoa(pop[c.CCA2]), clean(capital), names.join(), dem.join()}, "\t"))
	}
	sort.Strings(lines)
	if err := writeGz(filepath.Join(out, "countries.tsv.gz"), lines); err != nil {
		return err
	}

	// cities.
	const altMinPop = 100000
	type best struct {
		pop      int
		lat, lon float64
	}
	regionBest := map[string]best{}
	lines = lines[:0]
	if err := eachTSV(filepath.Join(dir, "cities15000.txt"), func(f []string) {
		if len(f) < 15 {
			return
		}
		p, _ := strconv.Atoi(f[14])
		if p < minPop {
			return
		}
		lat, _ := strconv.ParseFloat(f[4], 64)
		lon, _ := strconv.ParseFloat(f[5], 64)
		key := f[8] + "." + f[10]
		if rb, ok := regionBest[key]; !ok || p > rb.pop {
			regionBest[key] = best{p, lat, lon}
		}
		alts := newSet()
		alts.add(f[2])
		for _, a := range strings.Split(f[3], ",") {
			if p < altMinPop {
				break // alternates only for larger places: keeps the table small
			}
			if len(a) >= 4 && len(a) <= 40 && a != f[1] && (strings.ToUpper(a) != a || allHan(a)) {
				alts.add(a)
			}
		}
		alts.remove(f[1])
		lines = append(lines, strings.Join([]string{clean(f[1]), f[4], f[5], f[8], f[10], f[14], f[7], alts.join()}, "\t"))
	}); err != nil {
		return err
	}
	sort.Strings(lines)
	if err := writeGz(filepath.Join(out, "cities.tsv.gz"), lines); err != nil {
		return err
	}

	lines = lines[:0]
	if err := eachTSV(filepath.Join(dir, "regionInfo.tsv"), func(f []string) {
		if len(f) < 3 {
			return
		}
		rb := regionBest[f[0]]
		lines = append(lines, strings.Join([]string{f[0], clean(f[1]), clean(f[2]), ff(rb.lat), ff(rb.lon)}, "\t"))
	}); err != nil {
		return err
	}
	sort.Strings(lines)
	return writeGz(filepath.Join(out, "regions.tsv.gz"), lines)
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

func clean(s string) string {
	return strings.NewReplacer("\t", " ", "|", " ").Replace(strings.TrimSpace(s))
}

type set struct {
	m     map[string]bool
	order []string
}

func newSet() *set { return &set{m: map[string]bool{}} }

func (s *set) add(x string) {
	x = strings.TrimSpace(x)
	if !(latin(x) || allHan(x)) || s.m[x] {
		return
	}
	s.m[x] = true
	s.order = append(s.order, x)
}

func (s *set) remove(x string) {
	for i, y := range s.order {
		if y == x {
			s.order = append(s.order[:i], s.order[i+1:]...)
			return
		}
	}
}

func (s *set) join() string { return strings.Join(s.order, "|") }

func eachTSV(path string, fn func([]string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fn(strings.Split(line, "\t"))
	}
	return sc.Err()
}

func writeGz(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(zw)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// allHan reports whether a is written in Han characters only (a Chinese place name: kept as
// an alternate although it has no lower case, unlike an acronym).
func allHan(a string) bool {
	for _, r := range a {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return a != ""
}
