package alias

import (
	"fmt"
	"testing"
)

// BenchmarkMerge merges the mentions of a long article: 40 people (full names, then surnames
// and untyped surnames), 40 organisations and places, each named five times.
func BenchmarkMerge(b *testing.B) {
	var ms []Mention
	at := 0
	add := func(text, typ string) {
		ms = append(ms, Mention{Start: at, End: at + len(text), Text: text, Type: typ})
		at += len(text) + 20
	}
	for i := range 40 {
		sur := fmt.Sprintf("Surname%c%c", 'a'+i%26, 'a'+i/26)
		add("Given "+sur, "PER")
		add(sur, "PER")
		add(sur, "")
		add(fmt.Sprintf("Agency %c%c", 'a'+i%26, 'a'+i/26), "ORG")
		add(fmt.Sprintf("Town%c%c", 'a'+i%26, 'a'+i/26), "LOC")
	}
	ms = append(ms, ms...)
	b.ReportAllocs()
	for b.Loop() {
		Merge(ms)
	}
}
