package ner

import (
	"bytes"
	"fmt"
	"maps"
	"unicode"
	"unicode/utf8"
)

// Stacked (two-pass) tagging: a first-pass model tags the whole document;
// the second-pass model sees, besides its own features, how the first pass
// labelled the other occurrences of each word in the same document (type and
// position inside the span, counts, majority) and the first-pass labels of
// the token and its left neighbour. The second pass is trained on jackknifed
// first-pass output (TrainStacked), so it learns how far to trust it.

const (
	tDocTP   = iota + 200 // (type, position in span) seen elsewhere
	tDocT                 // (type, count bucket) seen elsewhere
	tDocMaj               // majority type elsewhere
	tDocNone              // capitalised word seen elsewhere, never in an entity
	tP1                   // first-pass label of the token
	tP1Bi                 // first-pass labels of previous and current token
)

// withOwnLabel adds the first-pass labels of the token itself as features
// (EWT test +0.9 F1 over document features alone).
const withOwnLabel = true

// docExtra holds the extra feature seeds of one sentence: token t's are
// h[off[t]:off[t+1]].
type docExtra struct {
	h   []uint64
	off []int32
}

// spanPos is a token's position within an entity span.
func spanPos(labs []int, j int) int {
	l := labs[j]
	if l == lO {
		return 0
	}
	begin := l%2 == 1
	end := j+1 >= len(labs) || labs[j+1] != l+boolInt(begin)
	switch {
	case begin && end:
		return 1 // single
	case begin:
		return 2 // first
	case end:
		return 3 // last
	}
	return 4 // inner
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func labType(l int) int { return (l + 1) / 2 } // 0 = O, 1 PER, 2 ORG, 3 LOC, 4 MISC

// docFeatures computes the second-pass extra features of a document from the
// first-pass labels labs (one slice per sentence of words).
func docFeatures(words [][]string, labs [][]int) []docExtra {
	return new(docBuf).features(words, labs)
}

// docStat is what the first pass did with one (lower-cased) word of a
// document.
type docStat struct {
	tp  [5][5]int32 // type x position
	n   int32       // occurrences
	ent int32       // occurrences inside an entity
}

// docBuf holds docFeatures' working memory, reused across documents (the
// returned features alias it until the next call).
type docBuf struct {
	st    map[string]int32 // lower-cased word → index in stats
	stats []docStat
	keys  []string // each token's lower-cased form, document order
	h     []uint64
	off   []int32
	out   []docExtra
}

// features is docFeatures using (and overwriting) b's memory.
func (b *docBuf) features(words [][]string, labs [][]int) []docExtra {
	if b.st == nil {
		b.st = map[string]int32{}
	}
	clear(b.st)
	b.stats, b.keys = b.stats[:0], b.keys[:0]
	for i, ws := range words {
		for j, w := range ws {
			k := lowerASCIIFast(w)
			b.keys = append(b.keys, k)
			x, ok := b.st[k]
			if !ok {
				x = int32(len(b.stats))
				b.stats = append(b.stats, docStat{})
				b.st[k] = x
			}
			s := &b.stats[x]
			s.n++
			if l := labs[i][j]; l != lO {
				s.tp[labType(l)][spanPos(labs[i], j)]++
				s.ent++
			}
		}
	}
	h, off := b.h[:0], b.off[:0]
	t := 0 // token index in the document
	for i, ws := range words {
		off = append(off, 0)
		base := len(h)
		for j, w := range ws {
			l := labs[i][j]
			if withOwnLabel {
				h = append(h, hint(hseed(tP1), uint64(l)))
				pl := uint64(lO)
				if j > 0 {
					pl = uint64(labs[i][j-1])
				}
				h = append(h, hint(hint(hseed(tP1Bi), pl), uint64(l)))
			}
			s := &b.stats[b.st[b.keys[t]]]
			t++
			r, _ := utf8.DecodeRuneInString(w)
			capd := unicode.IsUpper(r)
			if s.n > 1 && (capd || s.ent > 0) && unicode.IsLetter(r) {
				h = s.appendFeatures(h, l, labs[i], j, capd)
			}
			off = append(off, int32(len(h)-base))
		}
	}
	b.h, b.off = h, off
	// slice the flat buffers per sentence once they no longer move
	out := b.out[:0]
	hb, ob := 0, 0
	for _, ws := range words {
		o := off[ob : ob+len(ws)+1]
		n := int(o[len(ws)])
		out = append(out, docExtra{h: h[hb : hb+n : hb+n], off: o})
		hb += n
		ob += len(ws) + 1
	}
	b.out = out
	return out
}

// appendFeatures appends the document features of a token labelled l (at j
// in sentence labels labs) whose word the first pass saw s times: the
// (type, position) pairs seen elsewhere, the types with count buckets, the
// majority type, or none seen for a capitalised word.
func (s *docStat) appendFeatures(h []uint64, l int, labs []int, j int, capd bool) []uint64 {
	own := [2]int{-1, -1}
	if l != lO {
		own = [2]int{labType(l), spanPos(labs, j)}
	}
	var byType [5]int32
	for t := 1; t < 5; t++ {
		for p := 1; p < 5; p++ {
			c := s.tp[t][p]
			if own[0] == t && own[1] == p {
				c--
			}
			if c > 0 {
				h = append(h, hint(hint(hseed(tDocTP), uint64(t)), uint64(p)))
				byType[t] += c
			}
		}
	}
	bt, bc, tie, tot := 0, int32(0), false, int32(0)
	for t := 1; t < 5; t++ {
		c := byType[t]
		tot += c
		if c == 0 {
			continue
		}
		b := uint64(min(c, 3))
		h = append(h, hint(hint(hseed(tDocT), uint64(t)), b))
		if c > bc {
			bt, bc, tie = t, c, false
		} else if c == bc {
			tie = true
		}
	}
	if bt > 0 && !tie {
		// majority type, and whether all other mentions agree
		h = append(h, hint(hint(hseed(tDocMaj), uint64(bt)), uint64(boolInt(bc == tot))))
	}
	if tot == 0 && capd {
		h = append(h, hint(hseed(tDocNone), uint64(min(s.n-1, 3))))
	}
	return h
}

// tagDoc tags the sentences of one document into labs (and confs if non-nil),
// running the first pass when the model is stacked. It does not apply
// document consistency.
func (m *Model) tagDoc(ws *workspace, words [][]string, labs [][]int, confs [][]float32) {
	var c *wordCache
	if m.cachePasses() > 0 {
		c = m.getCache()
		defer m.putCache(c)
	}
	if m.first == nil {
		for i, w := range words {
			var cf []float32
			if confs != nil {
				cf = confs[i]
			}
			if c != nil && len(w) > 0 && c.room(w) {
				m.tagCached(ws, c, w, labs[i], cf)
				continue
			}
			m.tagInto(ws, w, labs[i], cf)
		}
		return
	}
	share := m.firstSharesFeatures()
	fws := m.first.ws()
	ws.base, ws.baseOff, ws.baseAt = ws.base[:0], ws.baseOff[:0], ws.baseAt[:0]
	ws.add2, ws.add2At = ws.add2[:0], ws.add2At[:0]
	for i, w := range words {
		if !share {
			m.first.tagInto(fws, w, labs[i], nil)
			continue
		}
		// the first pass, looking its features up for both passes at once
		ws.baseAt = append(ws.baseAt, int32(len(ws.baseOff)))
		ws.add2At = append(ws.add2At, int32(len(ws.add2)))
		if len(w) == 0 {
			continue
		}
		n := len(w)
		cached := c != nil && c.room(w)
		if cached {
			fws.f.extractContext(w, c)
		} else {
			fws.f.extract(w)
		}
		b := int32(len(ws.base))
		for _, o := range fws.f.off[:n+1] {
			ws.baseOff = append(ws.baseOff, b+int32(o))
		}
		rows := m.pairRows(fws, fws.f.feats[:fws.f.off[n]], &ws.base)
		// the word cache's sums: the second pass's for tagShared, the
		// first's for now (none without the cache)
		a2 := len(ws.add2)
		ws.add2 = append(ws.add2, make([]int32, n*numLabels)...)
		var add []int32
		if cached {
			c.addTo(ws.add2[a2:], fws.f.ent, 1)
			add = growAdd(fws, n)
			c.addTo(add, fws.f.ent, 0)
		}
		m.first.accumulateWith(fws, n, rows, add)
		m.first.finish(fws, n, labs[i], nil)
	}
	m.first.pool.Put(fws)
	ex := ws.doc.features(words, labs)
	for i, w := range words {
		var cf []float32
		if confs != nil {
			cf = confs[i]
		}
		if share {
			m.tagShared(ws, len(w), ws.baseOff[ws.baseAt[i]:], ws.add2[ws.add2At[i]:], ex[i], labs[i], cf)
			continue
		}
		ws.f.extra, ws.f.extraOff = ex[i].h, ex[i].off
		m.tagInto(ws, w, labs[i], cf)
	}
	ws.f.extra, ws.f.extraOff = nil, nil
	// a very long document's buffers do not stay in the pool
	if cap(ws.base) > maxPooled || cap(ws.add2) > maxPooled {
		ws.base, ws.baseOff, ws.add2 = nil, nil, nil
	}
	if cap(ws.doc.h) > maxPooled || cap(ws.doc.keys) > maxPooled {
		ws.doc = docBuf{}
	}
}

// tagCached is tagInto with word cache c of m (a single-pass model), which
// has room for words.
func (m *Model) tagCached(ws *workspace, c *wordCache, words []string, out []int, conf []float32) {
	n := len(words)
	ws.f.extractContext(words, c)
	add := growAdd(ws, n)
	c.addTo(add, ws.f.ent, 0)
	m.accumulateWith(ws, n, m.lookupRows(ws, ws.f.feats[:ws.f.off[n]]), add)
	m.finish(ws, n, out, conf)
}

// growAdd returns ws.add with length n×numLabels.
func growAdd(ws *workspace, n int) []int32 {
	if cap(ws.add) < n*numLabels {
		ws.add = make([]int32, n*numLabels)
	}
	return ws.add[:n*numLabels]
}

// maxPooled bounds the document-wide buffers a pooled workspace keeps
// (entries; a 600-word article needs about 40,000 feature rows).
const maxPooled = 1 << 20

// tagShared is the second pass's tagInto for a sentence of n tokens whose
// features the first pass looked up (ws.base holds their rows in m at the
// token offsets off, add the word cache's sums of the others): each
// token's features are its first-pass ones followed by its document ones,
// exactly what the featurizer would append.
func (m *Model) tagShared(ws *workspace, n int, off []int32, add []int32, ex docExtra, out []int, conf []float32) {
	if n == 0 {
		return
	}
	f := &ws.f
	rows := ws.rows[:0]
	f.off = append(f.off[:0], 0)
	for t := 0; t < n; t++ {
		rows = append(rows, ws.base[off[t]:off[t+1]]...)
		for _, h := range ex.h[ex.off[t]:ex.off[t+1]] {
			rows = append(rows, m.lookup(finalize(h, m.bits)))
		}
		f.off = append(f.off, len(rows))
	}
	ws.rows = rows
	m.accumulateWith(ws, n, rows, add)
	m.finish(ws, n, out, conf)
}

// pairSlot is an entry of Model.pair: a feature row (key = row+1, 0 empty)
// and its weight offsets in the first and the second pass (-1 none).
type pairSlot struct {
	key           uint32
	first, second int32
}

// buildPair indexes the rows of both passes of m (see Model.pair).
func (m *Model) buildPair() {
	n := 0
	for _, sl := range m.first.slots {
		if sl.key != 0 {
			n++
		}
	}
	for _, sl := range m.slots {
		if sl.key != 0 && m.first.lookup(sl.key-1) < 0 {
			n++
		}
	}
	size := 1
	for size < 2*n+1 {
		size <<= 1
	}
	m.pair = make([]pairSlot, size)
	mask := uint32(size - 1)
	at := func(key uint32) *pairSlot {
		s := (key * 2654435761) & mask
		for m.pair[s].key != 0 && m.pair[s].key != key {
			s = (s + 1) & mask
		}
		if m.pair[s].key == 0 {
			m.pair[s] = pairSlot{key, -1, -1}
		}
		return &m.pair[s]
	}
	for _, sl := range m.first.slots {
		if sl.key != 0 {
			at(sl.key).first = sl.idx
		}
	}
	for _, sl := range m.slots {
		if sl.key != 0 {
			at(sl.key).second = sl.idx
		}
	}
}

// pairLookup returns row's entry in m.pair (-1, -1 if absent).
func (m *Model) pairLookup(row uint32) pairSlot {
	key := row + 1
	mask := uint32(len(m.pair) - 1)
	for s := (key * 2654435761) & mask; ; s = (s + 1) & mask {
		switch sl := m.pair[s]; sl.key {
		case key:
			return sl
		case 0:
			return pairSlot{key, -1, -1}
		}
	}
}

// pairRows returns each feature's weight row in the first pass (in
// fws.rows) and appends its row in the second pass to second; the lookups
// are done in two passes as in lookupRows.
func (m *Model) pairRows(fws *workspace, feats []uint32, second *[]int32) []int32 {
	if cap(fws.pprobe) < len(feats) {
		fws.pprobe = make([]pairSlot, len(feats))
	}
	probe, rows := fws.pprobe[:len(feats)], growRows(fws, len(feats))
	m.pairProbe(feats, probe)
	sec := *second
	for k, sl := range probe {
		rows[k] = sl.first
		sec = append(sec, sl.second)
	}
	*second = sec
	return rows
}

// pairProbe sets probe[k] to feature feats[k]'s entry in m.pair ({row+1,
// -1, -1} if absent), looked up in two rounds (first probes, then the
// rest) as in lookupRows.
func (m *Model) pairProbe(feats []uint32, probe []pairSlot) {
	mask := uint32(len(m.pair) - 1)
	for k, r := range feats {
		probe[k] = m.pair[((r+1)*2654435761)&mask]
	}
	for k, r := range feats {
		switch probe[k].key {
		case r + 1:
		case 0:
			probe[k] = pairSlot{r + 1, -1, -1}
		default:
			probe[k] = m.pairLookup(r)
		}
	}
}

// firstSharesFeatures reports whether m's first pass extracts m's own
// features but the document ones: the same hash bits, feature templates,
// gazetteer, word clusters and lexicons. The shipped English model does.
func (m *Model) firstSharesFeatures() bool {
	m.shareOnce.Do(func() {
		// both passes need weights for the pair table (an empty model
		// tags nothing either way)
		m.shareFirst = sameFeaturizer(m.first, m) && len(m.slots) > 0 && len(m.first.slots) > 0
		if m.shareFirst {
			m.buildPair()
		}
	})
	return m.shareFirst
}

// sameFeaturizer reports whether first's featurizer gives exactly second's
// features when second's document features are left out.
func sameFeaturizer(first, second *Model) bool {
	if first == nil || second == nil || first.bits != second.bits || first.feats != second.feats&^FeatStacked || first.lex != second.lex {
		return false
	}
	if (first.gaz == nil) != (second.gaz == nil) || first.gaz != nil && first.gaz != second.gaz && !maps.Equal(first.gaz.m, second.gaz.m) {
		return false
	}
	if (first.clus == nil) != (second.clus == nil) || !maps.Equal(first.clus, second.clus) {
		return false
	}
	if (first.olex == nil) != (second.olex == nil) || first.olex != nil && first.olex != second.olex && !maps.Equal(first.olex.m, second.olex.m) {
		return false
	}
	return true
}

// TrainStacked trains a two-pass model on documents: a first-pass model on
// all sentences, folds jackknifed first-pass models whose output on their
// held-out documents feeds the second pass's document features, and the
// second-pass model. cfg applies to every model; Features gains FeatStacked.
func TrainStacked(docs []Document, gaz *Gazetteer, clus map[string]uint16, cfg TrainConfig, folds int) (*Model, error) {
	if folds < 2 {
		return nil, fmt.Errorf("ner: train stacked: folds %d < 2", folds)
	}
	cfg.defaults()
	var all []Sentence
	var sentFold []int // lexicon folds = jackknife folds (by document)
	for di, d := range docs {
		all = append(all, d.Sentences...)
		for range d.Sentences {
			sentFold = append(sentFold, di%folds)
		}
	}
	cfg.sentFold = sentFold
	logw := cfg.Log
	if logw != nil {
		fmt.Fprintf(logw, "stacked: first pass on %d sentences\n", len(all))
	}
	first, err := Train(all, gaz, clus, cfg)
	if err != nil {
		return nil, err
	}
	// jackknifed first-pass labels
	labs := make([][][]int, len(docs))
	quiet := cfg
	quiet.Log = nil
	for k := 0; k < folds; k++ {
		var tr []Sentence
		var trFold []int
		for di, d := range docs {
			if di%folds != k {
				tr = append(tr, d.Sentences...)
				for range d.Sentences {
					trFold = append(trFold, di%folds)
				}
			}
		}
		quiet.sentFold = trFold
		mk, err := Train(tr, gaz, clus, quiet)
		if err != nil {
			return nil, err
		}
		ws := mk.ws()
		for di, d := range docs {
			if di%folds != k {
				continue
			}
			labs[di] = make([][]int, len(d.Sentences))
			for si, s := range d.Sentences {
				labs[di][si] = make([]int, len(s.Words))
				mk.tagInto(ws, s.Words, labs[di][si], nil)
			}
		}
		if logw != nil {
			fmt.Fprintf(logw, "stacked: fold %d/%d done\n", k+1, folds)
		}
	}
	var extra []docExtra
	for di, d := range docs {
		words := make([][]string, len(d.Sentences))
		for si, s := range d.Sentences {
			words[si] = s.Words
		}
		extra = append(extra, docFeatures(words, labs[di])...)
	}
	cfg.Features |= FeatStacked
	m, err := train(all, extra, gaz, clus, cfg)
	if err != nil {
		return nil, err
	}
	m.first = first
	return m, nil
}

// writeFirst appends the first-pass model (length-prefixed) to a stacked
// model's serialisation.
func (m *Model) encodeFirst() ([]byte, error) {
	var b bytes.Buffer
	if _, err := m.first.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
