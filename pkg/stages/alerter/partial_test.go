package alerter

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/article/articletest"
)

// TestObservePartialDecode: the alerter decodes enriched envelopes without article.AlerterSkips.
// That is safe while (1) pkg/alert reads none of those fields — checked on its source: no
// selector names one of their Go fields — and (2) every other field is the full decode's,
// checked on the news farm's enriched envelopes (synthetic pages through the real cleaner
// and enricher).
func TestObservePartialDecode(t *testing.T) {
	skipped := map[string]bool{}
	for _, k := range article.AlerterSkips {
		name := fieldOf(t, k)
		skipped[name] = true
	}
	files, err := filepath.Glob("../../alert/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("pkg/alert sources: %v %v", files, err)
	}
	fset := token.NewFileSet()
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok && skipped[s.Sel.Name] {
				t.Errorf("%s: pkg/alert reads .%s, which the alerter does not decode (article.AlerterSkips)", fset.Position(s.Pos()), s.Sel.Name)
			}
			return true
		})
	}

	n := 0
	for _, b := range articletest.FarmEnvelopes(t) {
		full, err := article.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		part, err := article.DecodeWithout(b, article.AlerterSkips...)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Enriched.Quotes)+len(full.Enriched.Places)+len(full.Enriched.Paragraphs) == 0 {
			t.Fatalf("%s: fixture without quotes, places or paragraphs", full.ID)
		}
		// the full decode with the skipped fields zeroed
		v := reflect.ValueOf(full.Enriched).Elem()
		for name := range skipped {
			fv := v.FieldByName(name)
			fv.Set(reflect.Zero(fv.Type()))
		}
		if !reflect.DeepEqual(full, part) {
			t.Fatalf("%s: the partial decode differs beyond the skipped fields", full.ID)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("%d envelopes", n)
	}
}

// fieldOf is the Go field of article.Enriched (or its embedded Clean) whose JSON name is k.
func fieldOf(t *testing.T, k string) string {
	t.Helper()
	for _, typ := range []reflect.Type{reflect.TypeFor[article.Enriched](), reflect.TypeFor[article.Clean]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if strings.Split(f.Tag.Get("json"), ",")[0] == k {
				return f.Name
			}
		}
	}
	t.Fatalf("no field with JSON name %q", k)
	return ""
}
