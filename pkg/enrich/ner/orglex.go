package ner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// OrgLex is a company-name lexicon (normalised SEC names) behind the
// FeatOrgLex membership feature. Training computes the feature fold-wise: a
// sentence sees a name only if no training document of another fold has it
// as a gold ORG span, so the weight learnt is that of a lexicon hit on a name
// the rest of the training data does not cover; a trained model keeps only
// the names never seen as ORG in its training data (the seen ones are left to
// the word features). Matching is on lower-cased tokens, so all-caps text
// matches too. Immutable after construction; safe for concurrent reads.
type OrgLex struct {
	m map[uint64]uint8 // phrase hash (gazStep over lower-cased tokens) -> olEntry|olPrefix
}

const (
	olEntry  = 1
	olPrefix = 2
)

// Len returns the number of stored keys (phrases and prefixes).
func (o *OrgLex) Len() int {
	if o == nil {
		return 0
	}
	return len(o.m)
}

func (o *OrgLex) add(phrase string) bool {
	toks := Tokenize(phrase)
	if len(toks) == 0 || len(toks) > gazMaxLen {
		return false
	}
	h := uint64(gazSeed)
	for i, t := range toks {
		h = gazStep(h, lowerASCIIFast(t.Text))
		if i < len(toks)-1 {
			o.m[h] |= olPrefix
		}
	}
	isNew := o.m[h]&olEntry == 0
	o.m[h] |= olEntry
	return isNew
}

// BuildOrgLex reads sec_company_tickers.json in dir and returns the
// lexicon of normalised company names: "The" and legal suffixes (Inc, Corp,
// Co, Ltd, plc, Holdings, Group, ...) and generic trailing words stripped,
// commas and full stops dropped. Names for which skip reports true (given
// the lower-cased words; e.g. single ordinary words, person names) are left
// out.
func BuildOrgLex(dir string, skip func(lowerWords []string) bool) (*OrgLex, error) {
	b, err := os.ReadFile(filepath.Join(dir, "sec_company_tickers.json"))
	if err != nil {
		return nil, fmt.Errorf("ner: org lexicon: %w", err)
	}
	var m map[string]struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("ner: org lexicon: sec_company_tickers.json: %w", err)
	}
	o := &OrgLex{m: map[uint64]uint8{}}
	for _, c := range m {
		t := strings.NewReplacer(",", " ", ".", " ").Replace(c.Title)
		f := strings.Fields(t)
		if len(f) > 0 && strings.EqualFold(f[0], "the") {
			f = f[1:]
		}
		for len(f) > 1 {
			l := strings.ToLower(f[len(f)-1])
			if !legalSuffix[l] && !genericTail[l] && !strings.HasPrefix(l, "/") && l != "holdings" && l != "group" {
				break
			}
			f = f[:len(f)-1]
		}
		if len(f) == 0 {
			continue
		}
		st := strings.Join(f, " ")
		if len(st) < 3 || (skip != nil && skip(strings.Fields(strings.ToLower(st)))) {
			continue
		}
		o.add(st)
	}
	return o, nil
}

// orgSeen maps phrase hashes of gold ORG spans to the mask of folds whose
// sentences contain them.
func orgSeen(sents []Sentence, fold func(i int) int) map[uint64]uint16 {
	seen := map[uint64]uint16{}
	for i, s := range sents {
		k := fold(i)
		for _, sp := range SpansFromTags(s.Tags) {
			if sp.Type != "ORG" || sp.End-sp.Start > gazMaxLen {
				continue
			}
			h := uint64(gazSeed)
			for _, w := range s.Words[sp.Start:sp.End] {
				h = gazStep(h, lowerASCIIFast(w))
			}
			seen[h] |= 1 << (k & 15)
		}
	}
	return seen
}

// without returns a copy of o whose entries seen as ORG (any fold) are gone.
func (o *OrgLex) without(seen map[uint64]uint16) *OrgLex {
	out := &OrgLex{m: make(map[uint64]uint8, len(o.m))}
	for k, v := range o.m {
		if seen[k] != 0 {
			v &^= olEntry
		}
		if v != 0 {
			out.m[k] = v
		}
	}
	return out
}

// orgLexView is the featurizer's view of the lexicon: during training,
// entries seen as ORG in folds other than fold are hidden.
type orgLexView struct {
	lex  *OrgLex
	seen map[uint64]uint16 // nil at tagging time
	fold int
}

// olexMatch fills f.olPos with 1+position code (0 none, 1 U, 2 B, 3 I, 4 L)
// of the longest lexicon match covering each token, matches starting at a
// capitalised token and ending at one.
func (f *featurizer) olexMatch(n int) {
	if cap(f.olPos) < n {
		f.olPos = make([]uint8, n)
	}
	f.olPos = f.olPos[:n]
	for i := range f.olPos {
		f.olPos[i] = 0
	}
	v := f.olex
	if v.lex == nil || len(v.lex.m) == 0 {
		return
	}
	for i := 0; i < n; {
		if !f.info[i].cap {
			i++
			continue
		}
		best := -1
		h := uint64(gazSeed)
		for k := i; k < n && k-i < gazMaxLen; k++ {
			h = gazStep(h, f.lw[k])
			e, ok := v.lex.m[h]
			if !ok {
				break
			}
			if e&olEntry != 0 && f.info[k].cap && (v.seen == nil || v.seen[h]&^(1<<(v.fold&15)) == 0) {
				best = k
			}
			if e&olPrefix == 0 {
				break
			}
		}
		if best < 0 {
			i++
			continue
		}
		if best == i {
			f.olPos[i] = 1
		} else {
			f.olPos[i] = 2
			for j := i + 1; j < best; j++ {
				f.olPos[j] = 3
			}
			f.olPos[best] = 4
		}
		i = best + 1
	}
}
