package ner

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Gazetteer categories (bit positions in a Gazetteer mask).
const (
	GazFirst       = iota // common forename
	GazSurname            // common surname
	GazSurnameRare        // rare surname (census rank > 5000)
	GazCountry            // country name or alternate spelling
	GazDemonym            // nationality adjective ("Ukrainian")
	GazCityBig            // city with >= 500k people
	GazCity               // city with >= 15k people
	GazRegion             // first-level administrative region
	GazCompany            // full company name
	GazCompanyStem        // company name without legal suffix
	GazFirstRare          // rarer forename
	GazLocOther           // continents and large regions
	GazOrgKey             // organisation keyword ("University", "Council", "FC")
	GazLocKey             // place keyword ("River", "Street", "County")
	GazPerTitle           // person title or role ("Mr", "President")
	numGaz
)

const gazPrefix = 1 << 15 // phrase is a proper prefix of a longer entry

// gazMaxLen is the longest phrase (in tokens) stored in a gazetteer.
const gazMaxLen = 6

// Gazetteer maps lower-cased token sequences (by hash) to category masks.
// It is immutable after construction and safe for concurrent reads.
type Gazetteer struct {
	m map[uint64]uint16
}

// NewGazetteer returns an empty gazetteer.
func NewGazetteer() *Gazetteer { return &Gazetteer{m: map[uint64]uint16{}} }

// Len returns the number of stored keys (phrases and prefixes).
func (g *Gazetteer) Len() int { return len(g.m) }

// Add inserts phrase under category cat. The phrase is tokenised with Tokenize.
func (g *Gazetteer) Add(phrase string, cat int) {
	toks := Tokenize(phrase)
	if len(toks) == 0 || len(toks) > gazMaxLen {
		return
	}
	h := uint64(gazSeed)
	for i, t := range toks {
		h = gazStep(h, lowerASCIIFast(t.Text))
		if i < len(toks)-1 {
			g.m[h] |= gazPrefix
		}
	}
	g.m[h] |= 1 << cat
}

const gazSeed = 14695981039346656037

func gazStep(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= 0xff // token separator
	h *= 1099511628211
	return h
}

// match fills b/i/l/u masks for the lower-cased tokens lw.
func (g *Gazetteer) match(lw []string, bm, im, lm, um []uint16) {
	for i := range lw {
		bm[i], im[i], lm[i], um[i] = 0, 0, 0, 0
	}
	if g == nil || len(g.m) == 0 {
		return
	}
	for i := range lw {
		h := uint64(gazSeed)
		for k := i; k < len(lw) && k-i < gazMaxLen; k++ {
			h = gazStep(h, lw[k])
			v, ok := g.m[h]
			if !ok {
				break
			}
			cats := v &^ gazPrefix
			if cats != 0 {
				if k == i {
					um[i] |= cats
				} else {
					bm[i] |= cats
					lm[k] |= cats
					for j := i + 1; j < k; j++ {
						im[j] |= cats
					}
				}
			}
			if v&gazPrefix == 0 {
				break
			}
		}
	}
}

// lookupWords returns the category mask of the phrase of lower-cased
// tokens lw (0 if absent).
func (g *Gazetteer) lookupWords(lw []string) uint16 {
	if g == nil || len(g.m) == 0 {
		return 0
	}
	h := uint64(gazSeed)
	for _, w := range lw {
		h = gazStep(h, w)
	}
	return g.m[h] &^ gazPrefix
}

// Lookup returns the category mask of a phrase (0 if absent).
func (g *Gazetteer) Lookup(phrase string) uint16 {
	toks := Tokenize(phrase)
	h := uint64(gazSeed)
	for _, t := range toks {
		h = gazStep(h, lowerASCIIFast(t.Text))
	}
	return g.m[h] &^ gazPrefix
}

// CompileGazetteer builds the gazetteer from the files in dir (the
// shared/ml/gazetteers directory). Missing files are skipped and reported
// in the returned list of notes.
func CompileGazetteer(dir string) (*Gazetteer, []string, error) {
	g := NewGazetteer()
	var notes []string
	note := noter(&notes)
	// Census first names and surnames: "NAME freq cumfreq rank".
	for _, f := range []struct {
		file       string
		cat, rare  int
		commonRank int
	}{
		{"census1990_dist.male.first", GazFirst, GazFirstRare, 1500},
		{"census1990_dist.female.first", GazFirst, GazFirstRare, 2500},
		{"census1990_dist.all.last", GazSurname, GazSurnameRare, 5000},
	} {
		n, err := eachLine(filepath.Join(dir, f.file), func(line string) {
			c := strings.Fields(line)
			if len(c) < 4 {
				return
			}
			rank, _ := strconv.Atoi(c[3])
			cat := f.cat
			if rank > f.commonRank {
				cat = f.rare
			}
			g.Add(c[0], cat)
		})
		note(f.file, n, err)
	}
	// sigpwned forenames / surnames by country.
	for _, f := range []struct {
		file string
		cat  int
	}{{"sigpwned_common-forenames-by-country.csv", GazFirst}, {"sigpwned_common-surnames-by-country.csv", GazSurname}} {
		n, err := eachCSV(filepath.Join(dir, f.file), func(h map[string]int, rec []string) {
			for _, col := range []string{"Localized Name", "Romanized Name"} {
				if i, ok := h[col]; ok && i < len(rec) && rec[i] != "" {
					g.Add(rec[i], f.cat)
				}
			}
		})
		note(f.file, n, err)
	}
	// countries.json
	if b, err := os.ReadFile(filepath.Join(dir, "countries.json")); err == nil {
		var cs []struct {
			Name struct {
				Common, Official string
				Native           map[string]struct{ Official, Common string }
			}
			AltSpellings []string
			Capital      []string
			Demonyms     map[string]struct{ F, M string }
		}
		if err := json.Unmarshal(b, &cs); err != nil {
			note("countries.json", 0, err)
		} else {
			for _, c := range cs {
				g.Add(c.Name.Common, GazCountry)
				g.Add(c.Name.Official, GazCountry)
				for _, n := range c.Name.Native {
					g.Add(n.Common, GazCountry)
				}
				for _, a := range c.AltSpellings {
					if len(a) > 3 { // skip ISO codes like "UA"
						g.Add(a, GazCountry)
					}
				}
				for _, a := range c.Capital {
					g.Add(a, GazCityBig)
				}
				for _, d := range c.Demonyms {
					g.Add(d.F, GazDemonym)
					g.Add(d.M, GazDemonym)
				}
			}
			note("countries.json", len(cs), nil)
		}
	} else {
		note("countries.json", 0, err)
	}
	// countryInfo.tsv: ISO, ISO3, num, fips, Country, Capital, ...
	n, err := eachLine(filepath.Join(dir, "countryInfo.tsv"), func(line string) {
		if strings.HasPrefix(line, "#") {
			return
		}
		c := strings.Split(line, "\t")
		if len(c) > 5 {
			g.Add(c[4], GazCountry)
			g.Add(c[5], GazCityBig)
		}
	})
	note("countryInfo.tsv", n, err)
	n, err = eachLine(filepath.Join(dir, "regionInfo.tsv"), func(line string) {
		if strings.HasPrefix(line, "#") {
			return
		}
		c := strings.Split(line, "\t")
		if len(c) > 2 {
			g.Add(c[1], GazRegion)
			g.Add(c[2], GazRegion)
		}
	})
	note("regionInfo.tsv", n, err)
	// cities15000: geonameid name asciiname alternatenames lat lon fclass fcode cc cc2 a1 a2 a3 a4 population ...
	n, err = eachCity(dir, func(c []string, cat, pop int) {
		g.Add(c[1], cat)
		g.Add(c[2], cat)
		if pop >= 1000000 {
			for _, a := range strings.Split(c[3], ",") {
				if len(a) >= 4 && isASCIITitle(a) {
					g.Add(a, cat)
				}
			}
		}
	})
	note("cities15000.txt", n, err)
	for _, s := range []string{"Europe", "Asia", "Africa", "North America", "South America", "Latin America",
		"Middle East", "Antarctica", "Oceania", "Australia", "Caribbean", "Balkans", "Scandinavia",
		"Pacific", "Atlantic", "Mediterranean", "Arctic", "Gulf", "Persian Gulf", "West Bank", "Gaza",
		"Gaza Strip", "Crimea", "Donbas", "Siberia", "Kashmir", "Sahara", "Himalayas", "Alps",
		"Central Asia", "East Asia", "Southeast Asia", "South Asia", "Eastern Europe", "Western Europe",
		"Midwest", "New England", "Silicon Valley", "Wall Street"} {
		g.Add(s, GazLocOther)
	}
	// SEC company names.
	if b, err := os.ReadFile(filepath.Join(dir, "sec_company_tickers.json")); err == nil {
		var m map[string]struct {
			Title string `json:"title"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			note("sec_company_tickers.json", 0, err)
		} else {
			for _, c := range m {
				g.Add(c.Title, GazCompany)
				if st := companyStem(c.Title); st != "" && st != c.Title {
					g.Add(st, GazCompanyStem)
				}
			}
			note("sec_company_tickers.json", len(m), nil)
		}
	} else {
		note("sec_company_tickers.json", 0, err)
	}
	return g, notes, nil
}

var legalSuffix = map[string]bool{
	"inc": true, "inc.": true, "corp": true, "corp.": true, "co": true, "co.": true, "ltd": true, "ltd.": true,
	"plc": true, "llc": true, "lp": true, "l.p.": true, "sa": true, "s.a.": true, "ag": true, "nv": true,
	"n.v.": true, "se": true, "group": true, "holdings": true, "holding": true, "corporation": true,
	"company": true, "limited": true, "incorporated": true, "trust": true, "/de/": true, "de": true,
	"/de": true, "the": true, "&": true, "/": true, ",": true, "ltd/": true, "international": true,
}

// companyStem strips legal suffixes: "Apple Inc." -> "Apple".
func companyStem(title string) string {
	f := strings.Fields(title)
	for len(f) > 1 && legalSuffix[strings.ToLower(strings.Trim(f[len(f)-1], ","))] {
		f = f[:len(f)-1]
	}
	if len(f) > 0 {
		f[len(f)-1] = strings.TrimRight(f[len(f)-1], ",")
	}
	s := strings.Join(f, " ")
	if len(s) < 3 {
		return ""
	}
	return s
}

func isASCIITitle(s string) bool {
	if s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func eachLine(path string, fn func(string)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		fn(sc.Text())
		n++
	}
	return n, sc.Err()
}

// noter returns a function that appends "file: n entries" or "file: error"
// to notes.
func noter(notes *[]string) func(f string, n int, err error) {
	return func(f string, n int, err error) {
		if err != nil {
			*notes = append(*notes, fmt.Sprintf("%s: %v", f, err))
		} else {
			*notes = append(*notes, fmt.Sprintf("%s: %d entries", f, n))
		}
	}
}

// eachCity calls fn with the columns of each line of dir/cities15000.txt
// (geonameid name asciiname alternatenames ... population at 14), its
// category (GazCityBig from 500k people, else GazCity) and population.
func eachCity(dir string, fn func(c []string, cat, pop int)) (int, error) {
	return eachLine(filepath.Join(dir, "cities15000.txt"), func(line string) {
		c := strings.Split(line, "\t")
		if len(c) < 15 {
			return
		}
		pop, _ := strconv.Atoi(c[14])
		cat := GazCity
		if pop >= 500000 {
			cat = GazCityBig
		}
		fn(c, cat, pop)
	})
}

func eachCSV(path string, fn func(map[string]int, []string)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	head, err := r.Read()
	if err != nil {
		return 0, err
	}
	h := map[string]int{}
	for i, c := range head {
		h[strings.TrimPrefix(c, "\ufeff")] = i
	}
	n := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		fn(h, rec)
		n++
	}
	return n, nil
}

// AddKeywords adds the English organisation/place keywords and person
// titles (categories GazOrgKey, GazLocKey, GazPerTitle). CompileGazetteer
// leaves them out: they help the English model and hurt the multi model.
func (g *Gazetteer) AddKeywords() {
	for _, w := range orgKeywords {
		g.Add(w, GazOrgKey)
	}
	for _, w := range locKeywords {
		g.Add(w, GazLocKey)
	}
	for _, w := range perTitles {
		g.Add(w, GazPerTitle)
	}
}

// genericTail are trailing words of company names that the short form
// in running text usually drops ("Toyota Motor Corp" -> "Toyota").
var genericTail = map[string]bool{
	"motor": true, "motors": true, "worldwide": true, "hotels": true, "resorts": true, "brands": true,
	"industries": true, "technologies": true, "technology": true, "systems": true, "communications": true,
	"financial": true, "bancorp": true, "bancshares": true, "pharmaceuticals": true, "therapeutics": true,
	"energy": true, "partners": true, "capital": true, "enterprises": true, "global": true,
	"entertainment": true, "networks": true, "software": true, "solutions": true, "labs": true,
	"laboratories": true, "airlines": true, "foods": true, "products": true, "services": true,
	"resources": true, "petroleum": true, "stores": true, "restaurants": true, "media": true,
	"semiconductor": true, "electric": true, "chemical": true, "automotive": true, "platforms": true,
	"interactive": true, "biosciences": true, "pharma": true, "bank": false,
}

// AddCompanyStems adds short forms of the SEC company names in dir under
// GazCompanyStem: legal suffixes and generic trailing words stripped
// ("Walmart Inc." -> "Walmart", "Toyota Motor Corp" -> "Toyota"), a leading
// "The" dropped. Single-word short forms for which common reports true
// (ordinary words, e.g. seen lower-cased in running text) are skipped.
// It returns the number of short forms added.
func (g *Gazetteer) AddCompanyStems(dir string, common func(string) bool) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sec_company_tickers.json"))
	if err != nil {
		return 0, err
	}
	var m map[string]struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, fmt.Errorf("ner: sec_company_tickers.json: %w", err)
	}
	n := 0
	for _, c := range m {
		f := strings.Fields(strings.ReplaceAll(c.Title, ",", " "))
		if len(f) > 0 && strings.EqualFold(f[0], "the") {
			f = f[1:]
		}
		for len(f) > 1 {
			l := strings.ToLower(f[len(f)-1])
			if !legalSuffix[l] && !genericTail[l] && !strings.HasPrefix(l, "/") {
				break
			}
			f = f[:len(f)-1]
		}
		if len(f) == 0 {
			continue
		}
		st := strings.Join(f, " ")
		if len(st) < 3 || (len(f) == 1 && common != nil && common(strings.ToLower(st))) {
			continue
		}
		if g.Lookup(st)&(1<<GazCompanyStem|1<<GazCompany) == 0 {
			n++
		}
		g.Add(st, GazCompanyStem)
	}
	return n, nil
}

// Keyword lists for the GazOrgKey, GazLocKey and GazPerTitle categories:
// single words that mark the head (or start) of an organisation or place
// name, or precede a person's name. Hand-written, general English.
var (
	orgKeywords = strings.Fields(`university college school academy institute institution council committee
commission party ministry department agency association federation union league club fc afc cf
bank bancorp bankcorp corporation corp inc incorporated ltd limited llc plc co company companies group holdings
foundation fund trust society organization organisation board bureau office authority service services
court parliament senate congress assembly government administration army navy force forces police
church hospital museum library orchestra band choir team airlines airways airline railway railways
news times post journal herald tribune gazette magazine press network radio tv television channel studios
records entertainment pictures media systems technologies technology software solutions industries
international partners associates laboratories labs motors pharmaceuticals energy capital securities
insurance bancshares brewing foods restaurant restaurants cafe hotel hotels store stores center centre
clinic unit division center institute coalition alliance movement front brigade regiment corps
nations un nato eu fbi cia nasa bbc cnn`)
	locKeywords = strings.Fields(`river lake mountain mountains mount mt island islands isles bay gulf sea ocean
coast valley street st. avenue ave road rd boulevard blvd lane drive highway square park county province
state region district city town village peninsula desert forest canyon falls beach harbor harbour port
airport station bridge hill hills heights strait channel basin plateau republic kingdom territory
prefecture oblast governorate municipality borough township`)
	perTitles = strings.Fields(`mr mr. mrs mrs. ms ms. dr dr. prof prof. sir lady lord president vice
minister premier chancellor senator sen. rep. representative governor gov. mayor king queen prince
princess pope bishop archbishop rev. reverend father saint general gen. colonel col. captain capt.
lieutenant lt. sergeant sgt. judge justice secretary ambassador chairman chairwoman chief ceo director
spokesman spokeswoman spokesperson coach manager actor actress singer dj uncle aunt brother sister
mother wife husband son daughter cousin`)
)
