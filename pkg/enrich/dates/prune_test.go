package dates

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// findUnpruned is Find with every expression run on every chunk.
func findUnpruned(text string, ref time.Time) []any {
	pruneChunks = false
	defer func() { pruneChunks = true }()
	return asAny(Find(text, ref))
}

func asAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

var pruneSeeds = []string{
	"Two weeks before the negotiations scheduled for January 10.", "published 2021-11-02 by the agency",
	"annexed in 2014 by Russia", "a decision in 10 days", "At the beginning of December, he warned",
	"mid- March 2020", "Since May the talks", "three weeks ago the army moved", "in two weeks' time",
	"ſince 2014", "In 2014", "Auguſt 5", "3 weeks from now", "10 of October, 2020", "by 2030-01-02",
	"Last  Night it rained; this\tweekend; past\nyear", "two days\t ago", "Jan.\t5", "Jan. 5th", "5 of\nMarch",
	"in\r\n1999", "from 20123", "1999-12-31T10:00", "x2021-01-02y", "on Monday, not monday", "MONDAY", "Sept.  30",
	"last week's", "since 1999 and in\t1987", "At the beginning of March 2020 and end of May", "5Monday x_Monday éMonday on Monday", "see you next Friday or last  Monday",
	"last night and Last Night", "12021-01-02 and 2021-01-02", "from  Monday", "we met on\tFriday", "by mid- June", "During 2021-22", "Early in January", "mid-March", "5june", "June5", "in 19", "in 199",
}

// TestChunkFlagsLoseNoMatch checks that skipping the chunks whose flags rule an expression out
// finds exactly what running every expression everywhere finds.
func TestChunkFlagsLoseNoMatch(t *testing.T) {
	ref := time.Date(2021, 12, 29, 15, 4, 0, 0, time.UTC)
	texts := append([]string(nil), pruneSeeds...)
	paths, _ := filepath.Glob("../testdata/*.txt")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for i, text := range texts {
		if got, want := asAny(Find(text, ref)), findUnpruned(text, ref); !reflect.DeepEqual(got, want) {
			t.Errorf("text %d: pruned %v, unpruned %v", i, got, want)
		}
	}
}

func FuzzChunkFlags(f *testing.F) {
	for _, s := range pruneSeeds {
		f.Add(s)
	}
	ref := time.Date(2021, 12, 29, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := asAny(Find(s, ref)), findUnpruned(s, ref); !reflect.DeepEqual(got, want) {
			t.Fatalf("pruned %v, unpruned %v", got, want)
		}
	})
}
