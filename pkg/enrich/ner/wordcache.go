package ner

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word cache: most of a token's features depend on one word only, its own
// (bias, word, lower case, shapes, affixes, length, its cluster and Brown
// code, lexicon frequencies) or a neighbour's in a fixed role (the lower
// case, short shape, cluster and Brown code of the word one or two to the
// left or right, or the sentence boundary marker there). The weights are
// integers, summed as int32 and scaled only at the end, so the rows of such
// features can be summed once per word and role and added as one: the
// emissions are bit for bit those of the full feature list. Only the
// features that depend on several words or on the sentence (bigrams,
// shape-in-context, position, sentence case, capitalisation pattern,
// gazetteer, capitalised runs, company lexicon, document features) are
// hashed and looked up per token. The featurizer (extract) is unchanged and
// stays what training and the fallback use.

// A word's roles: its own features and its features as the token two to
// the left, one to the left, one to the right and two to the right.
const (
	roleSelf = iota
	roleM2
	roleM1
	roleP1
	roleP2
	numRoles
)

// Reserved cache entries: the sentence boundaries, whose roles are the
// neighbour features with the bos (as M2, M1) and eos (as P1, P2) markers.
const (
	entBOS = iota
	entEOS
	numReserved
)

// maxCacheWords bounds a word cache's entries (about 450 bytes each for the
// stacked English model, 14 MB in all); when a sentence does not fit, the
// cache keeps the most used half of its entries (evict). News and web text
// have a long tail: tagging EWT train, WikiGold, EWT test and the
// extraction ground truth in turn (347,000 tokens), the second half's
// tokens miss a cache of 16,384 entries 11.6% of the time (14.4% when a
// full cache is emptied instead) and one of 32,768 entries 7.8%.
const maxCacheWords = 1 << 15

// maxCacheBytes bounds the text a word cache keeps (its words and their
// lower-case forms): tokens are not bounded in length (a text of
// MaxInputBytes can be one token), so 32,768 long unique words would
// otherwise stay reachable from an idle cache. News text averages under 16
// bytes a word here, so the bound is reached only by runs of long tokens
// (URLs, blobs); a sentence with more text than this is tagged without the
// cache.
const maxCacheBytes = 1 << 22

// maxCaches bounds the idle word caches a model keeps (more tagging at
// once builds caches that are dropped afterwards): the enricher tags up to
// NEWSFLOW_CONCURRENCY (4 by default) articles at once, which hold that
// many caches anyway, and with fewer idle ones the others start cold.
const maxCaches = 4

// cachedWord is what a sentence's context features need of a cached word.
type cachedWord struct {
	lw, sshape  string
	cap, letter bool // first rune upper case, a letter
}

// wordCache holds per-word sums of the weight rows of the one-word features
// of a model (both passes of a stacked model that shares its features with
// its first pass). Not safe for concurrent use: a tagging call takes one
// from its model (getCache) and gives it back.
type wordCache struct {
	m      *Model
	w      [2][]int16 // the passes' weights (first pass first)
	passes int
	limit  int                 // most entries, maxCacheWords but in tests
	bytes  int                 // text kept: len(word)+len(lower case) of each indexed word
	stride int                 // int32s per entry: numRoles × passes × numLabels
	idx    [2]map[string]int32 // entry of a word inside a sentence [0], sentence-initial [1]
	words  []cachedWord
	uses   []uint8 // each entry's uses since it was added or kept (evict), up to 255
	remap  []int32 // scratch: evict's new index of each entry
	sums   []int32 // entry e's role r, pass p: sums[e*stride+(r*passes+p)*numLabels:][:numLabels]
	f      featurizer
	roleAt [numRoles + 1]int // the scratch features of each role in f.feats
	off    []int32           // scratch: each feature's weight row (single pass)
	probe  []slot            // scratch: first probes (single pass)
	pprobe []pairSlot        // scratch: each feature's rows (two passes)
}

// cachePasses returns how many passes a word cache of m sums: 1 for a
// single-pass model, 2 for a stacked model whose first pass shares its
// features, 0 when m does not use one.
func (m *Model) cachePasses() int {
	if m.wordCacheOff || len(m.slots) == 0 {
		return 0
	}
	if m.first == nil {
		return 1
	}
	if m.firstSharesFeatures() {
		return 2
	}
	return 0
}

// getCache returns m's idle word cache with the most words, or a new one.
func (m *Model) getCache() *wordCache {
	m.cacheMu.Lock()
	if n := len(m.caches); n > 0 {
		k := 0
		for j, c := range m.caches {
			if len(c.words) > len(m.caches[k].words) {
				k = j
			}
		}
		c := m.caches[k]
		m.caches[k] = m.caches[n-1]
		m.caches[n-1] = nil
		m.caches = m.caches[:n-1]
		m.cacheMu.Unlock()
		return c
	}
	m.cacheMu.Unlock()
	return newWordCache(m, m.cachePasses())
}

// putCache gives c back to m. When m keeps maxCaches idle ones already
// (more tagging calls at once than that built new caches), the one with
// the fewest words is dropped: c, when it was built meanwhile, rather than
// a cache that has learnt the text so far.
func (m *Model) putCache(c *wordCache) {
	m.cacheMu.Lock()
	if len(m.caches) < maxCaches {
		m.caches = append(m.caches, c)
	} else {
		k := 0
		for j, o := range m.caches {
			if len(o.words) < len(m.caches[k].words) {
				k = j
			}
		}
		if len(c.words) > len(m.caches[k].words) {
			m.caches[k] = c
		}
	}
	m.cacheMu.Unlock()
}

func newWordCache(m *Model, passes int) *wordCache {
	c := &wordCache{
		m:      m,
		passes: passes,
		limit:  cmp.Or(m.cacheWords, maxCacheWords),
		stride: numRoles * passes * numLabels,
		f:      featurizer{bits: m.bits, gaz: m.gaz, clus: m.clus, lex: m.lex, set: m.feats},
	}
	if passes == 2 {
		c.w = [2][]int16{m.first.w, m.w}
	} else {
		c.w = [2][]int16{m.w}
	}
	c.reset()
	return c
}

// reset empties c but for the boundary entries.
func (c *wordCache) reset() {
	for k := range c.idx {
		if c.idx[k] == nil {
			c.idx[k] = make(map[string]int32, 1024)
		}
		clear(c.idx[k])
	}
	clear(c.words)
	c.words, c.uses, c.sums = c.words[:0], c.uses[:0], c.sums[:0]
	c.bytes = 0
	f := &c.f
	// bos: the neighbour features of the tokens it stands left of
	f.feats = f.feats[:0]
	c.roleAt[roleSelf], c.roleAt[roleM2] = 0, 0
	f.add(hstr(hseed(tLowerM2), bos))
	f.add(hstr(hseed(tSShapeM2), bos))
	c.roleAt[roleM1] = len(f.feats)
	f.add(hstr(hseed(tLowerM1), bos))
	f.add(hstr(hseed(tSShapeM1), bos))
	c.roleAt[roleP1], c.roleAt[roleP2], c.roleAt[numRoles] = len(f.feats), len(f.feats), len(f.feats)
	c.store(cachedWord{lw: bos, sshape: bos})
	// eos: those of the tokens it stands right of
	f.feats = f.feats[:0]
	c.roleAt[roleM2], c.roleAt[roleM1], c.roleAt[roleP1] = 0, 0, 0
	f.add(hstr(hseed(tLowerP1), eos))
	f.add(hstr(hseed(tSShapeP1), eos))
	c.roleAt[roleP2] = len(f.feats)
	f.add(hstr(hseed(tLowerP2), eos))
	f.add(hstr(hseed(tSShapeP2), eos))
	c.roleAt[numRoles] = len(f.feats)
	c.store(cachedWord{lw: eos, sshape: eos})
}

// room makes room for a sentence of words (evicting or emptying c when
// full, in entries or in text) and reports whether c can take it: a
// sentence longer than the cache, or with more text than maxCacheBytes, is
// tagged without it.
func (c *wordCache) room(words []string) bool {
	n, text := len(words), 0
	for _, w := range words {
		// the word and its lower case, at most 3 times as long (an invalid
		// byte becomes U+FFFD)
		text += 4 * len(w)
	}
	if n+numReserved > c.limit || text > maxCacheBytes {
		return false
	}
	full := func() bool { return len(c.words)+n > c.limit || c.bytes+text > maxCacheBytes }
	if full() {
		c.evict()
		if full() {
			c.reset()
		}
	}
	return true
}

// evict keeps the most used half of c's entries (at most) and drops the
// others; the uses of those kept start again at 0.
func (c *wordCache) evict() {
	var hist [256]int
	for _, u := range c.uses[numReserved:] {
		hist[u]++
	}
	// the least use count t that keeps at most half: a word used once is
	// never kept
	t, kept := 256, 0
	for t > 2 && kept+hist[t-1] <= c.limit/2 {
		t--
		kept += hist[t]
	}
	if cap(c.remap) < len(c.words) {
		c.remap = make([]int32, len(c.words))
	}
	remap := c.remap[:len(c.words)]
	j := numReserved
	for e := numReserved; e < len(c.words); e++ {
		if int(c.uses[e]) < t {
			remap[e] = -1
			continue
		}
		remap[e] = int32(j)
		c.words[j], c.uses[j] = c.words[e], 0
		copy(c.sums[j*c.stride:(j+1)*c.stride], c.sums[e*c.stride:(e+1)*c.stride])
		j++
	}
	c.bytes = 0
	for _, idx := range c.idx {
		for w, e := range idx {
			if r := remap[e]; r < 0 {
				delete(idx, w)
			} else {
				idx[w] = r
				c.bytes += wordBytes(w, c.words[r].lw)
			}
		}
	}
	clear(c.words[j:])
	c.words, c.uses, c.sums = c.words[:j], c.uses[:j], c.sums[:j*c.stride]
}

// get returns the entry of word w (first: at the start of its sentence),
// adding it when missing.
func (c *wordCache) get(w string, first bool) int32 {
	k := 0
	if first {
		k = 1
	}
	if e, ok := c.idx[k][w]; ok {
		if c.uses[e] < 255 {
			c.uses[e]++
		}
		return e
	}
	w = strings.Clone(w) // the key must not keep the caller's text alive
	e := c.add(w, first)
	c.idx[k][w] = e
	c.bytes += wordBytes(w, c.words[e].lw)
	return e
}

// wordBytes is the text an entry for word w (lower case lw) keeps.
func wordBytes(w, lw string) int {
	if lw == w {
		return len(w) // lowerASCIIFast returned w itself
	}
	return len(w) + len(lw)
}

// add computes word w's entry: its features in each role, as tokenFeatures
// would add them, summed per role and pass.
func (c *wordCache) add(w string, first bool) int32 {
	f := &c.f
	lw := lowerASCIIFast(w)
	b, nf := shapeBytes(w, f.sbuf)
	f.sbuf = b
	shape, sshape := f.intern(b[:nf]), f.intern(b[nf:])
	r, _ := utf8.DecodeRuneInString(w)
	cl := int32(-1)
	if f.clus != nil {
		if v, ok := f.clus[lw]; ok {
			cl = int32(v)
		}
	}
	useLex := f.lex != nil && f.set&FeatLexicon != 0
	var brown uint32
	var ew, el lexEntry
	if useLex {
		brown, ew, el = f.lex.lookup(w, lw, first)
	}
	f.feats = f.feats[:0]
	// roleSelf: wordFeatures, affixFeatures, shapeFeatures (length),
	// clusterFeatures and lexFeatures of the token itself
	f.add(hseed(tBias))
	f.add(hstr(hseed(tWord), w))
	f.add(hstr(hseed(tLower), lw))
	f.add(hstr(hseed(tShape), shape))
	f.add(hstr(hseed(tSShape), sshape))
	nr := f.affixFeatures(lw)
	f.add(hint(hseed(tLen), uint64(min(nr, 12))))
	if cl >= 0 {
		f.clusterTemplate(tClus, cl)
	}
	if useLex {
		f.brownTemplate(tBrown, brown)
		f.lexFreqFeatures(w, lw, ew, el, first)
	}
	c.roleAt[roleM2] = len(f.feats)
	f.add(hstr(hseed(tLowerM2), lw))
	f.add(hstr(hseed(tSShapeM2), sshape))
	c.roleAt[roleM1] = len(f.feats)
	f.nextWordRole([4]uint64{tLowerM1, tSShapeM1, tClusM1, tBrownM1}, lw, sshape, cl, brown, useLex)
	// (a sentence-initial word is never a right neighbour: its P1 and P2
	// sums, which would use its fallback Brown code, are never read)
	c.roleAt[roleP1] = len(f.feats)
	f.nextWordRole([4]uint64{tLowerP1, tSShapeP1, tClusP1, tBrownP1}, lw, sshape, cl, brown, useLex)
	c.roleAt[roleP2] = len(f.feats)
	f.add(hstr(hseed(tLowerP2), lw))
	f.add(hstr(hseed(tSShapeP2), sshape))
	c.roleAt[numRoles] = len(f.feats)
	return c.store(cachedWord{lw: lw, sshape: sshape, cap: unicode.IsUpper(r), letter: unicode.IsLetter(r)})
}

// nextWordRole adds the features of a word as the left or right
// neighbour (templates tpl: lower case, short shape, cluster, Brown code)
// with lower case lw, short shape sshape, cluster cl (-1 none) and Brown
// code brown (when useLex).
func (f *featurizer) nextWordRole(tpl [4]uint64, lw, sshape string, cl int32, brown uint32, useLex bool) {
	f.add(hstr(hseed(tpl[0]), lw))
	f.add(hstr(hseed(tpl[1]), sshape))
	if cl >= 0 {
		f.clusterTemplate(tpl[2], cl)
	}
	if useLex {
		f.brownTemplate(tpl[3], brown)
	}
}

// store appends an entry for cw with the sums of the scratch features of
// each role (c.f.feats split by c.roleAt) and returns its index.
func (c *wordCache) store(cw cachedWord) int32 {
	e := int32(len(c.words))
	c.words, c.uses = append(c.words, cw), append(c.uses, 1)
	base := len(c.sums)
	c.sums = append(c.sums, make([]int32, c.stride)...)
	// the rows' weight offsets per pass, looked up in two rounds (first
	// probes, then the rest) as in lookupRows, so that the cache misses
	// overlap
	feats := c.f.feats[:c.roleAt[numRoles]]
	if cap(c.off) < len(feats) {
		c.off = make([]int32, len(feats))
		c.probe = make([]slot, len(feats))
		c.pprobe = make([]pairSlot, len(feats))
	}
	off, pp := c.off[:len(feats)], c.pprobe[:len(feats)]
	if c.passes == 2 {
		c.m.pairProbe(feats, pp)
	} else {
		c.m.rowsOf(feats, c.probe[:len(feats)], off)
	}
	for r := 0; r < numRoles; r++ {
		for p := 0; p < c.passes; p++ {
			var acc [numLabels]int32
			w := c.w[p]
			for k := c.roleAt[r]; k < c.roleAt[r+1]; k++ {
				o := off[k]
				if c.passes == 2 {
					o = pp[k].first
					if p == 1 {
						o = pp[k].second
					}
				}
				if o < 0 {
					continue
				}
				wv := w[int(o)*numLabels : int(o)*numLabels+numLabels]
				for l := range acc {
					acc[l] += int32(wv[l])
				}
			}
			copy(c.sums[base+(r*c.passes+p)*numLabels:], acc[:])
		}
	}
	return e
}

// addTo writes into dst (n×numLabels) the cached sums of pass p for each
// token of a sentence of n tokens with entries ent: the token's own, and
// those of its neighbours (or the boundaries) in their roles.
func (c *wordCache) addTo(dst []int32, ent []int32, p int) {
	n := len(ent)
	at := func(e int32, r int) []int32 {
		o := int(e)*c.stride + (r*c.passes+p)*numLabels
		return c.sums[o : o+numLabels]
	}
	for i := 0; i < n; i++ {
		var acc [numLabels]int32
		eM2, eM1, eP1, eP2 := int32(entBOS), int32(entBOS), int32(entEOS), int32(entEOS)
		if i >= 2 {
			eM2 = ent[i-2]
		}
		if i >= 1 {
			eM1 = ent[i-1]
		}
		if i+1 < n {
			eP1 = ent[i+1]
		}
		if i+2 < n {
			eP2 = ent[i+2]
		}
		s, m2, m1, p1, p2 := at(ent[i], roleSelf), at(eM2, roleM2), at(eM1, roleM1), at(eP1, roleP1), at(eP2, roleP2)
		for l := range acc {
			acc[l] = s[l] + m2[l] + m1[l] + p1[l] + p2[l]
		}
		copy(dst[i*numLabels:i*numLabels+numLabels], acc[:])
	}
}

// extractContext is extract for a model with word cache c: it adds only
// the features that depend on more than one word or on the sentence, in
// extract's order but without the one-word ones, and sets f.ent to each
// token's entry in c (c.room(words) must have been called).
func (f *featurizer) extractContext(words []string, c *wordCache) {
	n := len(words)
	f.reset(n)
	f.ent = f.ent[:0]
	capCount, alpha := 0, 0
	for i, w := range words {
		e := c.get(w, i == 0)
		f.ent = append(f.ent, e)
		cw := &c.words[e]
		f.info[i] = tokInfo{w: w, lw: cw.lw, sshape: cw.sshape, cap: cw.cap}
		f.lw[i] = cw.lw
		if cw.letter {
			alpha++
			if cw.cap {
				capCount++
			}
		}
	}
	sentCase := sentenceCase(capCount, alpha)
	f.gaz.match(f.lw, f.bm, f.im, f.lm, f.um)
	if f.set&FeatRunGaz != 0 {
		f.longest(n)
	}
	f.capRuns(n)
	if f.set&FeatOrgLex != 0 {
		f.olexMatch(n)
	}
	for i := 0; i < n; i++ {
		f.contextFeatures(i, sentCase)
		f.off = append(f.off, len(f.feats))
	}
}

// contextFeatures is tokenFeatures without the one-word features (see
// wordCache.add).
func (f *featurizer) contextFeatures(i int, sentCase uint64) {
	in := &f.info[i]
	f.add(hjoin3(hseed(tSShape3), f.ssAt(i-1), in.sshape, f.ssAt(i+1)))
	f.ngramFeatures(i, in.lw)
	pos := f.sentPos(i)
	f.add(hstr(hint(hseed(tPos), pos), in.sshape))
	f.add(hjoin(hseed(tLowerM1Shape), f.lwAt(i-1), in.sshape))
	f.add(hjoin(hseed(tShapeLowerP1), in.sshape, f.lwAt(i+1)))
	f.add(hstr(hint(hseed(tSentCase), sentCase), in.sshape))
	capb := f.capPattern(i, in)
	f.add(hint(hint(hseed(tCapNext), capb), pos))
	f.spanFeatures(i, in, capb, sentCase)
	f.extraFeatures(i)
}
