// Package dates finds date expressions in English news text ("Thursday", "January 10",
// "10 January 2022", "2021-12-29", "yesterday", "last year", "two weeks ago", "two weeks
// before …") and resolves them against a reference time (the article's publication date).
//
// It is a focused resolver rather than a general date parser (go-dateparser parses one date
// string; it does not find and anchor many expressions in running text) and uses only RE2
// regular expressions, so time is linear in the input. Find is pure and safe for concurrent use.
package dates

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsflow/newsflow/pkg/article"
)

const (
	monthRE   = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	weekdayRE = `(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)`
	numWordRE = `(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|several)`
	unitRE    = `(?:day|week|month|year|fortnight)s?`
)

var (
	reISO       = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	reMonthDay  = regexp.MustCompile(`(?i)\b(` + monthRE + `)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4})\b)?`)
	reDayMonth  = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(` + monthRE + `)\b\.?(?:,?\s+(\d{4})\b)?`)
	reMonthYear = regexp.MustCompile(`(?i)\b(?:in|since|until|by|of|early|late|mid-?|beginning of|end of|from)\s+(` + monthRE + `)\b(?:\s+(\d{4})\b)?`)
	reYear      = regexp.MustCompile(`(?i)\b(?:in|since|until|by|from|during)\s+((?:19|20)\d{2})\b`)
	reWeekday   = regexp.MustCompile(`(?i)\b(?:(last|next|this|on|by|until|since|from|for)\s+)?(` + weekdayRE + `)\b`)
	reRelWord   = regexp.MustCompile(`(?i)\b(today|yesterday|tomorrow|tonight|last night|(?:last|next|this|past|coming)\s+(?:week|month|year|weekend))\b`)
	reAgo       = regexp.MustCompile(`(?i)\b(` + numWordRE + `)\s+(` + unitRE + `)\s+(ago|before|earlier|later|after|from now)\b`)
	reInN       = regexp.MustCompile(`(?i)\bin\s+(` + numWordRE + `)\s+(` + unitRE + `)(?:'|’)?(?:\s+time)?\b`)
)

var monthIdx = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

var numWords = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a few": 3, "several": 3}

type span struct{ s, e int }

// Find returns the date expressions of text resolved against ref (any location; results are
// midnight dates in ref's location), in text order, without overlaps (longer and more
// specific expressions win). A zero ref yields no results.
func Find(text string, ref time.Time) []article.DateMention {
	if ref.IsZero() {
		return nil
	}
	loc := ref.Location()
	day := time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, loc)
	var out []article.DateMention
	var used []span
	chunks := chunk(text)
	free := func(s, e int) bool {
		for _, u := range used {
			if s < u.e && e > u.s {
				return false
			}
		}
		return true
	}
	add := func(s, e int, t time.Time) {
		if !free(s, e) || t.IsZero() {
			return
		}
		used = append(used, span{s, e})
		out = append(out, article.DateMention{Text: text[s:e], Resolved: t, Offset: s})
	}
	for _, m := range matches(reISO, text, chunks, bISO, fDigit, fDash, fISO) {
		y, _ := strconv.Atoi(text[m[2]:m[3]])
		mo, _ := strconv.Atoi(text[m[4]:m[5]])
		d, _ := strconv.Atoi(text[m[6]:m[7]])
		add(m[0], m[1], mkDate(y, mo, d, loc))
	}
	for _, m := range matches(reMonthDay, text, chunks, bMonthDay, fMonth, fDigit, fMonthNum) {
		if !capital(text[m[2]:m[3]]) || m[1] < len(text) && text[m[1]] >= '0' && text[m[1]] <= '9' {
			continue // "January 2022" is not January 20; glued text "January 10On" is fine
		}
		mo := month(text[m[2]:m[3]])
		d, _ := strconv.Atoi(text[m[4]:m[5]])
		y := 0
		if m[6] >= 0 {
			y, _ = strconv.Atoi(text[m[6]:m[7]])
		}
		add(m[0], m[1], dayInYear(day, y, mo, d))
	}
	for _, m := range matches(reDayMonth, text, chunks, bNone, fMonth, fDigit, fMonthWS) {
		if !capital(text[m[4]:m[5]]) {
			continue
		}
		d, _ := strconv.Atoi(text[m[2]:m[3]])
		mo := month(text[m[4]:m[5]])
		y := 0
		if m[6] >= 0 {
			y, _ = strconv.Atoi(text[m[6]:m[7]])
		}
		add(m[0], m[1], dayInYear(day, y, mo, d))
	}
	for _, m := range matches(reAgo, text, chunks, bNone, fUnit, fAgoCue, fAgoPair) {
		n := num(text[m[2]:m[3]])
		unit := strings.ToLower(text[m[4]:m[5]])
		dir := strings.ToLower(text[m[6]:m[7]])
		anchor := day
		sign := -1
		switch dir {
		case "later", "after", "from now":
			sign = 1
		}
		if dir == "before" || dir == "after" {
			// "two weeks before the talks on January 10": anchor on a date later in the sentence
			if a, ok := nextDate(text, m[1], day); ok {
				anchor = a
			}
		}
		add(m[0], m[1], shift(anchor, unit, sign*n))
	}
	for _, m := range matches(reInN, text, chunks, bNone, fUnit, fIn) {
		add(m[0], m[1], shift(day, strings.ToLower(text[m[4]:m[5]]), num(text[m[2]:m[3]])))
	}
	for _, m := range matches(reRelWord, text, chunks, bRel, fRel) {
		w := strings.Join(strings.Fields(strings.ToLower(text[m[2]:m[3]])), " ")
		var t time.Time
		switch w {
		case "today", "tonight":
			t = day
		case "yesterday", "last night":
			t = day.AddDate(0, 0, -1)
		case "tomorrow":
			t = day.AddDate(0, 0, 1)
		default:
			f := strings.Fields(w)
			n := 0
			switch f[0] {
			case "last", "past":
				n = -1
			case "next", "coming":
				n = 1
			}
			t = shift(day, f[1], n)
		}
		add(m[0], m[1], t)
	}
	for _, m := range matches(reMonthYear, text, chunks, bMonthYear, fMonth, fMonthCue, fMonthWS) {
		if !capital(text[m[2]:m[3]]) {
			continue
		}
		mo := month(text[m[2]:m[3]])
		y := 0
		if m[4] >= 0 {
			y, _ = strconv.Atoi(text[m[4]:m[5]])
		}
		add(m[2], m[1], dayInYear(day, y, mo, 1))
	}
	for _, m := range matches(reYear, text, chunks, bYear, fDigit, fYearCue, fYear) {
		y, _ := strconv.Atoi(text[m[2]:m[3]])
		add(m[2], m[3], mkDate(y, 1, 1, loc))
	}
	for _, m := range matches(reWeekday, text, chunks, bWeekday, fWeekday, fWeekdayC) {
		mod := ""
		if m[2] >= 0 {
			mod = strings.ToLower(text[m[2]:m[3]])
		}
		if !capital(text[m[4]:m[5]]) {
			continue
		}
		wd := weekday(text[m[4]:m[5]])
		s := m[4]
		if mod == "last" || mod == "next" || mod == "this" {
			s = m[2]
		}
		add(s, m[1], resolveWeekday(day, wd, mod, sentenceAround(text, m[0], m[1])))
	}
	// text order
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Offset < out[j-1].Offset; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func mkDate(y, mo, d int, loc *time.Location) time.Time {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1 || y > 9999 {
		return time.Time{}
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
	if t.Day() != d { // Feb 30
		return time.Time{}
	}
	return t
}

// dayInYear resolves month/day with an optional year; without a year it picks the year that
// puts the date closest to ref ("January 10" in a late-December article is next January).
func dayInYear(ref time.Time, y int, mo time.Month, d int) time.Time {
	if y != 0 {
		return mkDate(y, int(mo), d, ref.Location())
	}
	var best time.Time
	bestDiff := time.Duration(1<<63 - 1)
	for _, yy := range []int{ref.Year() - 1, ref.Year(), ref.Year() + 1} {
		t := mkDate(yy, int(mo), d, ref.Location())
		if t.IsZero() {
			continue
		}
		diff := t.Sub(ref)
		if diff < 0 {
			diff = -diff
		}
		if diff < bestDiff {
			best, bestDiff = t, diff
		}
	}
	return best
}

func shift(t time.Time, unit string, n int) time.Time {
	switch strings.TrimSuffix(unit, "s") {
	case "day":
		return t.AddDate(0, 0, n)
	case "week":
		return t.AddDate(0, 0, 7*n)
	case "fortnight":
		return t.AddDate(0, 0, 14*n)
	case "month":
		return t.AddDate(0, n, 0)
	case "year":
		return t.AddDate(n, 0, 0)
	case "weekend":
		// the Saturday of the current/previous/next weekend
		sat := t.AddDate(0, 0, (int(time.Saturday)-int(t.Weekday())+7)%7)
		return sat.AddDate(0, 0, 7*n)
	}
	return t
}

// resolveWeekday picks the occurrence of wd nearest to ref in the direction suggested by the
// modifier or by future cues in the sentence ("will", "scheduled"); past by default, since news
// mostly reports what happened. The publication day itself counts as "this" weekday.
func resolveWeekday(ref time.Time, wd time.Weekday, mod, sentence string) time.Time {
	ahead := (int(wd) - int(ref.Weekday()) + 7) % 7
	back := (int(ref.Weekday()) - int(wd) + 7) % 7
	switch mod {
	case "next":
		if ahead == 0 {
			ahead = 7
		}
		return ref.AddDate(0, 0, ahead)
	case "last":
		if back == 0 {
			back = 7
		}
		return ref.AddDate(0, 0, -back)
	}
	if ahead == 0 {
		return ref
	}
	if hasFutureCue(sentence) {
		return ref.AddDate(0, 0, ahead)
	}
	return ref.AddDate(0, 0, -back)
}

// futureCues are futureCue's alternatives ("plans?" as plan and plans).
var futureCues = [...]string{"will", "would", "shall", "scheduled", "schedule", "planned", "plan", "plans", "expected",
	"due", "upcoming", "next", "set to", "going to", "to be held", "to meet", "to speak"}

// hasFutureCue is futureCue.MatchString(s) without the regexp engine: some cue, matched
// case-insensitively as (?i) does (an ASCII letter or its other case; s also as U+017F ſ,
// k as U+212A K), with an ASCII word boundary (\b) before and after it.
func hasFutureCue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'd' || c > 'w' {
			if s[i] != 0xc5 && s[i] != 0xe2 { // first bytes of ſ and K
				continue
			}
		}
		before := i > 0 && isWordChar(s[i-1])
		if before == (s[i] < utf8.RuneSelf) {
			continue // no \b before the cue: an ASCII letter inside a word, or ſ/K after none
		}
		for _, cue := range futureCues {
			if cue[0] != c && c < utf8.RuneSelf {
				continue
			}
			if end, ok := matchFold(s, i, cue); ok {
				// \b: the word-ness changes at both ends (ſ and K are not word characters)
				firstWord, lastWord := s[i] < utf8.RuneSelf, s[end-1] < utf8.RuneSelf
				after := end < len(s) && isWordChar(s[end])
				if before != firstWord && lastWord != after {
					return true
				}
			}
		}
	}
	return false
}

// matchFold matches the lower-case ASCII cue at s[i:] as (?i) would; it returns the end.
func matchFold(s string, i int, cue string) (int, bool) {
	for k := 0; k < len(cue); k++ {
		c := cue[k]
		switch {
		case i >= len(s):
			return 0, false
		case c == ' ':
			if s[i] != ' ' {
				return 0, false
			}
			i++
		case s[i]|0x20 == c && s[i] < utf8.RuneSelf:
			i++
		case c == 's' && strings.HasPrefix(s[i:], "\u017f"):
			i += len("\u017f")
		case c == 'k' && strings.HasPrefix(s[i:], "\u212a"):
			i += len("\u212a")
		default:
			return 0, false
		}
	}
	return i, true
}

func sentenceAround(text string, s, e int) string {
	a := s - 120
	if a < 0 {
		a = 0
	}
	if i := strings.LastIndexAny(text[a:s], ".!?\n"); i >= 0 {
		a += i + 1
	}
	b := e + 80
	if b > len(text) {
		b = len(text)
	}
	if i := strings.IndexAny(text[e:b], ".!?\n"); i >= 0 {
		b = e + i
	}
	return text[a:b]
}

func nextDate(text string, from int, ref time.Time) (time.Time, bool) {
	end := from + 160
	if end > len(text) {
		end = len(text)
	}
	seg := text[from:end]
	if i := strings.IndexAny(seg, ".!?\n"); i >= 0 {
		seg = seg[:i]
	}
	if m := reMonthDay.FindStringSubmatch(seg); m != nil && capital(m[1]) {
		d, _ := strconv.Atoi(m[2])
		y, _ := strconv.Atoi(m[3])
		t := dayInYear(ref, y, month(m[1]), d)
		return t, !t.IsZero()
	}
	return time.Time{}, false
}

func month(s string) time.Month {
	s = strings.ToLower(s)
	if len(s) > 3 {
		s = s[:3]
	}
	return monthIdx[s]
}

func weekday(s string) time.Weekday {
	switch strings.ToLower(s)[:3] {
	case "mon":
		return time.Monday
	case "tue":
		return time.Tuesday
	case "wed":
		return time.Wednesday
	case "thu":
		return time.Thursday
	case "fri":
		return time.Friday
	case "sat":
		return time.Saturday
	}
	return time.Sunday
}

func num(s string) int {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	if n, ok := numWords[s]; ok {
		return n
	}
	n, _ := strconv.Atoi(s)
	if n > 1000 {
		n = 1000
	}
	return n
}

func capital(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// Chunk flags: what a regular expression needs in a chunk to match there (or, for the
// expressions whose matches Find keeps only with a capitalised month or weekday, to yield a
// mention there).
const (
	fDigit = 1 << iota
	fMonth
	fWeekday
	fUnit
	fRel      // today/yesterday/tomorrow/tonight, or last night, or last/next/this/past/coming + week/month/year/weekend
	fDash     // '-' (ISO dates)
	fIn       // "in" (reInN)
	fYearCue  // a word reYear needs before the year
	fMonthCue // a word reMonthYear needs before the month
	fAgoCue   // a word reAgo needs after the unit
	fISO      // dddd-dd-dd
	fYear     // a year cue, white space, 19dd or 20dd (reYear)
	fMonthWS  // a capitalised month after white space (reDayMonth, reMonthYear)
	fMonthNum // a capitalised month, an optional '.', white space and a digit (reMonthDay)
	fAgoPair  // a unit word, white space, an ago cue (reAgo)
	fWeekdayC // a capitalised weekday (reWeekday)
	fAll      = 1<<iota - 1
)

type chunkT struct {
	s, e  int
	flags int
	// from: per expression with a bound (bISO…), a position no match of it in the chunk
	// starts before (math.MaxInt: none seen; below s: the chunk's start).
	from [numBounds]int
}

// Expressions whose matches' start chunk bounds (chunkT.from); bNone: the chunk's start.
const (
	bISO = iota
	bMonthDay
	bRel
	bMonthYear
	bYear
	bWeekday
	numBounds
	bNone = -1
)

// Word kinds: what a word is for the flags that depend on its neighbours.
const (
	kMonth = 1 << iota
	kWeekday
	kUnit    // reAgo's units
	kRelMod  // last next this past coming
	kLast    // last
	kRelNoun // week month year weekend
	kNight
	kAgoCue
	kYearCue
)

type wordInfo struct{ flags, kinds int }

var triggerWords = map[string]wordInfo{
	"today": {fRel, 0}, "yesterday": {fRel, 0}, "tomorrow": {fRel, 0}, "tonight": {fRel, 0}, "night": {0, kNight},
	"weekend": {0, kRelNoun}, "day": {fUnit, kUnit}, "days": {fUnit, kUnit}, "week": {fUnit, kUnit | kRelNoun},
	"weeks": {fUnit, kUnit}, "month": {fUnit, kUnit | kRelNoun}, "months": {fUnit, kUnit},
	"year": {fUnit, kUnit | kRelNoun}, "years": {fUnit, kUnit}, "fortnight": {fUnit, kUnit}, "fortnights": {fUnit, kUnit},
	"in": {fIn | fYearCue | fMonthCue, kYearCue}, "since": {fYearCue | fMonthCue, kYearCue}, "until": {fYearCue | fMonthCue, kYearCue},
	"by": {fYearCue | fMonthCue, kYearCue}, "from": {fYearCue | fMonthCue | fAgoCue, kYearCue | kAgoCue}, "during": {fYearCue, kYearCue},
	"of": {fMonthCue, 0}, "early": {fMonthCue, 0}, "late": {fMonthCue, 0}, "mid": {fMonthCue, 0},
	"ago": {fAgoCue, kAgoCue}, "before": {fAgoCue, kAgoCue}, "earlier": {fAgoCue, kAgoCue}, "later": {fAgoCue, kAgoCue}, "after": {fAgoCue, kAgoCue},
	"last": {0, kRelMod | kLast}, "next": {0, kRelMod}, "this": {0, kRelMod}, "past": {0, kRelMod}, "coming": {0, kRelMod},
}

func init() {
	for _, m := range []string{"jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
		"jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov", "november", "dec", "december"} {
		w := triggerWords[m]
		triggerWords[m] = wordInfo{w.flags | fMonth, w.kinds | kMonth}
	}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		w := triggerWords[d]
		triggerWords[d] = wordInfo{w.flags | fWeekday, w.kinds | kWeekday}
	}
}

// isSpace is RE2's \s.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// chunk splits text into sentence-like pieces and flags which expression families could occur
// in each, so the regular expressions only run where a trigger word is present. The words are
// ASCII letters, lower-cased; a chunk with a rune that the case-insensitive expressions fold to
// an ASCII letter (ſ, the Kelvin sign) gets every flag. Each flag is a necessary condition of
// a match (TestChunkFlagsLoseNoMatch, FuzzChunkFlags): a flag set where no match follows only
// costs a regular expression run.
func chunk(text string) []chunkT {
	var out []chunkT
	start, flags := 0, 0
	var word [16]byte
	wl, ws := 0, 0 // word length, its start
	// The word before the current one, and whether only white space (some) came between.
	prevKinds, gapSpaces, gapPure := 0, 0, false
	prevStart, prevPrevStart := -1, -1 // starts of the two words before the current one
	folded := false                    // the chunk has ſ or K: no bounds
	from := noBounds
	bound := func(b, at int) {
		if at < from[b] {
			from[b] = at
		}
	}
	// before returns the start of the word n (1 or 2) words before the current one, or the
	// current one's start when there is none.
	before := func(n int) int {
		if n == 2 && prevPrevStart >= 0 {
			return prevPrevStart
		}
		if prevStart >= 0 {
			return prevStart
		}
		return ws
	}
	endWord := func(i int) { // the word ends before text[i]
		if wl == 0 {
			return
		}
		var w wordInfo
		if wl <= len(word) {
			w = triggerWords[string(word[:wl])]
		}
		flags |= w.flags
		// Where matches can start (any case: the expressions match lower case too, and a
		// match Find skips still takes its text from the next one): a month or weekday
		// word itself or the cue or modifier before it (two words: "beginning of"); a
		// relative word itself or its modifier.
		if w.kinds&kMonth != 0 {
			bound(bMonthDay, ws)
			bound(bMonthYear, before(2))
		}
		if w.kinds&kWeekday != 0 {
			bound(bWeekday, before(1))
		}
		if w.flags&fRel != 0 {
			bound(bRel, ws)
		}
		if w.kinds&(kRelNoun|kNight) != 0 {
			bound(bRel, before(1))
		}
		if w.kinds != 0 {
			spaced := gapPure && gapSpaces > 0 // only white space since the previous word
			capital := text[ws] >= 'A' && text[ws] <= 'Z'
			if w.kinds&kMonth != 0 && capital {
				if ws > 0 && isSpace(text[ws-1]) {
					flags |= fMonthWS
				}
				j := i
				if j < len(text) && text[j] == '.' {
					j++
				}
				k := j
				for k < len(text) && isSpace(text[k]) {
					k++
				}
				if k > j && k < len(text) && isDigit(text[k]) {
					flags |= fMonthNum
				}
			}
			if w.kinds&kWeekday != 0 && capital {
				flags |= fWeekdayC
			}
			if spaced && (w.kinds&kRelNoun != 0 && prevKinds&kRelMod != 0 || w.kinds&kNight != 0 && prevKinds&kLast != 0) {
				flags |= fRel
			}
			if spaced && w.kinds&kAgoCue != 0 && prevKinds&kUnit != 0 {
				flags |= fAgoPair
			}
		}
		prevKinds, gapSpaces, gapPure = w.kinds, 0, true
		prevPrevStart, prevStart = prevStart, ws
		wl = 0
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 'a' && c <= 'z':
			if wl == 0 {
				ws = i
			}
			if wl < len(word) {
				word[wl] = c
			}
			wl++
		case c >= 'A' && c <= 'Z':
			if wl == 0 {
				ws = i
			}
			if wl < len(word) {
				word[wl] = c + 32
			}
			wl++
		default:
			endWord(i)
			switch {
			case c >= '0' && c <= '9':
				flags |= fDigit
				// "in 2014": a year cue, white space only, 19dd or 20dd
				if gapPure && gapSpaces > 0 && prevKinds&kYearCue != 0 && i+3 < len(text) &&
					(c == '1' && text[i+1] == '9' || c == '2' && text[i+1] == '0') && isDigit(text[i+2]) && isDigit(text[i+3]) {
					flags |= fYear
					bound(bYear, prevStart)
				}
				// glued "10On": the following letters still form a word
			case c == '-':
				flags |= fDash
				if i >= 4 && i+5 < len(text) && isDigit(text[i-4]) && isDigit(text[i-3]) && isDigit(text[i-2]) && isDigit(text[i-1]) &&
					isDigit(text[i+1]) && isDigit(text[i+2]) && text[i+3] == '-' && isDigit(text[i+4]) && isDigit(text[i+5]) {
					flags |= fISO
					bound(bISO, i-4)
				}
			case c == 0xC5 && i+1 < len(text) && text[i+1] == 0xBF, // ſ folds to s
				c == 0xE2 && i+2 < len(text) && text[i+1] == 0x84 && text[i+2] == 0xAA: // K to k
				flags |= fAll
				folded = true
			}
			if isSpace(c) {
				gapSpaces++
			} else {
				gapPure = false
			}
			if c == '\n' || (c == '.' || c == '!' || c == '?') && i+1 < len(text) && (text[i+1] == ' ' || text[i+1] == '\n') {
				out = append(out, newChunk(start, i+1, flags, from, folded))
				start, flags, from, folded = i+1, 0, noBounds, false
			}
		}
	}
	endWord(len(text))
	if start < len(text) {
		out = append(out, newChunk(start, len(text), flags, from, folded))
	}
	return out
}

var noBounds = func() (b [numBounds]int) {
	for i := range b {
		b[i] = math.MaxInt
	}
	return
}()

func newChunk(s, e, flags int, from [numBounds]int, folded bool) chunkT {
	if folded { // ſ and K fold to letters no word here has: every match start is possible
		for i := range from {
			from[i] = s
		}
	}
	return chunkT{s, e, flags, from}
}

// pruneChunks skips the chunks a regular expression cannot match in (tests turn it off to
// check that the flags never lose a match).
var pruneChunks = true

// matches runs re on the chunks that have every flag in need and returns absolute indexes.
// With a bound (bISO…), re runs from the chunk's bound for it, moved back to the start of
// the ASCII word it is in: there no match starts earlier, and \b reads the same at the
// start of the input as after the non-word character before it.
func matches(re *regexp.Regexp, text string, chunks []chunkT, bound int, need ...int) [][]int {
	var out [][]int
	for _, c := range chunks {
		if skip(c.flags, need) {
			continue
		}
		s := c.s
		if bound != bNone && pruneChunks {
			s = max(s, c.from[bound])
			if s >= c.e {
				continue
			}
			for s > c.s && isWordChar(text[s-1]) {
				s--
			}
		}
		for _, m := range re.FindAllStringSubmatchIndex(text[s:c.e], -1) {
			for k := range m {
				if m[k] >= 0 {
					m[k] += s
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// isWordChar is the ASCII word character of \b.
func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// skip reports whether a chunk with flags lacks one of need.
func skip(flags int, need []int) bool {
	if !pruneChunks {
		return false
	}
	for _, f := range need {
		if flags&f == 0 {
			return true
		}
	}
	return false
}
