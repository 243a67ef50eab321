package alias

import (
	"testing"

	"github.com/newsflow/newsflow/pkg/enrich/internal/phrase"
	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

func FuzzParseTable(f *testing.F) {
	f.Add(defaultYAML, false)
	f.Add([]byte("- {canonical: Joe Biden, type: per, aliases: [Biden, President Biden]}\n"), true)
	f.Add([]byte("- {canonical: NATO, type: ORG, scan: false, aliases: [OTAN, '']}\n"), true)
	f.Add([]byte("- {canonical: '  ', type: PER}\n"), false)
	f.Add([]byte("- {canonical: X, type: THING}\n"), false)
	f.Add([]byte("- {canonical: Zürich, type: LOC, aliases: [Zurich, ZÜRICH, \"\\u0000\"]}\n"), true)
	f.Add([]byte("canonical: not a list\n"), false)
	f.Add([]byte("[[[["), false)
	f.Add([]byte(""), true)
	base, err := ParseTable([]byte("- {canonical: United Nations, type: ORG, aliases: [UN]}\n"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, withBase bool) {
		var b *Table
		if withBase {
			b = base
		}
		tab, err := ParseTable(data, b)
		if err != nil {
			if tab != nil {
				t.Fatalf("error %v with non-nil table", err)
			}
			return
		}
		if tab == nil {
			t.Fatal("nil table without error")
		}
		for i, e := range tab.entries {
			if e.Canonical == "" {
				t.Fatalf("entry %d: empty canonical", i)
			}
			if !validTypes[e.Type] {
				t.Fatalf("entry %d: invalid type %q", i, e.Type)
			}
			// every name with tokens is reachable by Lookup (possibly overridden by a later entry)
			if _, n := phrase.Key(e.Canonical); n > 0 {
				if got, ok := tab.Lookup(e.Canonical); !ok || got.Canonical == "" {
					t.Fatalf("entry %d: Lookup(%q) = %+v, %v", i, e.Canonical, got, ok)
				}
			}
			for _, h := range tab.Find(textutil.Tokenize(e.Canonical)) {
				if h.Start < 0 || h.End <= h.Start || h.Entry.Canonical == "" {
					t.Fatalf("entry %d: bad hit %+v", i, h)
				}
			}
		}
	})
}
