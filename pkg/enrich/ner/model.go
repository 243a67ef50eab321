package ner

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"sort"
	"sync"

	kgzip "github.com/klauspost/compress/gzip"
)

// Model is a structured averaged perceptron over IOB2 labels with hashed
// features, gazetteer features and first-order Viterbi decoding. A *Model is
// immutable after loading and safe for concurrent use.
type Model struct {
	Lang  string // language the model was trained for ("en", "multi")
	bits  uint
	gaz   *Gazetteer
	clus  map[string]uint16
	feats FeatureSet
	first *Model  // first-pass model of a stacked model
	olex  *OrgLex // company lexicon (FeatOrgLex), names seen in training removed
	lex   *WordLexicon
	slots []slot // open addressing over the weight rows
	w     []int16
	scale float32
	trans [numLabels][numLabels]float32
	start [numLabels]float32
	// Consistency enables document-level label consistency in TagDocument
	// and Extract (on by default).
	consistency bool
	pool        sync.Pool
	// shareOnce sets shareFirst: whether the first pass of a stacked model
	// computes exactly this model's features but the document ones
	// (firstSharesFeatures).
	shareOnce  sync.Once
	shareFirst bool
	// pair indexes the weight rows of both passes of a stacked model that
	// shares features: one lookup per feature serves both.
	pair []pairSlot
	// idle word caches (see wordCache); wordCacheOff disables them and
	// cacheWords, when set, bounds their entries (both for tests, set before
	// the model is shared)
	cacheMu      sync.Mutex
	caches       []*wordCache
	wordCacheOff bool
	cacheWords   int
}

// slot is one entry of the weight table: key = feature row+1 (0 = empty)
// and the row's weight offset / numLabels, side by side so that a lookup
// touches one cache line.
type slot struct {
	key uint32
	idx int32
}

type workspace struct {
	f     featurizer
	emit  []float32
	back  []int8
	score []float32
	words []string
	probe []slot  // emissions: each feature's first probe
	rows  []int32 // emissions: each feature's weight row, -1 none
	// the second pass's weight rows of a document's first-pass features,
	// when it shares them (tagDoc): sentence i's token offsets into base are
	// baseOff[baseAt[i] : baseAt[i]+len(sentence)+1].
	base    []int32
	baseOff []int32
	baseAt  []int32
	pprobe  []pairSlot // first probes in Model.pair
	doc     docBuf     // the second pass's document features
	// word-cache sums: add the sentence's (n×numLabels) for this pass;
	// add2 the document's for the second pass of a stacked model, sentence
	// i's from add2At[i] (tokens×numLabels)
	add    []int32
	add2   []int32
	add2At []int32
}

func (m *Model) ws() *workspace {
	if w, ok := m.pool.Get().(*workspace); ok {
		return w
	}
	return &workspace{f: featurizer{bits: m.bits, gaz: m.gaz, clus: m.clus, lex: m.lex, set: m.feats, olex: orgLexView{lex: m.olex}}}
}

func (m *Model) lookup(row uint32) int32 {
	key := row + 1
	mask := uint32(len(m.slots) - 1)
	for s := (key * 2654435761) & mask; ; s = (s + 1) & mask {
		sl := m.slots[s]
		if sl.key == key {
			return sl.idx
		}
		if sl.key == 0 {
			return -1
		}
	}
}

// emissions fills ws.emit (n*numLabels) from ws.f's features.
func (m *Model) emissions(ws *workspace, n int) {
	if len(m.slots) == 0 {
		m.accumulate(ws, n, nil)
		return
	}
	m.accumulate(ws, n, m.lookupRows(ws, ws.f.feats[:ws.f.off[n]]))
}

// lookupRows returns the weight row of each feature (-1 none) in ws.rows.
// It looks the features up in two passes (first probes, then the rest of
// the probes), and accumulate reads the weights in a third, so that the
// cache misses of one pass do not wait on each other: a hit-or-miss branch
// right after each load made them serial.
func (m *Model) lookupRows(ws *workspace, feats []uint32) []int32 {
	if cap(ws.probe) < len(feats) {
		ws.probe = make([]slot, len(feats))
	}
	probe, rows := ws.probe[:len(feats)], growRows(ws, len(feats))
	m.rowsOf(feats, probe, rows)
	return rows
}

// rowsOf sets rows[k] to feature feats[k]'s weight row (-1 none), using
// probe (len(feats)) for the first probes: see lookupRows.
func (m *Model) rowsOf(feats []uint32, probe []slot, rows []int32) {
	slots := m.slots
	mask := uint32(len(slots) - 1)
	for k, r := range feats {
		probe[k] = slots[((r+1)*2654435761)&mask]
	}
	for k, r := range feats {
		switch sl := probe[k]; sl.key {
		case r + 1:
			rows[k] = sl.idx
		case 0:
			rows[k] = -1
		default:
			rows[k] = m.lookup(r)
		}
	}
}

// growRows returns ws.rows with length n.
func growRows(ws *workspace, n int) []int32 {
	if cap(ws.rows) < n {
		ws.rows = make([]int32, n)
	}
	return ws.rows[:n]
}

// accumulate fills ws.emit (n*numLabels) with the sums of the weight rows
// of each token's features (rows, split by ws.f.off; -1 skipped).
func (m *Model) accumulate(ws *workspace, n int, rows []int32) {
	m.accumulateWith(ws, n, rows, nil)
}

// accumulateWith is accumulate that adds add[i*numLabels:][:numLabels] to
// token i's sums (add nil: nothing).
func (m *Model) accumulateWith(ws *workspace, n int, rows []int32, add []int32) {
	if cap(ws.emit) < n*numLabels {
		ws.emit = make([]float32, n*numLabels)
	}
	ws.emit = ws.emit[:n*numLabels]
	if rows == nil {
		clear(ws.emit)
		return
	}
	for i := 0; i < n; i++ {
		var acc [numLabels]int32
		if add != nil {
			acc = [numLabels]int32(add[i*numLabels : i*numLabels+numLabels])
		}
		for _, o := range rows[ws.f.off[i]:ws.f.off[i+1]] {
			if o < 0 {
				continue
			}
			wv := m.w[int(o)*numLabels : int(o)*numLabels+numLabels]
			for l := range acc {
				acc[l] += int32(wv[l])
			}
		}
		e := ws.emit[i*numLabels : i*numLabels+numLabels]
		for l := range acc {
			e[l] = float32(acc[l]) * m.scale
		}
	}
}

var negInf = float32(math.Inf(-1))

// traceEmit, when set (by tests only, before tagging), sees every
// sentence's emissions before decoding.
var traceEmit func(m *Model, emit []float32)

// viterbi decodes the best IOB2-valid label sequence into out.
func viterbi(emit []float32, n int, trans *[numLabels][numLabels]float32, start *[numLabels]float32, back []int8, score []float32, out []int) {
	if n == 0 {
		return
	}
	cur := score[:numLabels]
	nxt := score[numLabels : 2*numLabels]
	for l := 0; l < numLabels; l++ {
		if allowed(lO, l) {
			cur[l] = start[l] + emit[l]
		} else {
			cur[l] = negInf
		}
	}
	// transitions by target label, -Inf where IOB2 forbids them: a forbidden
	// predecessor then scores -Inf and never wins, as if skipped (scores are
	// finite or -Inf, never NaN or +Inf)
	var tr [numLabels][numLabels]float32
	for p := 0; p < numLabels; p++ {
		for l := 0; l < numLabels; l++ {
			if allowed(p, l) {
				tr[l][p] = trans[p][l]
			} else {
				tr[l][p] = negInf
			}
		}
	}
	for i := 1; i < n; i++ {
		e := emit[i*numLabels : i*numLabels+numLabels]
		for l := 0; l < numLabels; l++ {
			best, arg := negInf, 0
			t := &tr[l]
			// I-X may only follow B-X or I-X: the other predecessors score
			// -Inf and never win, so they are not scored
			p0, p1 := 0, numLabels
			if l != lO && l%2 == 0 {
				p0, p1 = l-1, l+1
			}
			for p := p0; p < p1; p++ {
				if s := cur[p] + t[p]; s > best {
					best, arg = s, p
				}
			}
			nxt[l] = best + e[l]
			back[i*numLabels+l] = int8(arg)
		}
		cur, nxt = nxt, cur
	}
	best, arg := negInf, 0
	for l := 0; l < numLabels; l++ {
		if cur[l] > best {
			best, arg = cur[l], l
		}
	}
	out[n-1] = arg
	for i := n - 1; i > 0; i-- {
		arg = int(back[i*numLabels+arg])
		out[i-1] = arg
	}
}

// tagInto tags one sentence, writing label indexes into out (len(words)),
// and, if conf is non-nil (len(words)*numTypes), each token's probability of
// every type (O, PER, ORG, LOC, MISC) from its emission scores.
func (m *Model) tagInto(ws *workspace, words []string, out []int, conf []float32) {
	if len(words) == 0 {
		return
	}
	ws.f.extract(words)
	m.decode(ws, len(words), out, conf)
}

// decode tags one sentence of n tokens from the features in ws.f (see
// tagInto).
func (m *Model) decode(ws *workspace, n int, out []int, conf []float32) {
	m.emissions(ws, n)
	m.finish(ws, n, out, conf)
}

// finish decodes a sentence of n tokens from the emissions in ws.emit (see
// tagInto).
func (m *Model) finish(ws *workspace, n int, out []int, conf []float32) {
	if cap(ws.back) < n*numLabels {
		ws.back = make([]int8, n*numLabels)
	}
	if len(ws.score) < 2*numLabels {
		ws.score = make([]float32, 2*numLabels)
	}
	if traceEmit != nil {
		traceEmit(m, ws.emit[:n*numLabels])
	}
	viterbi(ws.emit, n, &m.trans, &m.start, ws.back[:n*numLabels], ws.score, out)
	if conf != nil {
		for i := 0; i < n; i++ {
			e := ws.emit[i*numLabels : i*numLabels+numLabels]
			mx := e[0]
			for _, v := range e {
				mx = max(mx, v)
			}
			var z float64
			var p [numTypes]float64
			for l, v := range e {
				x := math.Exp(float64(v - mx))
				z += x
				p[labType(l)] += x // B-X + I-X, or O
			}
			for t := range p {
				conf[i*numTypes+t] = float32(p[t] / z)
			}
		}
	}
}

// TagWords returns IOB2 tags for one tokenised sentence (no document-level
// consistency). Safe for concurrent use.
func (m *Model) TagWords(words []string) []string {
	ws := m.ws()
	defer m.pool.Put(ws)
	out := make([]int, len(words))
	m.tagDoc(ws, [][]string{words}, [][]int{out}, nil)
	tags := make([]string, len(words))
	for i, l := range out {
		tags[i] = labelNames[l]
	}
	return tags
}

// TagDocument returns IOB2 tags for the tokenised sentences of one document,
// applying document-level consistency. Safe for concurrent use.
func (m *Model) TagDocument(sents [][]string) [][]string {
	ws := m.ws()
	defer m.pool.Put(ws)
	labs := make([][]int, len(sents))
	for i, s := range sents {
		labs[i] = make([]int, len(s))
	}
	m.tagDoc(ws, sents, labs, nil)
	if m.consistency {
		docConsistency(sents, labs, nil)
	}
	out := make([][]string, len(sents))
	for i, ls := range labs {
		out[i] = make([]string, len(ls))
		for j, l := range ls {
			out[i][j] = labelNames[l]
		}
	}
	return out
}

// SetConsistency turns document-level consistency on or off. It must be
// called before the model is shared between goroutines.
func (m *Model) SetConsistency(on bool) { m.consistency = on }

// Stacked reports whether the model is a two-pass (stacked) model.
func (m *Model) Stacked() bool { return m.first != nil }

// Serialisation -------------------------------------------------------------

// magic starts a model file; version 2 adds the feature set after the
// language. Version 1 files (feature set 0) are still read.
const (
	magic   = "NFNER2\n"
	magicV1 = "NFNER1\n"
)

// WriteTo writes the model gzip-compressed: the header (language, feature
// set, hash bits, scale, transitions), the gazetteer, the word clusters, the
// weights, then, per feature set, the first pass, the company lexicon and
// the word lexicon.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	mw := &modelWriter{bw: bufio.NewWriter(zw)}
	mw.bw.WriteString(magic)
	m.writeHeader(mw)
	writeHashMap(mw, m.gaz.m)
	m.writeClusters(mw)
	m.writeWeights(mw)
	if m.feats&FeatStacked != 0 {
		b, err := m.encodeFirst()
		if err != nil {
			return cw.n, err
		}
		mw.uv(uint64(len(b)))
		mw.bw.Write(b)
	}
	if m.feats&FeatOrgLex != 0 {
		m.writeOrgLex(mw)
	}
	if m.feats&FeatLexicon != 0 {
		m.writeLexicon(mw)
	}
	if err := mw.bw.Flush(); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// modelWriter encodes model fields; write errors surface at Flush.
type modelWriter struct {
	bw  *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (w *modelWriter) uv(x uint64) { w.bw.Write(w.buf[:binary.PutUvarint(w.buf[:], x)]) }
func (w *modelWriter) sv(x int64)  { w.bw.Write(w.buf[:binary.PutVarint(w.buf[:], x)]) }
func (w *modelWriter) str(s string) {
	w.uv(uint64(len(s)))
	w.bw.WriteString(s)
}
func (w *modelWriter) f32(f float32) { binary.Write(w.bw, binary.LittleEndian, f) }

// writeHashMap writes a hash-keyed map (gazetteer, company lexicon): the
// count, the sorted keys delta-coded, then the values in key order.
func writeHashMap[V uint8 | uint16](w *modelWriter, hm map[uint64]V) {
	keys := sortedKeys(hm)
	w.deltaKeys(keys)
	for _, k := range keys {
		w.uv(uint64(hm[k]))
	}
}

// deltaKeys writes the count of sorted keys, then each key's difference
// from the previous one.
func (w *modelWriter) deltaKeys(keys []uint64) {
	w.uv(uint64(len(keys)))
	var prev uint64
	for _, k := range keys {
		w.uv(k - prev)
		prev = k
	}
}

// sortedKeys returns the keys of hm in increasing order.
func sortedKeys[V any](hm map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(hm))
	for k := range hm {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// writeHeader writes the language, feature set, hash bits, weight scale,
// transition and start scores.
func (m *Model) writeHeader(w *modelWriter) {
	w.str(m.Lang)
	w.uv(uint64(m.feats))
	w.uv(uint64(m.bits))
	w.f32(m.scale)
	for a := range m.trans {
		for b := range m.trans[a] {
			w.f32(m.trans[a][b])
		}
	}
	for _, v := range m.start {
		w.f32(v)
	}
}

// writeClusters writes the word clusters sorted by word.
func (m *Model) writeClusters(w *modelWriter) {
	ck := make([]string, 0, len(m.clus))
	for k := range m.clus {
		ck = append(ck, k)
	}
	sort.Strings(ck)
	w.uv(uint64(len(ck)))
	for _, k := range ck {
		w.str(k)
		w.uv(uint64(m.clus[k]))
	}
}

// writeWeights writes the weight rows sorted by row id, delta-coded, then
// the weights column-major by label (it compresses better).
func (m *Model) writeWeights(w *modelWriter) {
	type rw struct {
		row uint32
		off int32
	}
	rows := make([]rw, 0, len(m.slots))
	for _, sl := range m.slots {
		if sl.key != 0 {
			rows = append(rows, rw{sl.key - 1, sl.idx})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].row < rows[j].row })
	w.uv(uint64(len(rows)))
	var pr uint32
	for _, r := range rows {
		w.uv(uint64(r.row - pr))
		pr = r.row
	}
	for l := 0; l < numLabels; l++ {
		for _, r := range rows {
			w.sv(int64(m.w[int(r.off)*numLabels+l]))
		}
	}
}

// writeOrgLex writes the company lexicon like the gazetteer.
func (m *Model) writeOrgLex(w *modelWriter) {
	var hm map[uint64]uint8
	if m.olex != nil {
		hm = m.olex.m
	}
	writeHashMap(w, hm)
}

// writeLexicon writes 1 when the word lexicon is the first pass's, else 0
// and the lexicon.
func (m *Model) writeLexicon(w *modelWriter) {
	if m.lex != nil && m.first != nil && m.first.lex == m.lex {
		w.uv(1) // shared with the first pass
		return
	}
	w.uv(0)
	ks := m.lex.keys()
	w.uv(uint64(len(ks)))
	for _, k := range ks {
		w.str(k)
		w.uv(uint64(m.lex.m[k]))
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// modelReader decodes model fields from the decompressed model in b; after
// the first error every read returns a zero value and err keeps that error.
type modelReader struct {
	b   []byte
	p   int // read position in b
	err error
}

var errVarintOverflow = errors.New("binary: varint overflows a 64-bit integer")

func (r *modelReader) fail(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

// uv reads a uvarint; the errors are binary.ReadUvarint's (io.EOF at the
// end, io.ErrUnexpectedEOF in the middle of a number, overflow).
func (r *modelReader) uv() uint64 {
	if r.err != nil {
		return 0
	}
	// fast path: a one-byte number
	if r.p < len(r.b) && r.b[r.p] < 0x80 {
		x := uint64(r.b[r.p])
		r.p++
		return x
	}
	x, n := binary.Uvarint(r.b[r.p:])
	switch {
	case n > 0:
		r.p += n
		return x
	case n == 0 && r.p == len(r.b):
		r.err = io.EOF
	case n == 0:
		r.err = io.ErrUnexpectedEOF
	default:
		r.err = errVarintOverflow
	}
	return 0
}

func (r *modelReader) sv() int64 {
	ux := r.uv()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// bytes returns the next n bytes (aliasing b), or nil and an error when
// fewer are left.
func (r *modelReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.p) {
		r.p = len(r.b)
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	b := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return b
}

// strBytes reads a length-prefixed string, aliasing b.
func (r *modelReader) strBytes() []byte {
	n := r.uv()
	if n > 1<<20 {
		r.fail(errors.New("string too long"))
		return nil
	}
	return r.bytes(n)
}

func (r *modelReader) str() string { return string(r.strBytes()) }

func (r *modelReader) f32() float32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

// deltaKeys reads n delta-coded keys. Reading stops at the first error;
// n is bounded by the bytes left (each key takes at least one).
func (r *modelReader) deltaKeys(n uint64) []uint64 {
	keys := make([]uint64, 0, min(n, uint64(len(r.b)-r.p)))
	var prev uint64
	for i := uint64(0); i < n && r.err == nil; i++ {
		prev += r.uv()
		keys = append(keys, prev)
	}
	return keys
}

// ReadModel reads a model written by WriteTo.
func ReadModel(rd io.Reader) (*Model, error) {
	b, err := inflate(rd, 0)
	if err != nil {
		return nil, err
	}
	return decodeModel(b, nil)
}

// LoadModelBytes reads a gzip'd model from b.
func LoadModelBytes(b []byte) (*Model, error) { return loadModelBytes(b, nil) }

// loadModelBytes is LoadModelBytes for the first pass of a stacked model
// when outer is that model (see decodeModel).
func loadModelBytes(b []byte, outer *outerSections) (*Model, error) {
	d, err := inflate(bytes.NewReader(b), gzipSizeHint(b))
	if err != nil {
		return nil, err
	}
	return decodeModel(d, outer)
}

// gzipSizeHint returns the uncompressed size a gzip stream's trailer
// states, bounded by what deflate can expand len(b) bytes to (1032:1) and
// by 1 GiB, so a corrupt trailer cannot make inflate allocate much.
func gzipSizeHint(b []byte) int {
	if len(b) < 18 {
		return 0
	}
	n := int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	return int(min(n, int64(len(b))*1032, 1<<30))
}

// inflate decompresses the gzip stream rd into memory (sizeHint: the
// expected size, 0 unknown).
func inflate(rd io.Reader, sizeHint int) ([]byte, error) {
	zr, err := kgzip.NewReader(rd)
	if err != nil {
		return nil, fmt.Errorf("ner: model: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(sizeHint + bytes.MinRead)
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("ner: model: %w", err)
	}
	return buf.Bytes(), nil
}

// outerSections are the raw gazetteer and clusters sections of a stacked
// model with what they decoded to: its first pass, stored with the same
// bytes, shares them instead of decoding them again.
type outerSections struct {
	gazRaw, clusRaw []byte
	gaz             *Gazetteer
	clus            map[string]uint16
}

// decodeModel decodes a decompressed model. When outer is set (the first
// pass of a stacked model), a gazetteer or clusters section with the same
// bytes as outer's is not decoded again but shared.
func decodeModel(b []byte, outer *outerSections) (*Model, error) {
	if len(b) < len(magic) || (string(b[:len(magic)]) != magic && string(b[:len(magic)]) != magicV1) {
		return nil, errors.New("ner: model: bad magic")
	}
	r := &modelReader{b: b, p: len(magic)}
	m := &Model{consistency: true}
	if err := m.readHeader(r, string(b[:len(magic)]) == magic); err != nil {
		return nil, err
	}
	var own outerSections
	gz0 := r.p
	if err := m.readGazetteer(r, outer); err != nil {
		return nil, err
	}
	own.gazRaw, own.gaz = b[gz0:r.p], m.gaz
	cl0 := r.p
	if err := m.readClusters(r, outer); err != nil {
		return nil, err
	}
	own.clusRaw, own.clus = b[cl0:r.p], m.clus
	rows, err := m.readWeights(r)
	if err != nil {
		return nil, err
	}
	if m.feats&FeatStacked != 0 {
		if err := m.readFirst(r, &own); err != nil {
			return nil, err
		}
	}
	if m.feats&FeatOrgLex != 0 {
		if err := m.readOrgLex(r); err != nil {
			return nil, err
		}
	}
	if m.feats&FeatLexicon != 0 {
		if err := m.readLexicon(r); err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("ner: model: %w", r.err)
	}
	if r.p < len(r.b) {
		return nil, errors.New("ner: model: trailing data after the last section")
	}
	m.buildTable(rows)
	if f := m.first; f != nil {
		// the passes of a stacked model load equal gazetteers and clusters:
		// keep one copy (less memory, warmer caches, and firstSharesFeatures
		// sees pointers equal); readFirst shared them already when stored
		// with the same bytes
		if f.gaz != nil && m.gaz != nil && f.gaz != m.gaz && maps.Equal(f.gaz.m, m.gaz.m) {
			f.gaz = m.gaz
		}
		if f.clus != nil && maps.Equal(f.clus, m.clus) {
			f.clus = m.clus
		}
	}
	return m, nil
}

// readHeader reads the language, the feature set (version 2 files), hash
// bits, weight scale, transition and start scores.
func (m *Model) readHeader(r *modelReader, v2 bool) error {
	m.Lang = r.str()
	if v2 {
		m.feats = FeatureSet(r.uv())
		if unknown := m.feats &^ featKnown; unknown != 0 {
			return fmt.Errorf("ner: model: unknown feature bits %b (model from a newer newsflow?)", unknown)
		}
	}
	m.bits = uint(r.uv())
	if m.bits < 8 || m.bits > 30 {
		return fmt.Errorf("ner: model: bad hash bits %d", m.bits)
	}
	m.scale = r.f32()
	for a := range m.trans {
		for b := range m.trans[a] {
			m.trans[a][b] = r.f32()
		}
	}
	for i := range m.start {
		m.start[i] = r.f32()
	}
	return nil
}

// readGazetteer reads the gazetteer, or shares outer's when its section
// has the same bytes.
func (m *Model) readGazetteer(r *modelReader, outer *outerSections) error {
	p0 := r.p
	ng := r.uv()
	if r.err != nil || ng > 1<<26 {
		return fmt.Errorf("ner: model: header: %v", r.err)
	}
	if outer != nil && outer.gaz != nil && r.skipSame(p0, 2*ng, outer.gazRaw) {
		m.gaz = outer.gaz
		return nil
	}
	m.gaz = &Gazetteer{m: readHashMap[uint16](r, ng)}
	return nil
}

// skipSame reports whether the section that started at p0 and goes on with
// n more uvarints has exactly the bytes raw; if so it is skipped, else the
// read position is left as it was.
func (r *modelReader) skipSame(p0 int, n uint64, raw []byte) bool {
	p := r.p
	if uint64(len(raw)) < uint64(p-p0)+n || !bytes.Equal(r.b[p0:p], raw[:p-p0]) {
		return false
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.uv()
	}
	if r.err == nil && bytes.Equal(r.b[p0:r.p], raw) {
		return true
	}
	r.p, r.err = p, nil
	return false
}

// readHashMap reads n delta-coded keys, then their values, as written by
// writeHashMap.
func readHashMap[V uint8 | uint16](r *modelReader, n uint64) map[uint64]V {
	keys := r.deltaKeys(n)
	hm := make(map[uint64]V, len(keys))
	for _, k := range keys {
		if r.err != nil {
			break
		}
		hm[k] = V(r.uv())
	}
	return hm
}

// readClusters reads the word clusters, or shares outer's when its section
// has the same bytes.
func (m *Model) readClusters(r *modelReader, outer *outerSections) error {
	p0 := r.p
	nc := r.uv()
	if r.err != nil || nc > 1<<24 {
		return fmt.Errorf("ner: model: gazetteer: %v", r.err)
	}
	if nc > 0 && outer != nil && outer.clus != nil && r.skipStrings(p0, nc, outer.clusRaw) {
		m.clus = outer.clus
		return nil
	}
	if nc > 0 {
		m.clus = make(map[string]uint16, min(nc, uint64(len(r.b)-r.p)))
		for i := uint64(0); i < nc && r.err == nil; i++ {
			k := r.str()
			m.clus[k] = uint16(r.uv())
		}
	}
	return nil
}

// skipStrings is skipSame for a section of n (string, uvarint) pairs.
func (r *modelReader) skipStrings(p0 int, n uint64, raw []byte) bool {
	p := r.p
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.strBytes()
		r.uv()
	}
	if r.err == nil && bytes.Equal(r.b[p0:r.p], raw) {
		return true
	}
	r.p, r.err = p, nil
	return false
}

// readWeights reads the weight rows and weights; it returns the row ids for
// buildTable.
func (m *Model) readWeights(r *modelReader) ([]uint32, error) {
	nr := r.uv()
	if r.err != nil || nr > 1<<28 {
		return nil, fmt.Errorf("ner: model: clusters: %v", r.err)
	}
	rows := make([]uint32, 0, min(nr, uint64(len(r.b)-r.p)))
	var pr uint32
	for i := uint64(0); i < nr && r.err == nil; i++ {
		pr += uint32(r.uv())
		rows = append(rows, pr)
	}
	if r.err != nil {
		return nil, fmt.Errorf("ner: model: rows: %w", r.err)
	}
	m.w = make([]int16, len(rows)*numLabels)
	for l := 0; l < numLabels && r.err == nil; l++ {
		for i := range rows {
			m.w[i*numLabels+l] = int16(r.sv())
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("ner: model: weights: %w", r.err)
	}
	return rows, nil
}

// readFirst reads the first-pass model of a stacked model (outer: the
// stacked model's own sections, which the first pass may share).
func (m *Model) readFirst(r *modelReader, outer *outerSections) error {
	n := r.uv()
	if r.err != nil || n > 1<<30 {
		return fmt.Errorf("ner: model: first pass: bad length (%v)", r.err)
	}
	b := r.bytes(n)
	if r.err != nil {
		return fmt.Errorf("ner: model: first pass: %w", r.err)
	}
	first, err := loadModelBytes(b, outer)
	if err != nil {
		return fmt.Errorf("ner: model: first pass: %w", err)
	}
	if first.feats&FeatStacked != 0 {
		return errors.New("ner: model: nested stacked model")
	}
	m.first = first
	return nil
}

// readOrgLex reads the company lexicon.
func (m *Model) readOrgLex(r *modelReader) error {
	n := r.uv()
	if r.err != nil || n > 1<<24 {
		return fmt.Errorf("ner: model: org lexicon: bad length (%v)", r.err)
	}
	m.olex = &OrgLex{m: readHashMap[uint8](r, n)}
	if r.err != nil {
		return fmt.Errorf("ner: model: org lexicon: %w", r.err)
	}
	return nil
}

// readLexicon reads the word lexicon, or takes the first pass's when shared.
func (m *Model) readLexicon(r *modelReader) error {
	switch r.uv() {
	case 1:
		if m.first == nil || m.first.lex == nil {
			return errors.New("ner: model: lexicon: shared, but no first pass with a lexicon")
		}
		m.lex = m.first.lex
	case 0:
		n := r.uv()
		if r.err != nil || n > 1<<24 {
			return fmt.Errorf("ner: model: lexicon: bad length (%v)", r.err)
		}
		m.lex = &WordLexicon{m: r.lexiconMap(n)}
	default:
		r.err = errors.New("bad lexicon flag")
	}
	if r.err != nil {
		return fmt.Errorf("ner: model: lexicon: %w", r.err)
	}
	return nil
}

// lexiconMap reads n (word, value) pairs into a map. The words are
// substrings of one copy of the section (one allocation instead of one per
// word), and the map is sized once the section has been read through.
func (r *modelReader) lexiconMap(n uint64) map[string]uint32 {
	p0 := r.p
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.strBytes()
		r.uv()
	}
	if r.err != nil {
		return nil
	}
	sec := string(r.b[p0:r.p])
	sr := &modelReader{b: r.b[p0:r.p]}
	lm := make(map[string]uint32, n)
	for i := uint64(0); i < n; i++ {
		k := sr.strBytes()
		o := sr.p - len(k)
		lm[sec[o:sr.p]] = uint32(sr.uv())
	}
	return lm
}

func (m *Model) buildTable(rows []uint32) {
	size := 1
	for size < 2*len(rows)+1 {
		size <<= 1
	}
	m.slots = make([]slot, size)
	mask := uint32(size - 1)
	for i, r := range rows {
		key := r + 1
		s := (key * 2654435761) & mask
		for m.slots[s].key != 0 {
			s = (s + 1) & mask
		}
		m.slots[s] = slot{key, int32(i)}
	}
}

// AddTypeBias adds b to every token's emission score for the B- and I-
// labels of typ ("PER", "ORG", "LOC", "MISC") by shifting the weights of
// the always-on bias feature, in the second pass of a stacked model and,
// when firstPass, also in its first pass. A positive b trades precision for
// recall. The change is stored by WriteTo. Not safe for concurrent use with
// tagging; call it before sharing the model.
func (m *Model) AddTypeBias(typ string, b float32, firstPass bool) error {
	t := typeIndex(typ)
	if t <= 0 {
		return fmt.Errorf("ner: type bias: unknown type %q", typ)
	}
	if firstPass && m.first != nil {
		if err := m.first.AddTypeBias(typ, b, false); err != nil {
			return err
		}
	}
	if len(m.slots) == 0 || m.scale == 0 {
		return fmt.Errorf("ner: type bias: empty model")
	}
	o := m.lookup(finalize(hseed(tBias), m.bits))
	if o < 0 {
		return fmt.Errorf("ner: type bias: no bias feature in the model")
	}
	d := math.Round(float64(b) / float64(m.scale))
	for _, l := range [2]int{2*t - 1, 2 * t} {
		v := float64(m.w[int(o)*numLabels+l]) + d
		m.w[int(o)*numLabels+l] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
	return nil
}
