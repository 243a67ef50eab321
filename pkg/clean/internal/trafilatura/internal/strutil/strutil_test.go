package strutil

import (
	"strings"
	"testing"
)

func TestCollapseMatchesFields(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a", "a ", "a  b", "a b", "a\tb", "\u00a0a\u00a0", "a\u0085b", "é  ü", "a \xff b", "\xff", "  x  y  ", "a\u3000b", "already collapsed text"} {
		if got, want := Collapse(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("Collapse(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCollapse(f *testing.F) {
	f.Add(" a\u00a0 b\t")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Collapse(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("Collapse(%q) = %q, want %q", s, got, want)
		}
	})
}
