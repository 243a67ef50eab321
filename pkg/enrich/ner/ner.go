// Package ner finds named entities (PER, ORG, LOC, MISC) in text.
//
// The default model is embedded in the binary (see Default) and never
// downloaded. All exported functions are safe for concurrent use.
package ner

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Span is one entity mention: byte offsets [Start, End) into the text, the
// type (PER, ORG, LOC or MISC), the covered text and a confidence score in [0,1].
type Span struct {
	Start, End int
	Type       string
	Text       string
	Score      float64
}

// Model tags entities. A *Model is immutable after loading and safe for
// concurrent use.
type Model struct {
	heuristic bool
}

var (
	defOnce  sync.Once
	defModel *Model
)

// Default returns the embedded model, loading it once. It never blocks on I/O
// beyond decompressing embedded bytes.
func Default() *Model {
	defOnce.Do(func() { defModel = &Model{heuristic: true} })
	return defModel
}

// Extract returns the entity spans of text in order. Input beyond
// MaxInputBytes is ignored, so time per call is bounded. Safe for concurrent use.
func (m *Model) Extract(text string) []Span {
	if len(text) > MaxInputBytes {
		cut := MaxInputBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	toks := Tokenize(text)
	var out []Span
	for _, s := range Sentences(text, toks) {
		i := 0
		for i < len(s) {
			r, _ := utf8.DecodeRuneInString(s[i].Text)
			if !unicode.IsUpper(r) || i == 0 {
				i++
				continue
			}
			j := i + 1
			for j < len(s) {
				r2, _ := utf8.DecodeRuneInString(s[j].Text)
				if !unicode.IsUpper(r2) {
					break
				}
				j++
			}
			out = append(out, Span{Start: s[i].Start, End: s[j-1].End, Type: "MISC", Text: text[s[i].Start:s[j-1].End], Score: 0.1})
			i = j
		}
	}
	return out
}
