package quotes

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// reportedMatchesRef is reportedMatches as it was before it started the expression at the
// speaker words before the first verb: the reference it must equal.
func reportedMatchesRef(text string) [][]int {
	var out [][]int
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], " that ")
		if i < 0 {
			break
		}
		end := off + i + len(" that ")
		off = end
		a := sentenceStart(text, end-len(" that "))
		a = max(a, end-200)
		for a < end && !utf8.RuneStart(text[a]) {
			a++
		}
		if firstReportVerb(text[a:end]) < 0 {
			continue
		}
		m := reported.FindStringSubmatchIndex(text[a:end])
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += a
			}
		}
		out = append(out, m)
	}
	return out
}

var reportedSeeds = []string{
	"The minister said that the talks would resume.", "He told reporters that it was over.",
	"A senior European Union official in Brussels on Monday said that the plan failed.",
	"xThe big old tired very long named committee chair woman said that no.",
	"Jean-Pierre O’Neil Jr. said  that yes, and the U.S. State Department added that\tno.",
	"unsaid that things, said that, says that said that", "Über Straße said that ok", "the, said that x",
	"a b c d e f g h i j Kk said that y", "She\nsaid that\nit", "an argued that ", "Hesaid that he",
}

// TestReportedMatchesMatchesReference: the narrowed search finds the reference's matches on
// the seeds and the enrich test articles, whole and by paragraph.
func TestReportedMatchesMatchesReference(t *testing.T) {
	texts := append([]string(nil), reportedSeeds...)
	paths, _ := filepath.Glob("../testdata/*.txt")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
		texts = append(texts, strings.Split(string(b), "\n")...)
	}
	found := 0
	for _, s := range texts {
		got, want := reportedMatches(s), reportedMatchesRef(s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("reportedMatches(%.80q) = %v, reference %v", s, got, want)
		}
		found += len(want)
	}
	if found < 10 {
		t.Fatalf("only %d reported-speech matches: the comparison proves little", found)
	}
}

func FuzzReportedMatches(f *testing.F) {
	for _, s := range reportedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := reportedMatches(s), reportedMatchesRef(s); !reflect.DeepEqual(got, want) {
			t.Errorf("reportedMatches(%q) = %v, reference %v", s, got, want)
		}
	})
}

var preSpeakerSeeds = []string{
	"The minister said ", "Jean-Pierre O’Neil Jr., the U.S. State Department spokesman, told", "He said and she added ",
	"xThe big old tired very long named committee chair woman warned", "unsaid said1 said_ saidé said", "\tsaid", "said",
	"A senior European Union official in Brussels on Monday vowed", "They  argued, then he   maintained",
}

// TestPreSpeakerVerbMatchesReference: the narrowed search returns what FindAll over the whole
// text before the quote returns, on seeds, the enrich articles' lines and every text before
// a quote of the enrich articles.
func TestPreSpeakerVerbMatchesReference(t *testing.T) {
	texts := append([]string(nil), preSpeakerSeeds...)
	paths, _ := filepath.Glob("../testdata/*.txt")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		texts = append(texts, strings.Split(text, "\n")...)
		for _, q := range directQuotes(text) {
			texts = append(texts, text[sentenceStart(text, q.open):q.open])
		}
	}
	found := 0
	for _, s := range texts {
		checkPreSpeakerVerb(t, s)
		found += len(preSpeakerVerb.FindAllStringIndex(s, -1))
	}
	if found < 10 {
		t.Fatalf("only %d matches: the comparison proves little", found)
	}
}

func checkPreSpeakerVerb(t *testing.T, s string) {
	t.Helper()
	want := preSpeakerVerb.FindAllStringSubmatchIndex(s, -1)
	got, from := preSpeakerVerbMatches(s)
	for _, m := range got {
		for k := range m {
			if m[k] >= 0 {
				m[k] += from
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("preSpeakerVerbMatches(%q) = %v (from %d), FindAll %v", s, got, from, want)
	}
}

func FuzzPreSpeakerVerbMatches(f *testing.F) {
	for _, s := range preSpeakerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkPreSpeakerVerb(t, s) })
}

var participleSeeds = []string{"”, he said, adding ", "adding that", "Adding that ", "she went on, saying:  ", "noting,", "explaining that\t", "warning that x", "stressing"}

// TestParticipleAfterMatchesReference: participleAfter is the expression's match (when the
// quote continues) on seeds and every text before a quote of the enrich articles.
func TestParticipleAfterMatchesReference(t *testing.T) {
	texts := append([]string(nil), participleSeeds...)
	paths, _ := filepath.Glob("../testdata/*.txt")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, q := range directQuotes(text) {
			texts = append(texts, text[sentenceStart(text, q.open):q.open])
		}
	}
	found := 0
	for _, s := range texts {
		checkParticiple(t, s)
		if participle.MatchString(s) {
			found++
		}
	}
	if found < 5 {
		t.Fatalf("only %d matches: the comparison proves little", found)
	}
}

func checkParticiple(t *testing.T, s string) {
	t.Helper()
	if got := participleAfter(s, false); got != nil {
		t.Errorf("participleAfter(%q, false) = %v", s, got)
	}
	if got, want := participleAfter(s, true), participle.FindStringSubmatchIndex(s); !reflect.DeepEqual(got, want) {
		t.Errorf("participleAfter(%q) = %v, expression %v", s, got, want)
	}
}

func FuzzParticipleAfter(f *testing.F) {
	for _, s := range participleSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParticiple(t, s) })
}
