package ner

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestFirstPassFeaturesShared proves that the stacked English model's second pass, which
// reuses the first pass's features (firstSharesFeatures), tags exactly as when it extracts
// them itself, and that the shipped model takes that path.
func TestFirstPassFeaturesShared(t *testing.T) {
	b, err := modelFS.ReadFile("model/" + ModelFile("en"))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := LoadModelBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	own, err := LoadModelBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if !shared.firstSharesFeatures() {
		t.Fatal("the shipped English model's first pass does not share its features")
	}
	if shared.first.gaz != shared.gaz || reflect.ValueOf(shared.first.clus).UnsafePointer() != reflect.ValueOf(shared.clus).UnsafePointer() {
		t.Error("equal gazetteers or clusters of the two passes were loaded twice")
	}
	own.shareOnce.Do(func() {}) // shareFirst stays false: the second pass extracts its features
	paths, err := filepath.Glob("../testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("testdata: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	texts := []string{"", "Joe Biden.", "\n\n"}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(raw))
	}
	for i, text := range texts {
		if got, want := shared.Extract(text), own.Extract(text); !reflect.DeepEqual(got, want) {
			t.Errorf("text %d: spans with shared features %v, extracted %v", i, got, want)
		}
	}
}
