package clean

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/RadhiFadlillah/whatlanggo"
)

// langSet detects languages restricted to a configured set.
//
// whatlanggo (trigram profiles, already a dependency of go-trafilatura) is used rather than
// lingua-go. Measured here (BenchmarkLanguage, seed article, 16 languages): whatlanggo 0.31 ms
// and 90 KB per document; lingua-go 15.6 ms and 3.6 MB per document, plus 194 MB of heap for
// its models. On article-length texts both are near-perfect; lingua's edge is on short
// strings, which the cleaner does not classify.
type langSet struct {
	opts  whatlanggo.Options
	codes map[string]bool
}

func langWhitelist(codes []string) (langSet, error) {
	ls := langSet{codes: map[string]bool{}}
	if len(codes) == 0 {
		return ls, nil
	}
	byCode := map[string]whatlanggo.Lang{}
	for l := range whatlanggo.Langs {
		if c := l.Iso6391(); c != "" {
			byCode[c] = l
		}
	}
	ls.opts.Whitelist = map[whatlanggo.Lang]bool{}
	for _, c := range codes {
		c = strings.ToLower(strings.TrimSpace(c))
		l, ok := byCode[c]
		if !ok {
			return ls, fmt.Errorf("clean: language %q is not an ISO 639-1 code whatlanggo supports", c)
		}
		ls.opts.Whitelist[l] = true
		ls.codes[c] = true
	}
	return ls, nil
}

// declaration is a language a feed, page or source declares, with where it was declared.
type declaration struct{ lang, source string }

// confidentDetection: at or above this whatlanggo confidence the text decides, whatever is
// declared. Below it a declaration the detector rates plausible wins.
const confidentDetection = 0.5

// plausibleMargin: a declared language is plausible when, run against only the detected
// language, the detector prefers the declared one or prefers the detected one with a
// confidence below this (the two are close on this text). A language of another script, or
// one the detector clearly rules out, is not plausible.
const plausibleMargin = 0.5

// normLang reduces a declaration ("en-US", "IT-it", "pt_BR", "en, fr") to its ISO 639-1 code.
func normLang(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.IndexAny(h, ",; "); i >= 0 {
		h = h[:i]
	}
	if i := strings.IndexAny(h, "-_"); i > 0 {
		h = h[:i]
	}
	if len(h) != 2 {
		return ""
	}
	return h
}

// detect returns the ISO 639-1 language of text, a confidence in [0,1] and what decided it
// (article.Clean.LanguageSource). Only the first 2,000 runes are examined.
//
//   - a confident detection (>= confidentDetection) wins: source "detected";
//   - otherwise the first declaration (in the order given) that is in the configured set and
//     that the detector rates plausible for this text wins, with confidence 0.5 (or the
//     detection's when higher): source = the declaration's;
//   - otherwise a detection: "detected"; below functionWordsMax the configured language whose
//     function words the text uses most, when that is another one; with no detection at all (an
//     unknown script, no letters) the first declaration in the set, unchecked, at 0.5.
func (ls langSet) detect(text string, decls ...declaration) (string, float64, string) {
	sample := text
	if n := 0; len(sample) > 0 {
		for i := range sample {
			if n == 2000 {
				sample = sample[:i]
				break
			}
			n++
		}
	}
	// One analysis of the sample serves the detection and every plausibility check below
	// (whatlanggo.DetectWithOptions with their whitelists, computed as it does: langdetect.go).
	scores := analyzeLang(sample)
	info := scores.info(ls.opts.Whitelist)
	code := langIso6391(info.Lang)
	if code != "" && !ls.allowed(code) {
		code = ""
	}
	if code != "" && info.Confidence >= confidentDetection {
		return code, round2(info.Confidence), "detected"
	}
	for _, d := range decls {
		h := normLang(d.lang)
		if h == "" || !ls.allowed(h) {
			continue
		}
		ok := h == code || (code != "" && plausible(scores, h, info.Lang)) ||
			(code == "" && (info.Script == nil || plausible(scores, h, -1)))
		if !ok {
			continue
		}
		conf := 0.5
		if h == code && info.Confidence > conf {
			conf = round2(info.Confidence)
		}
		return h, conf, d.source
	}
	if code != "" {
		if info.Confidence < functionWordsMax {
			// A weak trigram guess on a short text ("Atom-Powered Robots Run Amok. Some
			// text." read as French at 0.09): the language whose function words the text
			// uses decides, with their share of the words as confidence.
			if fw, share := ls.functionWords(sample); fw != "" && fw != code {
				return fw, round2(share), "detected"
			}
		}
		return code, round2(info.Confidence), "detected"
	}
	return "", 0, ""
}

// functionWordsMax: the trigram detection is checked against function words only below
// this confidence (short texts; on article-length text trigrams are reliable).
const functionWordsMax = 0.25

// functionWords returns the configured language whose function words (functionWordLists)
// occur most often among the words of sample, and their share of the words; "" when no
// language leads (none found, or a tie).
func (ls langSet) functionWords(sample string) (string, float64) {
	words := strings.FieldsFunc(strings.ToLower(sample), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(words) == 0 {
		return "", 0
	}
	best, bestN, tie := "", 0, false
	for lang, list := range functionWordLists {
		if !ls.allowed(lang) {
			continue
		}
		n := 0
		for _, w := range words {
			if list[w] {
				n++
			}
		}
		switch {
		case n > bestN:
			best, bestN, tie = lang, n, false
		case n == bestN && n > 0:
			tie = true
		}
	}
	if best == "" || tie {
		return "", 0
	}
	return best, float64(bestN) / float64(len(words))
}

// functionWordLists: the most frequent function words (articles, pronouns, prepositions,
// conjunctions, auxiliaries) of the Latin-script languages of the default language set, with
// the words two of them share left out.
var functionWordLists = func() map[string]map[string]bool {
	raw := map[string]string{
		"en": "the of and to in is was for on that with as by at from it this are be or an have has not but which were been their they some his her its there would will can into than then these those what who when where how our we you your about after",
		"fr": "le la les des du un une et est dans pour que qui sur au aux avec ce cette ces pas par plus ont sont mais ou il elle ils nous vous leur été être avoir fait comme",
		"de": "der die das und ist den dem des ein eine einer eines nicht mit sich auf für von zu im auch als wie bei nach noch wird werden sind hat haben wir ihr sie oder aber dass",
		"it": "il lo gli della delle degli dei del che di da una uno nel nella sono per con non più come anche questo questa alla alle ha hanno essere è sul sulla tra",
		"es": "el los las del que y en un una por con para es al lo como más pero sus le ya o este esta son entre cuando muy sin sobre también",
		"pt": "o os as do da dos das que e em um uma para com não por mais como mas foi ao à seu sua ou quando muito nos já está também são pelo pela",
		"nl": "de het een van en in is dat op te zijn met voor niet aan er ook als bij door maar om dan zo nog wel naar uit deze dit wordt",
		"sv": "och att det som en på är av för med till den har de inte om ett men var sig så från vid eller kan när efter",
		"pl": "i w na z się nie do że to jest o jak ale od po co tak za przez dla jego jej są był była było może już",
		"tr": "ve bir bu da de için ile olarak daha çok gibi kadar olan sonra ama ya her en mi ne",
	}
	count := map[string]int{}
	for _, ws := range raw {
		for _, w := range strings.Fields(ws) {
			count[w]++
		}
	}
	out := map[string]map[string]bool{}
	for lang, ws := range raw {
		out[lang] = map[string]bool{}
		for _, w := range strings.Fields(ws) {
			if count[w] == 1 {
				out[lang][w] = true
			}
		}
	}
	return out
}()

func (ls langSet) allowed(code string) bool { return len(ls.codes) == 0 || ls.codes[code] }

// plausible reports whether declared is a reasonable reading of the sample (scores: its
// analysis) next to the detected language (-1: none): same script, and not clearly beaten by
// the detected language.
func plausible(scores langScores, declared string, detected whatlanggo.Lang) bool {
	dl, ok := byIso6391[declared]
	if !ok {
		return false
	}
	wl := map[whatlanggo.Lang]bool{dl: true}
	if detected >= 0 {
		wl[detected] = true
	}
	info := scores.info(wl)
	if info.Lang == dl {
		return true
	}
	return info.Lang == detected && detected >= 0 && info.Confidence < plausibleMargin
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
