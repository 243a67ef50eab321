package clean

import (
	"fmt"
	"strings"

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
//   - otherwise a detection of any confidence: "detected"; with no detection at all (an
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
	info := whatlanggo.DetectWithOptions(sample, ls.opts)
	code := info.Lang.Iso6391()
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
		ok := h == code || (code != "" && plausible(sample, h, info.Lang)) ||
			(code == "" && (info.Script == nil || plausible(sample, h, -1)))
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
		return code, round2(info.Confidence), "detected"
	}
	return "", 0, ""
}

func (ls langSet) allowed(code string) bool { return len(ls.codes) == 0 || ls.codes[code] }

// plausible reports whether declared is a reasonable reading of sample next to the detected
// language (-1: none): same script, and not clearly beaten by the detected language.
func plausible(sample, declared string, detected whatlanggo.Lang) bool {
	var dl whatlanggo.Lang = -1
	for l := range whatlanggo.Langs {
		if l.Iso6391() == declared {
			dl = l
			break
		}
	}
	if dl < 0 {
		return false
	}
	wl := map[whatlanggo.Lang]bool{dl: true}
	if detected >= 0 {
		wl[detected] = true
	}
	info := whatlanggo.DetectWithOptions(sample, whatlanggo.Options{Whitelist: wl})
	if info.Lang == dl {
		return true
	}
	return info.Lang == detected && detected >= 0 && info.Confidence < plausibleMargin
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
