package clean

import (
	"math"
	"sort"
	"sync"
	"unicode"
	"unicode/utf8"
	_ "unsafe" // go:linkname

	"github.com/RadhiFadlillah/whatlanggo"
)

// This file is whatlanggo.DetectWithOptions (v0.0.0-20240916001553-aac1f0f737fc) computed
// another way, with the same results: the script count, the trigram stream, the distances
// and the confidence formula are whatlanggo's, step for step, but
//
//   - the text is read once into rune-triple keys (uint64) instead of a map of strings with
//     one []rune and one string allocated per trigram;
//   - the profiles are indexed once by trigram, so only the trigrams the text has are looked
//     up (whatlanggo looks up 300 profile trigrams per candidate language);
//   - the distances of every language of the script are kept (langScores), so the second and
//     third detections detect and plausible run on the same sample (other whitelists) cost
//     no second pass over the text;
//   - ASCII runes skip the unicode table searches (their class is precomputed with the same
//     functions).
//
// The one difference: where two languages have exactly the same distance, whatlanggo orders
// them by Go's random map iteration (so its answer varies from run to run); here the lower
// whatlanggo.Lang comes first. TestFastDetectMatchesWhatlanggo compares the two on every
// shared eval document and FuzzFastDetect on arbitrary text.
//
// The trigram profiles are whatlanggo's own, read through go:linkname so they cannot drift
// from the library the module requires (a rename there fails the link, not silently).

//go:linkname wlLatinLangs github.com/RadhiFadlillah/whatlanggo.latinLangs
var wlLatinLangs map[whatlanggo.Lang][]string

//go:linkname wlCyrillicLangs github.com/RadhiFadlillah/whatlanggo.cyrillicLangs
var wlCyrillicLangs map[whatlanggo.Lang][]string

//go:linkname wlArabicLangs github.com/RadhiFadlillah/whatlanggo.arabicLangs
var wlArabicLangs map[whatlanggo.Lang][]string

//go:linkname wlDevanagariLangs github.com/RadhiFadlillah/whatlanggo.devanagariLangs
var wlDevanagariLangs map[whatlanggo.Lang][]string

//go:linkname wlHebrewLangs github.com/RadhiFadlillah/whatlanggo.hebrewLangs
var wlHebrewLangs map[whatlanggo.Lang][]string

//go:linkname wlEthiopicLangs github.com/RadhiFadlillah/whatlanggo.ethiopicLangs
var wlEthiopicLangs map[whatlanggo.Lang][]string

// maxTrigramDistance is whatlanggo's.
const maxTrigramDistance = 300

// hiraganaKatakana is built as whatlanggo's _HiraganaKatakana (R16 and R32 appended, with
// the unsorted R32 that unicode.Is then reads as whatlanggo does).
var hiraganaKatakana = &unicode.RangeTable{
	R16: append(append([]unicode.Range16{}, unicode.Hiragana.R16...), unicode.Katakana.R16...),
	R32: append(append([]unicode.Range32{}, unicode.Hiragana.R32...), unicode.Katakana.R32...),
}

// scriptTables is whatlanggo's DetectScript counter list, in its initial order.
var scriptTables = [...]*unicode.RangeTable{
	unicode.Latin, unicode.Cyrillic, unicode.Arabic, unicode.Devanagari, hiraganaKatakana,
	unicode.Ethiopic, unicode.Hebrew, unicode.Bengali, unicode.Georgian, unicode.Han,
	unicode.Hangul, unicode.Greek, unicode.Kannada, unicode.Tamil, unicode.Thai,
	unicode.Gujarati, unicode.Gurmukhi, unicode.Telugu, unicode.Malayalam, unicode.Oriya,
	unicode.Myanmar, unicode.Sinhala, unicode.Khmer,
}

const (
	scriptLatin = iota
	scriptCyrillic
	scriptArabic
	scriptDevanagari
	scriptHiraganaKatakana
	scriptEthiopic
	scriptHebrew
	scriptBengali
	scriptGeorgian
	scriptHan
	scriptHangul
	scriptGreek
	scriptKannada
	scriptTamil
	scriptThai
	scriptGujarati
	scriptGurmukhi
	scriptTelugu
	scriptMalayalam
	scriptOriya
	scriptMyanmar
	scriptSinhala
	scriptKhmer
	numScripts
)

// wlScriptTable is the *unicode.RangeTable whatlanggo's Info.Script carries for a script.
func wlScriptTable(s int) *unicode.RangeTable {
	if s == scriptHiraganaKatakana {
		// whatlanggo returns its own _HiraganaKatakana; callers here only test Script for nil.
		return hiraganaKatakana
	}
	return scriptTables[s]
}

// singleLang: the scripts whatlanggo maps to one language at confidence 1.
var singleLang = map[int]whatlanggo.Lang{
	scriptHan: whatlanggo.Cmn, scriptBengali: whatlanggo.Ben, scriptHangul: whatlanggo.Kor,
	scriptGeorgian: whatlanggo.Kat, scriptGreek: whatlanggo.Ell, scriptKannada: whatlanggo.Kan,
	scriptTamil: whatlanggo.Tam, scriptThai: whatlanggo.Tha, scriptGujarati: whatlanggo.Guj,
	scriptGurmukhi: whatlanggo.Pan, scriptTelugu: whatlanggo.Tel, scriptMalayalam: whatlanggo.Mal,
	scriptOriya: whatlanggo.Ori, scriptMyanmar: whatlanggo.Mya, scriptSinhala: whatlanggo.Sin,
	scriptKhmer: whatlanggo.Khm, scriptHiraganaKatakana: whatlanggo.Jpn,
}

// wlIsStopChar is whatlanggo's isStopChar.
func wlIsStopChar(r rune) bool {
	return unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsDigit(r)
}

// asciiClass: for each ASCII rune, -2 a stop char (skipped by DetectScript), -1 no script,
// else its script. asciiTrigram: the rune whatlanggo's count puts in the trigram stream.
var asciiClass, asciiTrigram = func() (cl [utf8.RuneSelf]int8, tr [utf8.RuneSelf]rune) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		cl[r] = -1
		if wlIsStopChar(r) {
			cl[r] = -2
		} else {
			for s, t := range scriptTables {
				if unicode.Is(t, r) {
					cl[r] = int8(s)
				}
			}
		}
		tr[r] = r
		if wlIsStopChar(r) {
			tr[r] = ' '
		}
		tr[r] = unicode.ToLower(tr[r])
	}
	return
}()

// detectScript is whatlanggo.DetectScript, returning the script index or -1 (nil).
func detectScript(text string) int {
	halfLen := len(text) / 2
	var order [numScripts]int8 // whatlanggo's counter list, reordered as it reorders it
	var count [numScripts]int
	for i := range order {
		order[i] = int8(i)
	}
	hit := func(i int) bool { // counter at position i matched
		s := order[i]
		count[s]++
		if count[s] > halfLen {
			return true
		}
		if i > 0 {
			order[i], order[i-1] = order[i-1], order[i]
		}
		return false
	}
	for _, ch := range text {
		if ch < utf8.RuneSelf {
			s := asciiClass[ch]
			if s < 0 {
				continue
			}
			i := 0
			for order[i] != s {
				i++
			}
			if hit(i) {
				return int(s)
			}
			continue
		}
		if wlIsStopChar(ch) {
			continue
		}
		// As whatlanggo: every counter is tested (Unicode scripts are disjoint, so at most
		// one matches), in the current order.
		for i := 0; i < numScripts; i++ {
			if unicode.Is(scriptTables[order[i]], ch) {
				s := order[i]
				if hit(i) {
					return int(s)
				}
			}
		}
	}
	jpCount, max, maxScript := 0, 0, -1
	for _, s := range order {
		if count[s] > max {
			max = count[s]
			maxScript = int(s)
			if s == scriptHiraganaKatakana {
				jpCount = max
			}
		}
	}
	switch {
	case max == 0:
		return -1
	case maxScript == scriptHan && jpCount > 0:
		return scriptHiraganaKatakana
	default:
		return maxScript
	}
}

// profileIndex is one script's trigram profiles indexed by trigram.
type profileIndex struct {
	langs    []whatlanggo.Lang // ascending
	tri      map[uint64]int32  // trigram key -> index into start
	start    []int32           // postings of trigram t: post[start[t]:start[t+1]]
	post     []posting
	nonEmpty bool
}

type posting struct {
	lang   uint8 // index into langs
	weight int32 // maxTrigramDistance - rank
}

func triKey(r1, r2, r3 rune) uint64 { return uint64(r1)<<42 | uint64(r2)<<21 | uint64(r3) }

func newProfileIndex(profiles map[whatlanggo.Lang][]string) *profileIndex {
	ix := &profileIndex{tri: map[uint64]int32{}}
	for l := range profiles {
		ix.langs = append(ix.langs, l)
	}
	sort.Slice(ix.langs, func(i, j int) bool { return ix.langs[i] < ix.langs[j] })
	byTri := map[uint64][]posting{}
	var keys []uint64
	for li, l := range ix.langs {
		for rank, s := range profiles[l] {
			// whatlanggo's text trigrams are always three valid runes: any other profile
			// entry never matches (but still takes its rank).
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) != 3 {
				continue
			}
			rs := []rune(s)
			k := triKey(rs[0], rs[1], rs[2])
			if _, ok := byTri[k]; !ok {
				keys = append(keys, k)
			}
			byTri[k] = append(byTri[k], posting{uint8(li), int32(maxTrigramDistance - rank)})
		}
	}
	for _, k := range keys {
		ix.tri[k] = int32(len(ix.start))
		ix.start = append(ix.start, int32(len(ix.post)))
		ix.post = append(ix.post, byTri[k]...)
	}
	ix.start = append(ix.start, int32(len(ix.post)))
	ix.nonEmpty = len(ix.langs) > 0
	return ix
}

var profileIndexes = sync.OnceValue(func() [numScripts]*profileIndex {
	var p [numScripts]*profileIndex
	p[scriptLatin] = newProfileIndex(wlLatinLangs)
	p[scriptCyrillic] = newProfileIndex(wlCyrillicLangs)
	p[scriptArabic] = newProfileIndex(wlArabicLangs)
	p[scriptDevanagari] = newProfileIndex(wlDevanagariLangs)
	p[scriptHebrew] = newProfileIndex(wlHebrewLangs)
	p[scriptEthiopic] = newProfileIndex(wlEthiopicLangs)
	return p
})

// langScores is one text's whatlanggo analysis: its script and, for a script with trigram
// profiles, every language's distance and matched-trigram count.
type langScores struct {
	script int // -1: none
	ix     *profileIndex
	dist   []int
	num    []int
}

// trigramCounts holds one text's count per profile trigram, generation-stamped so a reused
// one needs no clearing, and the trigrams seen.
type trigramCounts struct {
	gen   uint32
	stamp []uint32
	count []int32
	seen  []int32
}

var trigramCountsPool = sync.Pool{New: func() any { return &trigramCounts{} }}

// analyzeLang computes text's langScores.
func analyzeLang(text string) langScores {
	sc := langScores{script: detectScript(text)}
	if sc.script < 0 {
		return sc
	}
	ix := profileIndexes()[sc.script]
	if ix == nil {
		return sc
	}
	sc.ix = ix
	tc := trigramCountsPool.Get().(*trigramCounts)
	defer trigramCountsPool.Put(tc)
	if n := len(ix.start); len(tc.stamp) < n {
		tc.stamp, tc.count, tc.gen = make([]uint32, n), make([]int32, n), 0
	}
	tc.gen++
	if tc.gen == 0 { // wrapped: a stale stamp could equal the new generation
		clear(tc.stamp)
		tc.gen = 1
	}
	gen, seen := tc.gen, tc.seen[:0]
	// whatlanggo's count: runes lowered with stop chars as spaces, a space appended, the
	// first trigram starting with a space; a trigram whose middle is a space next to another
	// space is skipped. Only trigrams of some profile are counted (others add nothing).
	trig := func(r rune) rune {
		if r < utf8.RuneSelf {
			return asciiTrigram[r]
		}
		if wlIsStopChar(r) {
			r = ' '
		}
		return unicode.ToLower(r)
	}
	add := func(r1, r2, r3 rune) {
		if r2 == ' ' && (r1 == ' ' || r3 == ' ') {
			return
		}
		t, ok := ix.tri[triKey(r1, r2, r3)]
		if !ok {
			return
		}
		if tc.stamp[t] != gen {
			tc.stamp[t], tc.count[t] = gen, 0
			seen = append(seen, t)
		}
		tc.count[t]++
	}
	r1, r2 := rune(' '), rune(-1)
	for _, ch := range text {
		r3 := trig(ch)
		if r2 >= 0 {
			add(r1, r2, r3)
			r1 = r2
		}
		r2 = r3
	}
	if r2 >= 0 {
		add(r1, r2, ' ')
	}
	// whatlanggo's calculateDistance: per language, each profile trigram the text has adds
	// (300 - its rank) × its count and counts once.
	sc.dist = make([]int, len(ix.langs))
	sc.num = make([]int, len(ix.langs))
	for _, t := range seen {
		w := int(tc.count[t])
		for _, p := range ix.post[ix.start[t]:ix.start[t+1]] {
			sc.dist[p.lang] += int(p.weight) * w
			sc.num[p.lang]++
		}
	}
	tc.seen = seen
	return sc
}

// info is whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: wl}) from
// text's langScores (whatlanggo's whitelist semantics: an empty one allows every language,
// else a language is allowed when it is a key, whatever its value).
func (sc langScores) info(wl map[whatlanggo.Lang]bool) whatlanggo.Info {
	if sc.script < 0 {
		return whatlanggo.Info{Lang: -1}
	}
	info := whatlanggo.Info{Script: wlScriptTable(sc.script)}
	if sc.ix == nil {
		if l, ok := singleLang[sc.script]; ok {
			info.Lang, info.Confidence = l, 1
		} else {
			info.Lang = -1
		}
		return info
	}
	type langDistance struct {
		lang        whatlanggo.Lang
		dist        int
		numTrigrams int
	}
	var buf [64]langDistance
	ds := buf[:0]
	for i, l := range sc.ix.langs {
		if len(wl) != 0 {
			if _, ok := wl[l]; !ok {
				continue
			}
		}
		ds = append(ds, langDistance{l, sc.dist[i], sc.num[i]})
	}
	switch len(ds) {
	case 0:
		info.Lang = -1
		return info
	case 1:
		info.Lang, info.Confidence = ds[0].lang, 1
		return info
	}
	// whatlanggo's calculateConfidence.
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].dist > ds[j].dist })
	score1, score2 := ds[0].dist, ds[1].dist
	var confidence float64
	if score1 == 0 {
		info.Lang = -1
		return info
	} else if score2 == 0 {
		confidence = float64((score1) / 500.0) // integer division, as whatlanggo
		if confidence > 1.0 {
			confidence = 1.0
		}
		info.Lang, info.Confidence = ds[0].lang, confidence
		return info
	}
	rate := float64((score1 - score2)) / float64(score2)
	confidentRate := float64(12.0/float64(ds[0].numTrigrams)) + 0.05
	if rate > confidentRate {
		confidence = 1.0
	} else {
		confidence = rate / confidentRate
	}
	confidence = math.Round(confidence*100) / 100
	info.Lang, info.Confidence = ds[0].lang, confidence
	return info
}

// iso6391 is whatlanggo's Lang.Iso6391 (which builds a map on every call) from a table.
var iso6391 = func() map[whatlanggo.Lang]string {
	m := map[whatlanggo.Lang]string{}
	for l := range whatlanggo.Langs {
		m[l] = l.Iso6391()
	}
	return m
}()

// byIso6391 maps an ISO 639-1 code to whatlanggo's Lang. Codes are unique in whatlanggo
// except none; plausible's "first in map order" lookup is the same where they are.
var byIso6391 = func() map[string]whatlanggo.Lang {
	m := map[string]whatlanggo.Lang{}
	for l, c := range iso6391 {
		if c == "" {
			continue
		}
		if prev, ok := m[c]; !ok || l < prev {
			m[c] = l
		}
	}
	return m
}()

func langIso6391(l whatlanggo.Lang) string { return iso6391[l] }
