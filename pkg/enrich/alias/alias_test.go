package alias

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	isPlace := func(s string) bool { return s == "Ukrainian" || s == "US" || s == "Russian" }
	tests := []struct {
		in, want string
		title    bool
	}{
		{"President Joe Biden", "Joe Biden", true},
		{"Ukrainian President Volodymyr Zelensky", "Volodymyr Zelensky", true},
		{"Russian Foreign Minister Sergei Lavrov", "Sergei Lavrov", true},
		{"US Secretary of State Antony Blinken", "Antony Blinken", true},
		{"Mr. Schneider", "Schneider", true},
		{"Biden's", "Biden", false},
		{"Zelensky’s", "Zelensky", false},
		{"the Kremlin", "Kremlin", false},
		{"State Department", "State Department", false},
		{"Donetsk region", "Donetsk", false},
		{"President", "President", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			doc := "xx " + tt.in + " yy"
			n, ok := Normalize(doc, 3, 3+len(tt.in), isPlace)
			if !ok || n.Text != tt.want || n.PersonTitle != tt.title {
				t.Fatalf("Normalize(%q) = %+v, %v; want %q title=%v", tt.in, n, ok, tt.want, tt.title)
			}
			if doc[n.Start:n.End] != n.Text {
				t.Fatalf("offsets %d:%d do not match %q", n.Start, n.End, n.Text)
			}
		})
	}
	if _, ok := Normalize("abc", 2, 1, nil); ok {
		t.Error("bad range accepted")
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		mentions []Mention
		want     []string // "TYPE:Name:mentions"
	}{
		{"surname joins full name", []Mention{
			{Start: 0, Text: "Joe Biden", Type: "PER"}, {Start: 20, Text: "Biden", Type: "PER"}, {Start: 40, Text: "Biden", Type: ""},
		}, []string{"PER:Joe Biden:3"}},
		{"near spellings merge, most frequent full form wins", []Mention{
			{Start: 0, Text: "Anthony Blinken", Type: "PER"}, {Start: 10, Text: "Blinkin", Type: "PER"},
			{Start: 20, Text: "Antony Blinken", Type: "PER"}, {Start: 30, Text: "Antony Blinken", Type: "PER"}, {Start: 40, Text: "Blinken", Type: "MISC"},
		}, []string{"PER:Antony Blinken:5"}},
		{"table canonical wins", []Mention{
			{Start: 0, Text: "Dmitriy Peskov", Type: "PER", Canonical: "Dmitry Peskov", Strong: true}, {Start: 20, Text: "Peskov", Type: "PER"},
		}, []string{"PER:Dmitry Peskov:2"}},
		{"different people with same surname stay apart", []Mention{
			{Start: 0, Text: "Hillary Clinton", Type: "PER"}, {Start: 20, Text: "Bill Clinton", Type: "PER"}, {Start: 40, Text: "Clinton", Type: "PER"},
		}, []string{"PER:Hillary Clinton:1", "PER:Bill Clinton:1", "PER:Clinton:1"}},
		{"short surnames need exact match", []Mention{
			{Start: 0, Text: "Ed Li", Type: "PER"}, {Start: 10, Text: "Lu", Type: "PER"},
		}, []string{"PER:Ed Li:1", "PER:Lu:1"}},
		{"acronym joins organisation", []Mention{
			{Start: 0, Text: "National Security Council", Type: "ORG"}, {Start: 30, Text: "NSC", Type: "ORG"},
		}, []string{"ORG:National Security Council:2"}},
		{"strong ORG not turned into person", []Mention{
			{Start: 0, Text: "Tim Cook", Type: "PER"}, {Start: 10, Text: "Cook", Type: "ORG", Strong: true},
		}, []string{"PER:Tim Cook:1", "ORG:Cook:1"}},
		{"untyped mention without person is dropped", []Mention{
			{Start: 0, Text: "Meanwhile", Type: ""},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents, assign := Merge(tt.mentions)
			var got []string
			for _, e := range ents {
				got = append(got, e.Type+":"+e.Name+":"+strconv.Itoa(e.Mentions))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if len(assign) != len(tt.mentions) {
				t.Fatalf("assign len %d", len(assign))
			}
		})
	}
}

func TestTable(t *testing.T) {
	tab := DefaultTable()
	for alias, want := range map[string]string{
		"Anthony Blinken": "Antony Blinken", "Dmitriy Peskov": "Dmitry Peskov", "North Atlantic Treaty Organization": "NATO",
		"U.S. State Department": "State Department", "agence france-presse": "AFP",
	} {
		e, ok := tab.Lookup(alias)
		if !ok || e.Canonical != want {
			t.Errorf("Lookup(%q) = %+v, %v; want %s", alias, e, ok, want)
		}
	}
	dir := t.TempDir()
	user := filepath.Join(dir, "user.yaml")
	if err := os.WriteFile(user, []byte("- {canonical: Jane Q. Example, type: PER, aliases: [J. Q. Example, Jane Exemple]}\n- {canonical: NATO Alliance, type: ORG, aliases: [NATO]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ut, err := LoadTable(user)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := ut.Lookup("Jane Exemple"); !ok || e.Canonical != "Jane Q. Example" {
		t.Errorf("user alias: %+v %v", e, ok)
	}
	if e, _ := ut.Lookup("NATO"); e.Canonical != "NATO Alliance" {
		t.Errorf("user override: %+v", e)
	}
	for _, bad := range []string{"- {canonical: '', type: PER}", "- {canonical: X, type: PERSON}", "{not: a list}"} {
		if _, err := ParseTable([]byte(bad), nil); err == nil {
			t.Errorf("ParseTable(%q) accepted", bad)
		}
	}
	if _, err := LoadTable(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestIsForename(t *testing.T) {
	for name, want := range map[string]bool{"Emily": true, "Joe": true, "Will": false, "May": false, "Ukraine": false} {
		if got := IsForename(name); got != want {
			t.Errorf("IsForename(%q) = %v", name, got)
		}
	}
}
