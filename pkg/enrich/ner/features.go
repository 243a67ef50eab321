package ner

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Labels (IOB2 over four types).
const (
	lO = iota
	lBPER
	lIPER
	lBORG
	lIORG
	lBLOC
	lILOC
	lBMISC
	lIMISC
	numLabels
)

// numTypes counts O and the four entity types (typeIndex).
const numTypes = 5

var labelNames = [numLabels]string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}

func labelIndex(tag string) int {
	for i, n := range labelNames {
		if n == tag {
			return i
		}
	}
	return lO
}

// allowed reports whether label b may follow label a under IOB2.
func allowed(a, b int) bool {
	if b == lO || b%2 == 1 { // O or B-X
		return true
	}
	return a == b || a == b-1 // I-X after B-X or I-X
}

// lowerASCIIFast lower-cases s without allocating when s has no upper case.
func lowerASCIIFast(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// shapeBytes writes the word shape of w (runs capped at 3) and then its
// short shape (runs collapsed) into buf (reused): the word shape is b[:nf],
// the short shape b[nf:]; e.g. "McDonald's" -> "XxXxxx'x", "XxXx'x".
func shapeBytes(w string, buf []byte) (b []byte, nf int) {
	buf = buf[:0]
	var last byte
	run := 0
	n := 0
	for _, r := range w {
		var c byte
		switch {
		case unicode.IsUpper(r):
			c = 'X'
		case unicode.IsLetter(r):
			c = 'x'
		case unicode.IsDigit(r):
			c = 'd'
		case r < 0x80:
			c = byte(r)
		default:
			c = '*'
		}
		if c == last {
			run++
		} else {
			run = 1
			last = c
		}
		if run <= 3 {
			buf = append(buf, c)
		}
		n++
		if n > 24 {
			break
		}
	}
	nf = len(buf)
	last = 0
	for i := 0; i < nf; i++ {
		if buf[i] != last {
			buf = append(buf, buf[i])
			last = buf[i]
		}
	}
	return buf, nf
}

// maxInterned bounds a featurizer's table of shape strings (news text has a
// few hundred shapes).
const maxInterned = 4096

// intern returns b as a string, from f's table when it is there (no
// allocation).
func (f *featurizer) intern(b []byte) string {
	if s, ok := f.shapeStr[string(b)]; ok {
		return s
	}
	s := string(b)
	if f.shapeStr == nil || len(f.shapeStr) >= maxInterned {
		f.shapeStr = make(map[string]string, 256)
	}
	f.shapeStr[s] = s
	return s
}

// feature hashing ----------------------------------------------------------

const fnvPrime = 1099511628211

func hseed(t uint64) uint64 { return (t + 1) * 0x9E3779B97F4A7C15 }

func hstr(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// hjoin is hstr(h, a+"|"+b) without building the string.
func hjoin(h uint64, a, b string) uint64 { return hstr(hstr(hstr(h, a), "|"), b) }

// hjoin3 is hstr(h, a+"|"+b+"|"+c) without building the string.
func hjoin3(h uint64, a, b, c string) uint64 { return hstr(hstr(hjoin(h, a, b), "|"), c) }

func hint(h uint64, x uint64) uint64 {
	h ^= x + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
	h *= fnvPrime
	return h
}

func finalize(h uint64, bits uint) uint32 {
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 29
	return uint32(h >> (64 - bits))
}

// tokInfo holds per-token precomputed strings.
type tokInfo struct {
	w, lw, shape, sshape string
	cap                  bool // first rune upper case
}

// FeatureSet selects optional feature templates; it is stored in the model
// so tagging uses the templates the model was trained with.
type FeatureSet uint32

// Optional feature templates.
const (
	// FeatRunCats adds, for tokens in a capitalised run, the gazetteer
	// categories (incl. organisation/place keywords and titles) of the
	// run's last and first tokens and any keyword inside or just after the
	// run. It helps English (EWT dev +1.5 F1) and hurts the multi model.
	FeatRunCats FeatureSet = 1 << iota
	// FeatStacked marks a second-pass model that uses document features
	// from a first-pass model (see TrainStacked).
	FeatStacked
	// FeatRunGaz adds, for tokens in a capitalised run, the gazetteer
	// categories of an entry spanning exactly the run, and of the longest
	// gazetteer match covering the token.
	FeatRunGaz
	// FeatOrgLex adds a company-lexicon membership feature (see OrgLex),
	// computed fold-wise during training.
	FeatOrgLex
	// FeatLexicon adds Brown-cluster and word-probability features from a
	// WordLexicon stored in the model.
	FeatLexicon
	// FeatHanChars marks a character model for Chinese: tokens are single
	// Han characters (see SplitHan), and the character n-gram features
	// (skip bigram, bigrams and trigrams two away) are added.
	FeatHanChars

	featKnown = FeatHanChars<<1 - 1 // every bit this version reads
)

// featurizer extracts hashed features for a sentence. Not safe for
// concurrent use; use one per goroutine.
type featurizer struct {
	bits uint
	gaz  *Gazetteer
	clus map[string]uint16
	lex  *WordLexicon
	set  FeatureSet
	// Brown code and lexicon entries (as written, lower-cased) per token
	// (FeatLexicon)
	brown      []uint32
	lexW, lexL []lexEntry
	// word cluster per token, -1 none (when clus is set)
	clusOf []int32
	// extra feature seeds per token (stacked models): token i's are
	// extra[extraOff[i]:extraOff[i+1]]; nil when unused.
	extra    []uint64
	extraOff []int32
	info     []tokInfo
	lw       []string
	bm       []uint16
	im       []uint16
	lm       []uint16
	um       []uint16
	feats    []uint32 // flattened
	off      []int    // feats[off[i]:off[i+1]] for token i
	runMask  uint16
	olex     orgLexView
	olPos    []uint8
	longCat  []uint16
	longPos  []uint8
	runS     []int32
	runE     []int32
	sbuf     []byte
	shapeStr map[string]string // interned shapes (intern)
	ent      []int32           // each token's word-cache entry (extractContext)
}

const (
	tBias = iota + 1
	tWord
	tLower
	tLowerM1
	tLowerP1
	tLowerM2
	tLowerP2
	tShape
	tSShape
	tSShapeM1
	tSShapeP1
	tSShape3
	tPrefix
	tSuffix
	tBigramL
	tBigramR
	tPos
	tGaz
	tGazM1
	tGazP1
	tLen
	tLowerM1Shape
	tShapeLowerP1
	tSentCase
	tClus
	tClusM1
	tClusP1
	tCapNext
	tGazCat
	tRunPos
	tRunHead
	tRunFirst
	tSShapeM2
	tSShapeP2
	tRunHeadCat
	tRunFirstCat
	tRunKeyCat
	tRunNextCat
	tRunExact
	tGazLong
	tOrgLex
	tOrgLexCase
	tOrgLexNb
	tBrown
	tBrownM1
	tBrownP1
	tLexFreq
	tLexRatio
	tLexFreqW
	tHanSkip
	tHanBiM2
	tHanBiP2
	tHanTri
	tHanTriM
	tHanTriP
)

// keyCats are the keyword gazetteer categories.
const keyCats = 1<<GazOrgKey | 1<<GazLocKey | 1<<GazPerTitle

var connectors = map[string]bool{"of": true, "the": true, "and": true, "de": true, "for": true, "&": true, "on": true, "du": true, "des": true, "la": true, "le": true, "van": true, "von": true, "der": true, "al": true, "-": true, "'s": true, "da": true, "di": true, "del": true, "y": true, "at": true, "to": true}

// capRuns fills runStart/runEnd for each token in a run of capitalised
// tokens (allowing lower-case connectors between capitalised tokens);
// tokens outside runs get -1.
func (f *featurizer) capRuns(n int) {
	if cap(f.runS) < n {
		f.runS = make([]int32, n)
		f.runE = make([]int32, n)
	}
	f.runS, f.runE = f.runS[:n], f.runE[:n]
	for i := range f.runS {
		f.runS[i], f.runE[i] = -1, -1
	}
	i := 0
	for i < n {
		if !f.info[i].cap {
			i++
			continue
		}
		j := i + 1
		for j < n {
			if f.info[j].cap {
				j++
				continue
			}
			// connector(s) followed by a capitalised token
			k := j
			for k < n && k-j < 2 && connectors[f.lw[k]] {
				k++
			}
			if k > j && k < n && f.info[k].cap {
				j = k + 1
				continue
			}
			break
		}
		for k := i; k < j; k++ {
			f.runS[k], f.runE[k] = int32(i), int32(j)
		}
		i = j
	}
}

func (f *featurizer) add(h uint64) {
	f.feats = append(f.feats, finalize(h, f.bits))
}

// extract computes the features for words; afterwards token i's features are
// f.feats[f.off[i]:f.off[i+1]].
func (f *featurizer) extract(words []string) {
	n := len(words)
	f.reset(n)
	sentCase := f.tokenInfo(words)
	f.matchSentence(words)
	for i := 0; i < n; i++ {
		f.tokenFeatures(words, i, sentCase)
		f.off = append(f.off, len(f.feats))
	}
}

// reset sizes the per-token buffers for n tokens and empties the features.
func (f *featurizer) reset(n int) {
	if cap(f.info) < n {
		f.info = make([]tokInfo, n)
		f.lw = make([]string, n)
		f.bm = make([]uint16, n)
		f.im = make([]uint16, n)
		f.lm = make([]uint16, n)
		f.um = make([]uint16, n)
	}
	f.info, f.lw = f.info[:n], f.lw[:n]
	f.bm, f.im, f.lm, f.um = f.bm[:n], f.im[:n], f.lm[:n], f.um[:n]
	f.feats = f.feats[:0]
	f.off = append(f.off[:0], 0)
}

// tokenInfo fills f.info and f.lw for words and returns the sentence case
// style: 0 mostly lower, 1 mixed, 2 title-case headline, 3 no letters.
func (f *featurizer) tokenInfo(words []string) uint64 {
	capCount, alpha := 0, 0
	for i, w := range words {
		in := &f.info[i]
		in.w = w
		in.lw = lowerASCIIFast(w)
		f.lw[i] = in.lw
		b, nf := shapeBytes(w, f.sbuf)
		f.sbuf = b
		in.shape, in.sshape = f.intern(b[:nf]), f.intern(b[nf:])
		r, _ := utf8.DecodeRuneInString(w)
		in.cap = unicode.IsUpper(r)
		if unicode.IsLetter(r) {
			alpha++
			if in.cap {
				capCount++
			}
		}
	}
	return sentenceCase(capCount, alpha)
}

// sentenceCase classifies a sentence by the share of its alphabetic tokens
// that start upper case (see tokenInfo).
func sentenceCase(capCount, alpha int) uint64 {
	if alpha == 0 {
		return 3
	}
	if alpha < 4 {
		return 1
	}
	switch fr := float64(capCount) / float64(alpha); {
	case fr < 0.15:
		return 0
	case fr < 0.6:
		return 1
	default:
		return 2
	}
}

// matchSentence runs the sentence-level matchers the feature set needs:
// gazetteer, longest gazetteer phrase, capitalised runs, company lexicon and
// word lexicon.
func (f *featurizer) matchSentence(words []string) {
	n := len(words)
	f.gaz.match(f.lw, f.bm, f.im, f.lm, f.um)
	if f.set&FeatRunGaz != 0 {
		f.longest(n)
	}
	f.capRuns(n)
	if f.set&FeatOrgLex != 0 {
		f.olexMatch(n)
	}
	if f.lex != nil && f.set&FeatLexicon != 0 {
		f.lexPrepare(words)
	}
	if f.clus != nil {
		f.clusOf = f.clusOf[:0]
		for _, lw := range f.lw {
			c, ok := f.clus[lw]
			if !ok {
				f.clusOf = append(f.clusOf, -1)
				continue
			}
			f.clusOf = append(f.clusOf, int32(c))
		}
	}
}

// Sentence boundary stand-ins for context features.
const bos, eos = "<s>", "</s>"

// lwAt returns token i's lower-cased form, or a boundary marker outside the
// sentence.
func (f *featurizer) lwAt(i int) string {
	if i < 0 {
		return bos
	}
	if i >= len(f.lw) {
		return eos
	}
	return f.lw[i]
}

// ssAt returns token i's short shape, or a boundary marker outside the
// sentence.
func (f *featurizer) ssAt(i int) string {
	if i < 0 {
		return bos
	}
	if i >= len(f.info) {
		return eos
	}
	return f.info[i].sshape
}

// capAt reports whether token i exists and starts upper case.
func (f *featurizer) capAt(i int) bool {
	return i >= 0 && i < len(f.info) && f.info[i].cap
}

// tokenFeatures appends token i's features, family by family, in the order
// the models were trained with.
func (f *featurizer) tokenFeatures(words []string, i int, sentCase uint64) {
	in := &f.info[i]
	f.wordFeatures(i, in)
	nr := f.affixFeatures(in.lw)
	f.ngramFeatures(i, in.lw)
	capb := f.shapeFeatures(i, in, nr, sentCase)
	f.spanFeatures(i, in, capb, sentCase)
	if f.clus != nil {
		f.clusterFeatures(i)
	}
	if f.lex != nil && f.set&FeatLexicon != 0 {
		f.lexFeatures(words, i)
	}
	f.extraFeatures(i)
}

// spanFeatures adds the capitalised-run, gazetteer, company-lexicon and
// neighbouring gazetteer features of token i (capitalisation pattern capb).
func (f *featurizer) spanFeatures(i int, in *tokInfo, capb, sentCase uint64) {
	if f.runS[i] >= 0 {
		f.runFeatures(i)
	}
	f.gazFeatures(i, capb)
	if f.set&FeatOrgLex != 0 {
		f.orgLexFeatures(i, in, sentCase)
	}
	f.gazNeighbourFeatures(i)
}

// extraFeatures adds token i's extra features (stacked models).
func (f *featurizer) extraFeatures(i int) {
	if f.extraOff != nil {
		for _, h := range f.extra[f.extraOff[i]:f.extraOff[i+1]] {
			f.add(h)
		}
	}
}

// wordFeatures adds the bias, the word, its lower-cased form and those of
// two neighbours each side, its shapes and its neighbours' short shapes.
func (f *featurizer) wordFeatures(i int, in *tokInfo) {
	f.add(hseed(tBias))
	f.add(hstr(hseed(tWord), in.w))
	f.add(hstr(hseed(tLower), in.lw))
	f.add(hstr(hseed(tLowerM1), f.lwAt(i-1)))
	f.add(hstr(hseed(tLowerP1), f.lwAt(i+1)))
	f.add(hstr(hseed(tLowerM2), f.lwAt(i-2)))
	f.add(hstr(hseed(tLowerP2), f.lwAt(i+2)))
	f.add(hstr(hseed(tShape), in.shape))
	f.add(hstr(hseed(tSShape), in.sshape))
	f.add(hstr(hseed(tSShapeM1), f.ssAt(i-1)))
	f.add(hstr(hseed(tSShapeP1), f.ssAt(i+1)))
	f.add(hjoin3(hseed(tSShape3), f.ssAt(i-1), in.sshape, f.ssAt(i+1)))
}

// affixFeatures adds the prefixes and suffixes of up to four runes of lw
// (shorter than lw itself) and returns lw's length in runes.
func (f *featurizer) affixFeatures(lw string) int {
	nr := utf8.RuneCountInString(lw)
	if nr <= 1 {
		return nr
	}
	k, p := 0, 0
	for p < len(lw) && k < 4 {
		_, sz := utf8.DecodeRuneInString(lw[p:])
		p += sz
		k++
		if k < nr {
			f.add(hstr(hint(hseed(tPrefix), uint64(k)), lw[:p]))
		}
	}
	k, p = 0, len(lw)
	for p > 0 && k < 4 {
		_, sz := utf8.DecodeLastRuneInString(lw[:p])
		p -= sz
		k++
		if k < nr {
			f.add(hstr(hint(hseed(tSuffix), uint64(k)), lw[p:]))
		}
	}
	return nr
}

// ngramFeatures adds the word bigrams with each neighbour and, for the
// character model (FeatHanChars), the skip bigram, the bigrams two away and
// the trigrams.
func (f *featurizer) ngramFeatures(i int, lw string) {
	f.add(hjoin(hseed(tBigramL), f.lwAt(i-1), lw))
	f.add(hjoin(hseed(tBigramR), lw, f.lwAt(i+1)))
	if f.set&FeatHanChars == 0 {
		return
	}
	f.add(hjoin(hseed(tHanSkip), f.lwAt(i-1), f.lwAt(i+1)))
	f.add(hjoin(hseed(tHanBiM2), f.lwAt(i-2), f.lwAt(i-1)))
	f.add(hjoin(hseed(tHanBiP2), f.lwAt(i+1), f.lwAt(i+2)))
	f.add(hjoin3(hseed(tHanTri), f.lwAt(i-1), lw, f.lwAt(i+1)))
	f.add(hjoin3(hseed(tHanTriM), f.lwAt(i-2), f.lwAt(i-1), lw))
	f.add(hjoin3(hseed(tHanTriP), lw, f.lwAt(i+1), f.lwAt(i+2)))
}

// shapeFeatures adds the position-in-sentence, length, shape-in-context,
// sentence-case and capitalisation-pattern features, and returns the
// capitalisation pattern (1 token, 2 next token, 4 previous token upper case).
func (f *featurizer) shapeFeatures(i int, in *tokInfo, nr int, sentCase uint64) uint64 {
	pos := f.sentPos(i)
	f.add(hstr(hint(hseed(tPos), pos), in.sshape))
	f.add(hint(hseed(tLen), uint64(min(nr, 12))))
	f.add(hjoin(hseed(tLowerM1Shape), f.lwAt(i-1), in.sshape))
	f.add(hjoin(hseed(tShapeLowerP1), in.sshape, f.lwAt(i+1)))
	f.add(hstr(hint(hseed(tSentCase), sentCase), in.sshape))
	capb := f.capPattern(i, in)
	f.add(hint(hint(hseed(tCapNext), capb), pos))
	f.add(hstr(hseed(tSShapeM2), f.ssAt(i-2)))
	f.add(hstr(hseed(tSShapeP2), f.ssAt(i+2)))
	return capb
}

// sentPos is token i's place in the sentence: 1 first, 2 last, 0 else.
func (f *featurizer) sentPos(i int) uint64 {
	if i == 0 {
		return 1
	} else if i == len(f.info)-1 {
		return 2
	}
	return 0
}

// capPattern is token i's capitalisation pattern: 1 token, 2 next token, 4
// previous token upper case.
func (f *featurizer) capPattern(i int, in *tokInfo) uint64 {
	capb := uint64(0)
	if in.cap {
		capb = 1
	}
	if f.capAt(i + 1) {
		capb |= 2
	}
	if f.capAt(i - 1) {
		capb |= 4
	}
	return capb
}

// runPosition is a token's place in its capitalised run [rs, re): 0 alone,
// 1 first, 2 last, 3 inside.
func runPosition(i, rs, re int) uint64 {
	switch {
	case re-rs == 1:
		return 0
	case i == rs:
		return 1
	case i == re-1:
		return 2
	default:
		return 3
	}
}

// runFeatures adds the features of a token inside a capitalised run: its
// position and the run's length, and, per feature set, the gazetteer
// categories and keywords of the run (FeatRunCats) and of an entry spanning
// exactly the run (FeatRunGaz).
func (f *featurizer) runFeatures(i int) {
	rs, re := int(f.runS[i]), int(f.runE[i])
	L := re - rs
	rp := runPosition(i, rs, re)
	f.add(hint(hint(hint(hseed(tRunPos), rp), uint64(min(L, 5))), min(uint64(rs), 1)))
	if L > 1 && f.set&FeatRunCats != 0 {
		f.runCatFeatures(rs, re, rp)
	}
	if re < len(f.info) && f.set&FeatRunCats != 0 {
		// keyword just after the run ("Ford Motor Company" split, "X River")
		if m := f.um[re] & keyCats; m != 0 {
			f.addKeyCats(tRunNextCat, m, rp)
		}
	}
	if f.set&FeatRunGaz != 0 && L <= gazMaxLen {
		if i == rs {
			f.runMask = f.gaz.lookupWords(f.lw[rs:re])
		}
		f.addCats(tRunExact, f.runMask, rp)
	}
	if L > 1 && withRunWords {
		f.add(hint(hstr(hseed(tRunHead), f.lw[re-1]), rp))
		f.add(hint(hstr(hseed(tRunFirst), f.lw[rs]), rp))
	}
}

// runCatFeatures adds the gazetteer categories of the run's last and first
// tokens, and the keywords anywhere in the run.
func (f *featurizer) runCatFeatures(rs, re int, rp uint64) {
	f.addCats(tRunHeadCat, f.um[re-1], rp)
	f.addCats(tRunFirstCat, f.um[rs], rp)
	var km uint16
	for q := rs; q < re; q++ {
		km |= f.um[q] & keyCats
	}
	f.addKeyCats(tRunKeyCat, km, rp)
}

// addCats adds template tpl with each gazetteer category set in mask and x.
func (f *featurizer) addCats(tpl uint64, mask uint16, x uint64) {
	for k := 0; k < numGaz; k++ {
		if mask&(1<<k) != 0 {
			f.add(hint(hint(hseed(tpl), uint64(k)), x))
		}
	}
}

// addKeyCats is addCats over the keyword categories only.
func (f *featurizer) addKeyCats(tpl uint64, mask uint16, x uint64) {
	for k := GazOrgKey; k <= GazPerTitle; k++ {
		if mask&(1<<k) != 0 {
			f.add(hint(hint(hseed(tpl), uint64(k)), x))
		}
	}
}

// gazFeatures adds, for each gazetteer category matching the token, its
// place in the match with the token's case and the category with the
// capitalisation pattern, then the longest covering phrase's categories
// (FeatRunGaz).
func (f *featurizer) gazFeatures(i int, capb uint64) {
	if anyM := f.bm[i] | f.im[i] | f.lm[i] | f.um[i]; anyM != 0 {
		cb := capb & 1
		for c := 0; c < numGaz; c++ {
			bit := uint16(1) << c
			if anyM&bit == 0 {
				continue
			}
			var pt uint64
			switch {
			case f.um[i]&bit != 0:
				pt = 0
			case f.bm[i]&bit != 0:
				pt = 1
			case f.lm[i]&bit != 0:
				pt = 2
			default:
				pt = 3
			}
			f.add(hint(hint(hint(hseed(tGaz), uint64(c)), pt), cb))
			f.add(hint(hint(hseed(tGazCat), uint64(c)), capb))
		}
	}
	if f.set&FeatRunGaz != 0 && f.longCat[i] != 0 {
		lc := f.longCat[i]
		for k := 0; k < numGaz; k++ {
			if lc&(1<<k) != 0 {
				f.add(hint(hint(hint(hseed(tGazLong), uint64(k)), uint64(f.longPos[i])), uint64(capb&1)))
			}
		}
	}
}

// orgLexFeatures adds the company-lexicon features: the token's place in a
// lexicon match with the sentence case and with all-caps, and its shape;
// or, for a token next to a match, the side(s) and the word.
func (f *featurizer) orgLexFeatures(i int, in *tokInfo, sentCase uint64) {
	if p := f.olPos[i]; p != 0 {
		allCaps := uint64(0)
		if in.w == strings.ToUpper(in.w) {
			allCaps = 1
		}
		f.add(hint(hint(hseed(tOrgLex), uint64(p)), sentCase))
		f.add(hint(hint(hint(hseed(tOrgLex), uint64(p)), allCaps), 9))
		f.add(hstr(hint(hseed(tOrgLexCase), uint64(p)), in.sshape))
	}
	var nb uint64
	if i > 0 && f.olPos[i-1] != 0 {
		nb |= 1
	}
	if i+1 < len(f.info) && f.olPos[i+1] != 0 {
		nb |= 2
	}
	if nb != 0 && f.olPos[i] == 0 {
		f.add(hstr(hint(hseed(tOrgLexNb), nb), in.lw))
	}
}

// gazNeighbourFeatures adds the gazetteer categories matching the previous
// and the next token.
func (f *featurizer) gazNeighbourFeatures(i int) {
	for d, tpl := range [2]uint64{tGazM1, tGazP1} {
		j := i - 1 + 2*d
		if j < 0 || j >= len(f.info) {
			continue
		}
		m := f.bm[j] | f.im[j] | f.lm[j] | f.um[j]
		for c := 0; c < numGaz; c++ {
			if m&(1<<c) != 0 {
				f.add(hint(hseed(tpl), uint64(c)))
			}
		}
	}
}

// clusterFeatures adds the word-cluster prefixes (16 and 12 bits, and 8 for
// the token itself) of the token and its neighbours.
func (f *featurizer) clusterFeatures(i int) {
	for d, tpl := range [3]uint64{tClusM1, tClus, tClusP1} {
		j := i - 1 + d
		if j < 0 || j >= len(f.info) {
			continue
		}
		if c := f.clusOf[j]; c >= 0 {
			f.clusterTemplate(tpl, c)
		}
	}
}

// clusterTemplate adds template tpl (tClusM1, tClus or tClusP1) for a word
// in cluster c.
func (f *featurizer) clusterTemplate(tpl uint64, c int32) {
	f.add(hint(hint(hseed(tpl), uint64(c)), 16))
	f.add(hint(hint(hseed(tpl), uint64(c>>4)), 12))
	if tpl == tClus {
		f.add(hint(hint(hseed(tpl), uint64(c>>8)), 8))
	}
}

// withRunWords adds the first/last word of a capitalised run as features
// (no gain on EWT dev, so off).
const withRunWords = false

// longest fills longCat/longPos with the categories of the longest
// gazetteer phrase covering each token (greedy left to right, multi-token
// phrases only) and the token's position in it (1 first, 2 inside, 3 last).
func (f *featurizer) longest(n int) {
	if cap(f.longCat) < n {
		f.longCat = make([]uint16, n)
		f.longPos = make([]uint8, n)
	}
	f.longCat, f.longPos = f.longCat[:n], f.longPos[:n]
	clear(f.longCat)
	clear(f.longPos)
	if f.gaz == nil || len(f.gaz.m) == 0 {
		return
	}
	for i := 0; i < n; {
		if f.bm[i] == 0 {
			i++
			continue
		}
		h := uint64(gazSeed)
		end, cats := -1, uint16(0)
		for k := i; k < n && k-i < gazMaxLen; k++ {
			h = gazStep(h, f.lw[k])
			v, ok := f.gaz.m[h]
			if !ok {
				break
			}
			if c := v &^ gazPrefix; c != 0 && k > i {
				end, cats = k, c
			}
			if v&gazPrefix == 0 {
				break
			}
		}
		if end < 0 {
			i++
			continue
		}
		for k := i; k <= end; k++ {
			f.longCat[k] = cats
			f.longPos[k] = 2
		}
		f.longPos[i], f.longPos[end] = 1, 3
		i = end + 1
	}
}
