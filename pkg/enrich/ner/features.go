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

// shapes returns the word shape (runs capped at 3) and the short shape
// (runs collapsed) of w, e.g. "McDonald's" -> "XxXxxx'x", "XxXx'x".
func shapes(w string, buf []byte) (string, string) {
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
	full := string(buf)
	sb := buf[len(buf):]
	last = 0
	for i := 0; i < len(full); i++ {
		if full[i] != last {
			sb = append(sb, full[i])
			last = full[i]
		}
	}
	return full, string(sb)
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
	// Brown code per token (FeatLexicon)
	brown []uint32
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
	capCount, alpha := 0, 0
	for i, w := range words {
		in := &f.info[i]
		in.w = w
		in.lw = lowerASCIIFast(w)
		f.lw[i] = in.lw
		in.shape, in.sshape = shapes(w, f.sbuf)
		r, _ := utf8.DecodeRuneInString(w)
		in.cap = unicode.IsUpper(r)
		if unicode.IsLetter(r) {
			alpha++
			if in.cap {
				capCount++
			}
		}
	}
	// sentence case style: 0 mostly lower, 1 mixed, 2 title-case headline, 3 no letters
	sentCase := uint64(3)
	if alpha > 0 {
		switch fr := float64(capCount) / float64(alpha); {
		case fr < 0.15:
			sentCase = 0
		case fr < 0.6:
			sentCase = 1
		default:
			sentCase = 2
		}
		if alpha < 4 {
			sentCase = 1
		}
	}
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
	get := func(i int) *tokInfo {
		if i < 0 || i >= n {
			return nil
		}
		return &f.info[i]
	}
	const bos, eos = "<s>", "</s>"
	lwAt := func(i int) string {
		if i < 0 {
			return bos
		}
		if i >= n {
			return eos
		}
		return f.lw[i]
	}
	ssAt := func(i int) string {
		if i < 0 {
			return bos
		}
		if i >= n {
			return eos
		}
		return f.info[i].sshape
	}
	for i := 0; i < n; i++ {
		in := get(i)
		f.add(hseed(tBias))
		f.add(hstr(hseed(tWord), in.w))
		f.add(hstr(hseed(tLower), in.lw))
		f.add(hstr(hseed(tLowerM1), lwAt(i-1)))
		f.add(hstr(hseed(tLowerP1), lwAt(i+1)))
		f.add(hstr(hseed(tLowerM2), lwAt(i-2)))
		f.add(hstr(hseed(tLowerP2), lwAt(i+2)))
		f.add(hstr(hseed(tShape), in.shape))
		f.add(hstr(hseed(tSShape), in.sshape))
		f.add(hstr(hseed(tSShapeM1), ssAt(i-1)))
		f.add(hstr(hseed(tSShapeP1), ssAt(i+1)))
		f.add(hstr(hstr(hstr(hseed(tSShape3), ssAt(i-1)), "|"+in.sshape+"|"), ssAt(i+1)))
		// affixes over runes
		lw := in.lw
		nr := utf8.RuneCountInString(lw)
		if nr > 1 {
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
		}
		f.add(hstr(hstr(hseed(tBigramL), lwAt(i-1)), "|"+lw))
		f.add(hstr(hstr(hseed(tBigramR), lw+"|"), lwAt(i+1)))
		if f.set&FeatHanChars != 0 {
			f.add(hstr(hstr(hseed(tHanSkip), lwAt(i-1)), "|"+lwAt(i+1)))
			f.add(hstr(hstr(hseed(tHanBiM2), lwAt(i-2)), "|"+lwAt(i-1)))
			f.add(hstr(hstr(hseed(tHanBiP2), lwAt(i+1)), "|"+lwAt(i+2)))
			f.add(hstr(hstr(hstr(hseed(tHanTri), lwAt(i-1)), "|"+lw+"|"), lwAt(i+1)))
			f.add(hstr(hstr(hstr(hseed(tHanTriM), lwAt(i-2)), "|"+lwAt(i-1)+"|"), lw))
			f.add(hstr(hstr(hstr(hseed(tHanTriP), lw+"|"), lwAt(i+1)+"|"), lwAt(i+2)))
		}
		pos := uint64(0)
		if i == 0 {
			pos = 1
		} else if i == n-1 {
			pos = 2
		}
		f.add(hstr(hint(hseed(tPos), pos), in.sshape))
		if nr > 12 {
			nr = 12
		}
		f.add(hint(hseed(tLen), uint64(nr)))
		f.add(hstr(hstr(hseed(tLowerM1Shape), lwAt(i-1)), "|"+in.sshape))
		f.add(hstr(hstr(hseed(tShapeLowerP1), in.sshape+"|"), lwAt(i+1)))
		f.add(hstr(hint(hseed(tSentCase), sentCase), in.sshape))
		capb := uint64(0)
		if in.cap {
			capb = 1
		}
		if nx := get(i + 1); nx != nil && nx.cap {
			capb |= 2
		}
		if pv := get(i - 1); pv != nil && pv.cap {
			capb |= 4
		}
		f.add(hint(hint(hseed(tCapNext), capb), pos))
		f.add(hstr(hseed(tSShapeM2), ssAt(i-2)))
		f.add(hstr(hseed(tSShapeP2), ssAt(i+2)))
		if rs := int(f.runS[i]); rs >= 0 {
			re := int(f.runE[i])
			L := re - rs
			var rp uint64
			switch {
			case L == 1:
				rp = 0
			case i == rs:
				rp = 1
			case i == re-1:
				rp = 2
			default:
				rp = 3
			}
			f.add(hint(hint(hint(hseed(tRunPos), rp), uint64(min(L, 5))), min(uint64(rs), 1)))
			if L > 1 && f.set&FeatRunCats != 0 {
				// gazetteer categories of the run's last and first tokens,
				// and keywords anywhere in the run
				for c, m := range [2]uint16{f.um[re-1], f.um[rs]} {
					tpl := uint64(tRunHeadCat)
					if c == 1 {
						tpl = tRunFirstCat
					}
					for k := 0; k < numGaz; k++ {
						if m&(1<<k) != 0 {
							f.add(hint(hint(hseed(tpl), uint64(k)), rp))
						}
					}
				}
				var km uint16
				for q := rs; q < re; q++ {
					km |= f.um[q] & keyCats
				}
				for k := GazOrgKey; k <= GazPerTitle; k++ {
					if km&(1<<k) != 0 {
						f.add(hint(hint(hseed(tRunKeyCat), uint64(k)), rp))
					}
				}
			}
			if re < n && f.set&FeatRunCats != 0 {
				// keyword just after the run ("Ford Motor Company" split, "X River")
				if m := f.um[re] & keyCats; m != 0 {
					for k := GazOrgKey; k <= GazPerTitle; k++ {
						if m&(1<<k) != 0 {
							f.add(hint(hint(hseed(tRunNextCat), uint64(k)), rp))
						}
					}
				}
			}
			if f.set&FeatRunGaz != 0 && L <= gazMaxLen {
				if i == rs {
					f.runMask = f.gaz.lookupWords(f.lw[rs:re])
				}
				for k := 0; k < numGaz; k++ {
					if f.runMask&(1<<k) != 0 {
						f.add(hint(hint(hseed(tRunExact), uint64(k)), rp))
					}
				}
			}
			if L > 1 && withRunWords {
				f.add(hint(hstr(hseed(tRunHead), f.lw[re-1]), rp))
				f.add(hint(hstr(hseed(tRunFirst), f.lw[rs]), rp))
			}
		}
		// gazetteer
		any := f.bm[i] | f.im[i] | f.lm[i] | f.um[i]
		if any != 0 {
			cb := capb & 1
			for c := 0; c < numGaz; c++ {
				bit := uint16(1) << c
				if any&bit == 0 {
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
		if f.set&FeatOrgLex != 0 {
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
			if i+1 < n && f.olPos[i+1] != 0 {
				nb |= 2
			}
			if nb != 0 && f.olPos[i] == 0 {
				f.add(hstr(hint(hseed(tOrgLexNb), nb), in.lw))
			}
		}
		for d, tpl := range [2]uint64{tGazM1, tGazP1} {
			j := i - 1 + 2*d
			if j < 0 || j >= n {
				continue
			}
			m := f.bm[j] | f.im[j] | f.lm[j] | f.um[j]
			for c := 0; c < numGaz; c++ {
				if m&(1<<c) != 0 {
					f.add(hint(hseed(tpl), uint64(c)))
				}
			}
		}
		if f.clus != nil {
			for d, tpl := range [3]uint64{tClusM1, tClus, tClusP1} {
				j := i - 1 + d
				if j < 0 || j >= n {
					continue
				}
				if c, ok := f.clus[f.lw[j]]; ok {
					f.add(hint(hint(hseed(tpl), uint64(c)), 16))
					f.add(hint(hint(hseed(tpl), uint64(c>>4)), 12))
					if tpl == tClus {
						f.add(hint(hint(hseed(tpl), uint64(c>>8)), 8))
					}
				}
			}
		}
		if f.lex != nil && f.set&FeatLexicon != 0 {
			f.lexFeatures(words, i)
		}
		if f.extraOff != nil {
			for _, h := range f.extra[f.extraOff[i]:f.extraOff[i+1]] {
				f.add(h)
			}
		}
		f.off = append(f.off, len(f.feats))
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
