// Package alias normalises entity mentions (titles, possessives), holds the user-extensible
// alias table (YAML: canonical name, type, aliases) that doubles as a gazetteer of well-known
// entities, and merges the mentions of one document into entities: "President Joe Biden" and
// "Biden" → Joe Biden; "Anthony Blinken", "Blinkin", "Blinken" → one person.
//
// A *Table is immutable after loading and safe for concurrent use; Merge is pure.
package alias

//go:generate go run ./internal/buildnames -data ../../../../shared/ml/gazetteers -out data/forenames.txt.gz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/newsflow/newsflow/pkg/enrich/internal/phrase"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

//go:embed data/aliases.yaml
var defaultYAML []byte

//go:embed data/forenames.txt.gz
var forenamesGz []byte

// Entry is one alias-table row.
type Entry struct {
	Canonical string   `yaml:"canonical"`
	Type      string   `yaml:"type"`
	Aliases   []string `yaml:"aliases"`
	// Scan, when false, uses the entry only to rename mentions found by the model, not as a
	// gazetteer phrase. Default true.
	Scan *bool `yaml:"scan"`
}

// Table maps folded aliases to entries and finds them in text.
type Table struct {
	entries []Entry
	byKey   map[string]int
	scan    *phrase.Matcher
}

var validTypes = map[string]bool{"PER": true, "ORG": true, "LOC": true, "MISC": true}

// ParseTable parses YAML entries on top of base (nil for none); later entries win.
func ParseTable(data []byte, base *Table) (*Table, error) {
	var es []Entry
	if err := yaml.Unmarshal(data, &es); err != nil {
		return nil, fmt.Errorf("alias: parse table: %w", err)
	}
	var all []Entry
	if base != nil {
		all = append(all, base.entries...)
	}
	for i, e := range es {
		e.Canonical = strings.TrimSpace(e.Canonical)
		e.Type = strings.ToUpper(strings.TrimSpace(e.Type))
		if e.Canonical == "" {
			return nil, fmt.Errorf("alias: entry %d: empty canonical", i)
		}
		if !validTypes[e.Type] {
			return nil, fmt.Errorf("alias: entry %d (%s): type %q not PER/ORG/LOC/MISC", i, e.Canonical, e.Type)
		}
		all = append(all, e)
	}
	t := &Table{entries: all, byKey: map[string]int{}}
	b := phrase.NewBuilder()
	for i, e := range all {
		for _, s := range append([]string{e.Canonical}, e.Aliases...) {
			k, n := phrase.Key(s)
			if n == 0 {
				continue
			}
			t.byKey[k] = i
		}
	}
	// register scan phrases after overrides are settled: only the entry that owns a key
	for i, e := range all {
		if e.Scan != nil && !*e.Scan {
			continue
		}
		for _, s := range append([]string{e.Canonical}, e.Aliases...) {
			if k, _ := phrase.Key(s); t.byKey[k] == i {
				b.Add(s, i)
			}
		}
	}
	t.scan = b.Build()
	return t, nil
}

var (
	defOnce sync.Once
	defTab  *Table
)

// DefaultTable returns the built-in table (data/aliases.yaml).
func DefaultTable() *Table {
	defOnce.Do(func() {
		t, err := ParseTable(defaultYAML, nil)
		if err != nil {
			panic(err) // embedded data; covered by tests
		}
		defTab = t
	})
	return defTab
}

// LoadTable returns the default table extended by the YAML files, in order.
func LoadTable(files ...string) (*Table, error) {
	t := DefaultTable()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("alias: read %s: %w", f, err)
		}
		if t, err = ParseTable(b, t); err != nil {
			return nil, fmt.Errorf("alias: %s: %w", f, err)
		}
	}
	return t, nil
}

// Lookup returns the entry whose canonical name or alias folds to the same key as s.
func (t *Table) Lookup(s string) (Entry, bool) {
	k, _ := phrase.Key(s)
	i, ok := t.byKey[k]
	if !ok {
		return Entry{}, false
	}
	return t.entries[i], true
}

// Hit is a table phrase found in text.
type Hit struct {
	Start, End int
	Entry      Entry
}

// Find returns the table phrases in toks (leftmost-longest, capitalised).
func (t *Table) Find(toks []textutil.Token) []Hit { return t.FindFolded(toks, nil) }

// FindFolded is Find with tokens pre-folded by phrase.Fold (nil: computed).
func (t *Table) FindFolded(toks []textutil.Token, folded []string) []Hit {
	var out []Hit
	for _, m := range t.scan.FindAllFolded(toks, folded) {
		out = append(out, Hit{Start: m.Start, End: m.End, Entry: t.entries[m.IDs[0]]})
	}
	return out
}

var (
	foreOnce  sync.Once
	forenames map[string]bool
)

// notForenames are census forenames that are far more often ordinary capitalised words.
var notForenames = map[string]bool{
	"Will": true, "May": true, "June": true, "April": true, "August": true, "Joy": true, "Hope": true,
	"Faith": true, "Grace": true, "Rose": true, "Mark": true, "Major": true, "King": true, "Long": true,
	"Young": true, "Summer": true, "Autumn": true, "Dawn": true, "Star": true, "Price": true, "Page": true,
	"Chase": true, "Case": true, "Lane": true, "Lee": false, "Sunday": true, "Monday": true, "Friday": true,
	"Christian": true, "China": true, "India": true, "Israel": true, "Jordan": true, "Georgia": true, "Paris": true,
	"Sydney": true, "Florence": true, "Victoria": true, "Virginia": true, "Carolina": true, "Dakota": true, "Austin": true,
	"Her": true, "His": true, "The": true, "Many": true, "Miss": true, "Sun": true, "Moon": true, "See": true,
}

// IsForename reports whether s is a common forename (US census 1990, sigpwned lists) that is
// not also a frequent ordinary word.
func IsForename(s string) bool {
	foreOnce.Do(func() {
		forenames = map[string]bool{}
		zr, err := gzip.NewReader(bytes.NewReader(forenamesGz))
		if err != nil {
			panic(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			forenames[sc.Text()] = true
		}
	})
	return forenames[s] && !notForenames[s]
}
