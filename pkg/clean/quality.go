package clean

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrDegenerate: the extracted text is not natural-language text (a gzip bomb's "AAAA…", a
// single token repeated, mostly replacement characters or symbols, random script soup).
// Such documents are dead-lettered with the measurement that failed rather than indexed.
var ErrDegenerate = errors.New("degenerate text")

// Thresholds of the text-quality gate. They are deliberately far from anything measured on
// real pages (../shared/eval/extraction, ../shared/eval/multilingual and the feed texts of
// ../shared/eval/feeds; see README "Text-quality gate"): the gate is for junk, not for poor
// prose.
const (
	// qualityMaxRun: longest run of one identical non-space character.
	qualityMaxRun = 500
	// qualityMinRunes: the ratio checks below only apply to texts at least this long
	// (shorter texts are too small to judge, and ErrNoText handles empty ones).
	qualityMinRunes = 200
	// qualityMaxMeanWord: mean length in runes of space-separated words, for texts written
	// in space-separated scripts (CJK, Thai and similar scripts are exempt).
	qualityMaxMeanWord = 30.0
	// qualityMinLetterShare: letters and digits as a share of non-space characters.
	qualityMinLetterShare = 0.30
	// qualityMaxReplacement: U+FFFD replacement characters as a share of non-space
	// characters.
	qualityMaxReplacement = 0.05
	// qualityMaxTopToken: share of the commonest word among all words, for texts of at
	// least qualityMinWords words.
	qualityMaxTopToken = 0.5
	qualityMinWords    = 20
	// qualityMaxScripts: texts whose letters spread over more than this many script groups
	// at ≥ qualityScriptShare each are not natural (natural pages mix at most a local
	// script, Latin and occasionally one more, e.g. Hindi, English and Urdu).
	qualityMaxScripts  = 3
	qualityScriptShare = 0.10
	// qualityMaxMixedWords: share of words (in spaced scripts, at least qualityMinWords of
	// them) whose letters come from more than one script group, e.g. Latin and Cyrillic
	// inside one word.
	qualityMaxMixedWords = 0.5
)

// scriptGroups: scripts that natural text mixes freely count as one group (Japanese uses
// Han, Hiragana and Katakana together; Korean Hangul and Han).
var scriptGroups = scriptGroupsInit[:]

var scriptGroupsInit = [...]struct {
	name   string
	tables []*unicode.RangeTable
	spaced bool // written with spaces between words
}{
	{"Latin", []*unicode.RangeTable{unicode.Latin}, true},
	{"Cyrillic", []*unicode.RangeTable{unicode.Cyrillic}, true},
	{"Greek", []*unicode.RangeTable{unicode.Greek}, true},
	{"Arabic", []*unicode.RangeTable{unicode.Arabic}, true},
	{"Hebrew", []*unicode.RangeTable{unicode.Hebrew}, true},
	{"Armenian", []*unicode.RangeTable{unicode.Armenian}, true},
	{"Georgian", []*unicode.RangeTable{unicode.Georgian}, true},
	{"Indic", []*unicode.RangeTable{unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala}, true},
	{"Hangul", []*unicode.RangeTable{unicode.Hangul}, true},
	{"CJK", []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo}, false},
	{"Southeast Asian", []*unicode.RangeTable{unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan}, false},
}

// textStats are the measurements the gate decides on.
type textStats struct {
	runes, nonSpace, letters, digits, replacement int
	maxRun                                        int
	maxRunRune                                    rune
	words                                         int
	spacedWordRunes, spacedWords                  int // words made of spaced-script letters
	mixedWords                                    int // spaced words whose letters mix script groups
	topToken                                      string
	topTokenCount                                 int
	scripts                                       map[string]int // letters per script group
}

func scriptOf(r rune) (name string, spaced bool) {
	g := scriptGroupOf(r)
	if g == len(scriptGroups) {
		return "Other", true
	}
	return scriptGroups[g].name, scriptGroups[g].spaced
}

// scriptNames: the names of scriptGroups, then "Other".
var scriptNames = func() (n [len(scriptGroupsInit) + 1]string) {
	for i, g := range scriptGroupsInit {
		n[i] = g.name
	}
	n[len(scriptGroupsInit)] = "Other"
	return
}()

// scriptGroupOf returns the index in scriptGroups of r's group, len(scriptGroups) for Other.
func scriptGroupOf(r rune) int {
	if r < utf8.RuneSelf {
		return 0 // Latin
	}
	for i, g := range scriptGroups {
		for _, t := range g.tables {
			if unicode.Is(t, r) {
				return i
			}
		}
	}
	return len(scriptGroups)
}

func measureText(text string) textStats {
	s := textStats{scripts: map[string]int{}}
	// Letters per script group, counted in an array and put in s.scripts at the end (the
	// groups with letters only, as counting in the map did).
	var perGroup [len(scriptNames)]int
	var prev rune = -1
	run := 0
	for _, r := range text {
		s.runes++
		if unicode.IsSpace(r) {
			prev, run = -1, 0
			continue
		}
		s.nonSpace++
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if run > s.maxRun {
			s.maxRun, s.maxRunRune = run, r
		}
		switch {
		case r == utf8.RuneError:
			s.replacement++
		case unicode.IsLetter(r):
			s.letters++
			perGroup[scriptGroupOf(r)]++
		case unicode.IsDigit(r):
			s.digits++
		}
	}
	for g, n := range perGroup {
		if n > 0 {
			s.scripts[scriptNames[g]] = n
		}
	}
	// About one distinct word per 16 bytes of prose, and never more than the white space allows
	// (unspaced CJK text is a few "words": a hint of len/16 allocated a map for nothing).
	counts := make(map[string]int, min(len(text)/16, s.runes-s.nonSpace+1))
	for w := range strings.FieldsSeq(text) {
		s.words++
		// A word counts towards the mean word length only when all its letters are from
		// spaced scripts (a CJK sentence is one "word").
		n, spaced, first, mixed := 0, true, "", false
		for _, r := range w {
			n++
			if unicode.IsLetter(r) {
				name, sp := scriptOf(r)
				if !sp {
					spaced = false
				}
				if first == "" {
					first = name
				} else if name != first {
					mixed = true
				}
			}
		}
		// URLs, paths and leftover markup are not words of the language.
		if spaced && !strings.Contains(w, "://") && !strings.HasPrefix(w, "www.") && !strings.ContainsAny(w, "<>") {
			s.spacedWords++
			s.spacedWordRunes += n
			if mixed {
				s.mixedWords++
			}
		}
		k := strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		if k == "" {
			continue
		}
		counts[k]++
		if c := counts[k]; c > s.topTokenCount {
			s.topToken, s.topTokenCount = k, c
		}
	}
	return s
}

// degenerateReason returns why text is not natural-language text, or "" when it passes.
// replaced is the number of U+FFFD replacement characters normalisation removed from it.
func degenerateReason(text string, replaced int) string {
	s := measureText(text)
	s.replacement += replaced
	s.nonSpace += replaced
	if s.maxRun > qualityMaxRun {
		return fmt.Sprintf("run of %d × %q (limit %d)", s.maxRun, s.maxRunRune, qualityMaxRun)
	}
	if s.runes < qualityMinRunes || s.nonSpace == 0 {
		return ""
	}
	if share := float64(s.replacement) / float64(s.nonSpace); share > qualityMaxReplacement {
		return fmt.Sprintf("%.1f%% U+FFFD replacement characters (%d of %d; limit %.0f%%)", 100*share, s.replacement, s.nonSpace, 100*qualityMaxReplacement)
	}
	if share := float64(s.letters+s.digits) / float64(s.nonSpace); share < qualityMinLetterShare {
		return fmt.Sprintf("%.1f%% letters and digits (%d of %d non-space characters; minimum %.0f%%)", 100*share, s.letters+s.digits, s.nonSpace, 100*qualityMinLetterShare)
	}
	// Mean word length only where most words are in spaced scripts.
	if s.spacedWords > 0 && s.spacedWords*2 > s.words {
		if mean := float64(s.spacedWordRunes) / float64(s.spacedWords); mean > qualityMaxMeanWord {
			return fmt.Sprintf("mean word length %.1f characters over %d words (limit %.0f)", mean, s.spacedWords, qualityMaxMeanWord)
		}
	}
	if s.words >= qualityMinWords {
		if share := float64(s.topTokenCount) / float64(s.words); share > qualityMaxTopToken {
			return fmt.Sprintf("one token is %.0f%% of %d words: %q (limit %.0f%%)", 100*share, s.words, truncRunes(s.topToken, 40), 100*qualityMaxTopToken)
		}
	}
	if s.spacedWords >= qualityMinWords {
		if share := float64(s.mixedWords) / float64(s.spacedWords); share > qualityMaxMixedWords {
			return fmt.Sprintf("%.0f%% of %d words mix letters of different scripts (limit %.0f%%)", 100*share, s.spacedWords, 100*qualityMaxMixedWords)
		}
	}
	if s.letters > 0 {
		var big []string
		for name, n := range s.scripts {
			if float64(n) >= qualityScriptShare*float64(s.letters) {
				big = append(big, name)
			}
		}
		if len(big) > qualityMaxScripts {
			sort.Strings(big)
			return fmt.Sprintf("letters from %d scripts at ≥ %.0f%% each: %s (limit %d)", len(big), 100*qualityScriptShare, strings.Join(big, ", "), qualityMaxScripts)
		}
	}
	return ""
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
