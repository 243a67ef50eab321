package quotes

import (
	"strings"
	"testing"
)

// refsFor marks every occurrence of each name in text as a mention of that entity.
func refsFor(text string, ents map[string][2]string) []Ref {
	var rs []Ref
	for surface, v := range ents {
		for off := 0; ; {
			i := strings.Index(text[off:], surface)
			if i < 0 {
				break
			}
			rs = append(rs, Ref{Start: off + i, End: off + i + len(surface), Name: v[0], Type: v[1]})
			off += i + len(surface)
		}
	}
	return rs
}

func TestFind(t *testing.T) {
	ents := map[string][2]string{
		"Smith": {"Jane Smith", "PER"}, "Jane Smith": {"Jane Smith", "PER"}, "Tom Jones": {"Tom Jones", "PER"},
		"Kremlin": {"Kremlin", "ORG"}, "Peskov": {"Dmitry Peskov", "PER"}, "the ministry": {"Ministry of Health", "ORG"},
	}
	tests := []struct {
		name, text, quote, speaker, cue string
	}{
		{"quote then name said", "“We will not back down from this fight,” Smith said on Monday.", "We will not back down from this fight,", "Jane Smith", "said"},
		{"quote then said name", "\"Prices will rise again next year,\" said Tom Jones, an economist.", "Prices will rise again next year,", "Tom Jones", "said"},
		{"name said colon quote", "Tom Jones said: “The plan is dead on arrival in Congress.”", "The plan is dead on arrival in Congress.", "Tom Jones", "said"},
		{"pronoun links to last person", "Jane Smith arrived late. “I have nothing more to add today,” she said.", "I have nothing more to add today,", "Jane Smith", "said"},
		{"description with apposition", "“The call is scheduled for tomorrow night,” a Kremlin spokesman said, Peskov, citing agencies.", "The call is scheduled for tomorrow night,", "Dmitry Peskov", "said"},
		{"description keeps text", "“We remain very concerned about the border,” a senior official said.", "We remain very concerned about the border,", "a senior official", "said"},
		{"according to", "According to Tom Jones, “the numbers simply do not add up here.”", "the numbers simply do not add up here.", "Tom Jones", "according to"},
		{"reported speech", "Jane Smith said that the company would cut 300 jobs next year.", "the company would cut 300 jobs next year.", "Jane Smith", "said that"},
		{"scare quotes ignored", "Critics called the plan “unacceptable”.", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs := Find(tt.text, refsFor(tt.text, ents), Options{})
			if tt.quote == "" {
				if len(qs) != 0 {
					t.Fatalf("got %+v, want none", qs)
				}
				return
			}
			for _, q := range qs {
				if q.Text == tt.quote {
					if q.Speaker != tt.speaker || q.Cue != tt.cue {
						t.Fatalf("speaker/cue = %q/%q, want %q/%q", q.Speaker, q.Cue, tt.speaker, tt.cue)
					}
					if !strings.HasPrefix(tt.text[q.Offset:], strings.TrimSpace(q.Text)[:3]) {
						t.Fatalf("offset %d does not point at the quote", q.Offset)
					}
					return
				}
			}
			t.Fatalf("quote %q not found in %+v", tt.quote, qs)
		})
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{"“a b c d,” he said.", "\"", "‘’’‘", "“unterminated said Smith", "X said that", "according to", "\xff“\xfe”"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs := []Ref{{Start: 0, End: min(3, len(s)), Name: "X", Type: "PER"}}
		for _, q := range Find(s, refs, Options{MinWords: 1}) {
			if q.Offset < 0 || q.Offset > len(s) {
				t.Fatalf("bad offset %+v", q)
			}
		}
	})
}
