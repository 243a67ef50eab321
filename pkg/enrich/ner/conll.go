package ner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Sentence is a tokenised sentence with one IOB2 tag per word (tags may be
// nil for unlabelled text).
type Sentence struct {
	Words []string
	Tags  []string
}

// Document is a sequence of sentences that belong together (used for
// document-level consistency and evaluation).
type Document struct {
	ID        string
	Sentences []Sentence
}

// ReadCoNLLFile reads a CoNLL-style NER file; see ReadCoNLL.
func ReadCoNLLFile(path string) ([]Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ner: open %s: %w", path, err)
	}
	defer f.Close()
	docs, err := ReadCoNLL(f)
	if err != nil {
		return nil, fmt.Errorf("ner: read %s: %w", path, err)
	}
	return docs, nil
}

// maxRunOn caps a sentence of a file without sentence breaks (OCR text
// with few full stops would otherwise give sentences of thousands of words).
const maxRunOn = 150

// ReadCoNLL reads the column formats used by the training data: Universal
// NER ("idx<TAB>token<TAB>tag[...]" with "# newdoc" / "# text" comments) and
// "token [cols...] tag" files with "-DOCSTART-" document breaks. Tags are
// normalised to IOB2 over PER/ORG/LOC/MISC: IOB1 and IO input is converted,
// OTH becomes MISC, unknown types become O. Files without blank lines
// between sentences are split at maxRunOn words; any sentence is split after
// sentence-final punctuation once it has 60 words.
func ReadCoNLL(r io.Reader) ([]Document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var docs []Document
	cur := Document{}
	var sent Sentence
	sawBlank := false // a file with blank lines marks its own sentences
	flushSent := func() {
		if len(sent.Words) > 0 {
			sent.Tags = toIOB2(sent.Tags)
			cur.Sentences = append(cur.Sentences, sent)
		}
		sent = Sentence{}
	}
	flushDoc := func() {
		flushSent()
		if len(cur.Sentences) > 0 {
			docs = append(docs, cur)
		}
		cur = Document{}
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		line = strings.TrimPrefix(line, "\ufeff")
		if strings.TrimSpace(line) == "" {
			sawBlank = true
			flushSent()
			continue
		}
		if strings.HasPrefix(line, "# ") && (strings.Contains(line, " = ") || strings.HasPrefix(line, "# newpar")) {
			if strings.HasPrefix(line, "# newdoc") {
				flushDoc()
				if i := strings.Index(line, "="); i >= 0 {
					cur.ID = strings.TrimSpace(line[i+1:])
				}
			}
			continue
		}
		var cols []string
		if strings.Contains(line, "\t") {
			cols = strings.Split(line, "\t")
		} else {
			cols = strings.Fields(line)
		}
		if cols[0] == "-DOCSTART-" {
			flushDoc()
			continue
		}
		var word, tag string
		if len(cols) >= 3 && isInt(cols[0]) && strings.Contains(line, "\t") {
			word, tag = cols[1], cols[2]
		} else if len(cols) >= 2 {
			word, tag = cols[0], cols[len(cols)-1]
		} else {
			word, tag = cols[0], "O"
		}
		if strings.Contains(cols[0], "-") && isRange(cols[0]) {
			continue // UD multiword token line
		}
		sent.Words = append(sent.Words, word)
		sent.Tags = append(sent.Tags, normTag(tag))
		if (len(sent.Words) >= 60 && (word == "." || word == "!" || word == "?")) || (!sawBlank && len(sent.Words) >= maxRunOn) {
			flushSent() // files without sentence breaks (europeana, OCR with few full stops)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flushDoc()
	return docs, nil
}

func isInt(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isRange(s string) bool {
	i := strings.IndexByte(s, '-')
	return i > 0 && isInt(s[:i]) && isInt(s[i+1:])
}

func normTag(t string) string {
	t = strings.ToUpper(strings.ReplaceAll(t, "_", "-"))
	if t == "O" || len(t) < 3 || (t[0] != 'B' && t[0] != 'I') || t[1] != '-' {
		return "O"
	}
	typ := t[2:]
	switch typ {
	case "PER", "PERSON":
		typ = "PER"
	case "ORG", "ORGANIZATION", "ORGANISATION", "CORPORATION":
		typ = "ORG"
	case "LOC", "LOCATION", "GPE":
		typ = "LOC"
	case "MISC", "OTH":
		typ = "MISC"
	default:
		return "O"
	}
	return t[:2] + typ
}

// toIOB2 converts IOB1/IO tags to IOB2 in place.
func toIOB2(tags []string) []string {
	prev := "O"
	for i, t := range tags {
		if strings.HasPrefix(t, "I-") && (prev == "O" || prev[2:] != t[2:]) {
			tags[i] = "B-" + t[2:]
		}
		prev = tags[i]
	}
	return tags
}

// SpansFromTags returns the [start,end) token spans with types from IOB2 tags.
func SpansFromTags(tags []string) []TokenSpan {
	var out []TokenSpan
	start, typ := -1, ""
	for i := 0; i <= len(tags); i++ {
		t := "O"
		if i < len(tags) {
			t = tags[i]
		}
		if start >= 0 && (t == "O" || t[0] == 'B' || t[2:] != typ) {
			out = append(out, TokenSpan{start, i, typ})
			start = -1
		}
		if t != "O" && start < 0 {
			start, typ = i, t[2:]
		}
	}
	return out
}

// TokenSpan is an entity over token indexes [Start, End).
type TokenSpan struct {
	Start, End int
	Type       string
}

// HeldOutFraction is the share of each Europeana file's sentences (its
// tail) kept out of training and scored by eval-ner as that language's test
// split: Europeana has no splits of its own.
const HeldOutFraction = 0.1

// SplitTail returns the sentences of docs (one document per file for
// Europeana) without their last frac, and that tail, each as one document.
// The split is by sentence count, deterministic, and never empty on either
// side for at least two sentences.
func SplitTail(docs []Document, frac float64) (train, test Document) {
	var all []Sentence
	for _, d := range docs {
		all = append(all, d.Sentences...)
	}
	k := int(float64(len(all)) * frac)
	if k == 0 && len(all) >= 2 {
		k = 1
	}
	cut := len(all) - k
	return Document{Sentences: all[:cut]}, Document{Sentences: all[cut:]}
}
