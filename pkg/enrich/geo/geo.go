// Package geo resolves place names to ISO 3166-1 alpha-2 country codes and to GeoNames cities
// and admin-1 regions with coordinates. Its gazetteer is compiled from ../shared/ml/gazetteers
// by internal/buildgeo (see go:generate below) into data/*.tsv.gz and embedded in the binary.
//
// Default loads the gazetteer once (about 100 ms); a *Gazetteer is immutable afterwards and
// safe for concurrent use.
package geo

//go:generate go run ./internal/buildgeo -data ../../../../shared/ml/gazetteers -out data

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/newsflow/newsflow/pkg/enrich/internal/phrase"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

//go:embed data/*.tsv.gz
var dataFS embed.FS

// readData reads an embedded data file (a test substitutes malformed files).
var readData = dataFS.ReadFile

// Country is one ISO 3166 country.
type Country struct {
	Code       string // ISO 3166-1 alpha-2
	Name       string // common English name
	Lat, Lon   float64
	Population int
	Capital    string
}

// City is one GeoNames populated place.
type City struct {
	Name       string
	Lat, Lon   float64
	Country    string
	Admin1     string
	Population int
	Feature    string // GeoNames feature code: PPLC capital, PPLA admin seat, ...
}

// Region is one GeoNames admin-1 region; Lat/Lon are those of its largest city.
type Region struct {
	Code     string // "UA.05"
	Name     string
	Country  string
	Lat, Lon float64
}

// Gazetteer holds countries, cities and regions indexed by folded name.
type Gazetteer struct {
	countries  map[string]*Country // by code
	list       []*Country
	countryM   *phrase.Matcher // ids: index into list; demonyms offset by demonymBase
	cities     map[string][]*City
	regions    map[string][]*Region
	demonymSet map[int]bool
}

const demonymBase = 1 << 20

var (
	defOnce sync.Once
	def     *Gazetteer
	defErr  error
)

// Default returns the embedded gazetteer, loading it on first use. It panics only if the
// embedded data is corrupt, which the package tests rule out.
func Default() *Gazetteer {
	defOnce.Do(func() { def, defErr = Load() })
	if defErr != nil {
		panic(defErr)
	}
	return def
}

// Load parses the embedded data files.
func Load() (*Gazetteer, error) {
	// names (one a line, more after "|") bound the cities' keys: size the map once
	cityData, err := inflate("data/cities.tsv.gz")
	if err != nil {
		return nil, err
	}
	names := bytes.Count(cityData, []byte{'\n'}) + bytes.Count(cityData, []byte{'|'}) + 1
	g := &Gazetteer{countries: map[string]*Country{}, cities: make(map[string][]*City, names), regions: map[string][]*Region{}, demonymSet: map[int]bool{}}
	b := phrase.NewBuilder()
	err = eachLine("data/countries.tsv.gz", func(f []string) error {
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
	var seen []string // keys of one city so far (a few; at most 122)
	err = eachLineIn("data/cities.tsv.gz", cityData, func(f []string) error {
		if len(f) < 8 {
			return fmt.Errorf("cities: %d fields", len(f))
		}
		c := &City{Name: f[0], Lat: atof(f[1]), Lon: atof(f[2]), Country: f[3], Admin1: f[4], Population: atoi(f[5]), Feature: f[6]}
		seen = seen[:0]
		add := func(n string) {
			k, _ := phrase.Key(n)
			for _, s := range seen {
				if s == k {
					return
				}
			}
			seen = append(seen, k)
			g.cities[k] = append(g.cities[k], c)
		}
		// the name, then each alternate name (split(f[7]))
		add(f[0])
		for rest, more := f[7], f[7] != ""; more; {
			var n string
			n, rest, more = strings.Cut(rest, "|")
			add(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cs := range g.cities {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Population > cs[j].Population })
	}
	err = eachLine("data/regions.tsv.gz", func(f []string) error {
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

// Country returns the country with ISO code cc, or nil.
func (g *Gazetteer) Country(cc string) *Country { return g.countries[strings.ToUpper(cc)] }

// CountryMention is a country name or demonym found in text.
type CountryMention struct {
	Country    *Country
	Start, End int // byte offsets
	Demonym    bool
}

// FindCountries returns country names and demonyms ("Ukrainian" → UA) in toks, leftmost-longest.
func (g *Gazetteer) FindCountries(toks []textutil.Token) []CountryMention {
	return g.FindCountriesFolded(toks, nil)
}

// FindCountriesFolded is FindCountries with tokens pre-folded by phrase.Fold (nil: computed).
func (g *Gazetteer) FindCountriesFolded(toks []textutil.Token, folded []string) []CountryMention {
	var out []CountryMention
	for _, m := range g.countryM.FindAllFolded(toks, folded) {
		id := g.bestID(m.IDs)
		dem := id >= demonymBase
		if dem {
			id -= demonymBase
		}
		out = append(out, CountryMention{Country: g.list[id], Start: m.Start, End: m.End, Demonym: dem})
	}
	return out
}

// bestID picks, among countries sharing a name or demonym ("American": US, MP, AS), a country
// name over a demonym and then the most populous country.
func (g *Gazetteer) bestID(ids []int) int {
	best := ids[0]
	score := func(id int) int {
		s := 0
		if id < demonymBase {
			s = 1 << 40
		} else {
			id -= demonymBase
		}
		return s + g.list[id].Population
	}
	for _, id := range ids[1:] {
		if score(id) > score(best) {
			best = id
		}
	}
	return best
}

// LookupCountry resolves a single name or demonym ("Russia", "Russian Federation", "Russians").
func (g *Gazetteer) LookupCountry(name string) (*Country, bool) {
	toks := textutil.Tokenize(name)
	ms := g.countryM.FindAll(toks)
	if len(ms) != 1 || ms[0].From != 0 || ms[0].To != len(toks) {
		return nil, false
	}
	id := g.bestID(ms[0].IDs)
	if id >= demonymBase {
		id -= demonymBase
	}
	return g.list[id], true
}

// Cities returns the cities called name (any kept alternate name), most populous first.
func (g *Gazetteer) Cities(name string) []*City {
	k, _ := phrase.Key(name)
	return g.cities[k]
}

// Regions returns the admin-1 regions called name.
func (g *Gazetteer) Regions(name string) []*Region {
	k, _ := phrase.Key(name)
	return g.regions[k]
}

// ResolveCity picks the most likely city called name given how often each country is
// mentioned in the article (ctx: ISO code → weight). The score is log10(population) plus
// 2.5 times the share of context weight for the city's country, plus 1 for capitals; a city that
// neither has 100k people nor a country in context is rejected when minPop > 0 is not met.
func (g *Gazetteer) ResolveCity(name string, ctx map[string]float64, minPop int) (*City, bool) {
	cs := g.Cities(name)
	if len(cs) == 0 {
		return nil, false
	}
	total := 0.0
	for _, w := range ctx {
		total += w
	}
	var best *City
	bestScore := math.Inf(-1)
	for i, c := range cs {
		if i >= 50 {
			break
		}
		s := math.Log10(float64(c.Population) + 1)
		if total > 0 {
			s += 2.5 * ctx[c.Country] / total
		}
		if c.Feature == "PPLC" {
			s += 1
		}
		if s > bestScore {
			best, bestScore = c, s
		}
	}
	if best.Population < minPop && ctx[best.Country] == 0 {
		return nil, false
	}
	return best, true
}

// inflate returns the decompressed embedded file name.
func inflate(name string) ([]byte, error) {
	raw, err := readData(name)
	if err != nil {
		return nil, fmt.Errorf("geo: %s: %w", name, err)
	}
	zr, err := kgzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("geo: %s: %w", name, err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("geo: %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// maxLine bounds a data line, as bufio.Scanner's buffer did.
const maxLine = 1 << 22

// eachLine calls fn with the tab-separated fields of each line of the embedded file name, split
// as bufio.ScanLines and strings.Split would (a final "\r" dropped, a last line without "\n"
// kept). The fields are substrings of one copy of the file; fn must not keep the slice.
func eachLine(name string, fn func([]string) error) error {
	data, err := inflate(name)
	if err != nil {
		return err
	}
	return eachLineIn(name, data, fn)
}

// eachLineIn is eachLine over the decompressed data of file name.
func eachLineIn(name string, data []byte, fn func([]string) error) error {
	s := string(data)
	var f []string
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		if len(line) > maxLine {
			return fmt.Errorf("geo: %s: %w", name, bufio.ErrTooLong)
		}
		line = strings.TrimSuffix(line, "\r")
		f = f[:0]
		for {
			x, more, ok := strings.Cut(line, "\t")
			f = append(f, x)
			if !ok {
				break
			}
			line = more
		}
		if err := fn(f); err != nil {
			return fmt.Errorf("geo: %s: %w", name, err)
		}
	}
	return nil
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

func atof(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
func atoi(s string) int     { n, _ := strconv.Atoi(s); return n }
