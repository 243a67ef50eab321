package deploycheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/index"
)

// dataViewFields maps each data view id of the export to the fields of the mapping behind
// the alias it reads.
func dataViewFields(t *testing.T, objs []SavedObject) map[string]map[string]string {
	t.Helper()
	n := index.Names{Prefix: "newsflow"}
	byAlias := map[string]map[string]string{
		n.ArticlesAlias(): index.MappedFields(index.ArticleMapping()),
		n.AlertsAlias():   index.MappedFields(index.AlertMapping()),
	}
	out := map[string]map[string]string{}
	for _, o := range objs {
		if o.Type != "index-pattern" {
			continue
		}
		title, _ := o.Attributes["title"].(string)
		f, ok := byAlias[title]
		if !ok {
			t.Errorf("index-pattern/%s: title %q is not a newsflow read alias (%s, %s)", o.ID, title, n.ArticlesAlias(), n.AlertsAlias())
			continue
		}
		out[o.ID] = f
	}
	return out
}

func loadSavedObjects(t *testing.T) []SavedObject {
	t.Helper()
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, "deploy/kibana/saved_objects.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := ParseNDJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkFields runs every field use of objs against the mappings and returns the failures.
func checkFields(objs []SavedObject, views map[string]map[string]string) []error {
	uses, ops, errs := FieldUses(objs)
	for i, u := range uses {
		fields, ok := views[u.View]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: data view %q is not defined in the export", u, u.View))
			continue
		}
		if err := CheckFieldUse(u, fields, ops[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func TestKibanaSavedObjectsParse(t *testing.T) {
	objs := loadSavedObjects(t)
	version := regexp.MustCompile(`^8\.\d+\.\d+$`)
	for _, o := range objs {
		name := o.Type + "/" + o.ID
		if !version.MatchString(o.CoreMigrationVersion) {
			t.Errorf("%s: coreMigrationVersion %q: want a Kibana 8 version like 8.8.0", name, o.CoreMigrationVersion)
		}
		// Kibana refuses objects whose typeMigrationVersion is newer than its own; keep them at
		// or below coreMigrationVersion so any Kibana >= that version imports the file.
		if !version.MatchString(o.TypeMigrationVersion) || semverLess(o.CoreMigrationVersion, o.TypeMigrationVersion) {
			t.Errorf("%s: typeMigrationVersion %q: want 8.x.y <= coreMigrationVersion %s", name, o.TypeMigrationVersion, o.CoreMigrationVersion)
		}
		if title, _ := o.Attributes["title"].(string); title == "" {
			t.Errorf("%s: no title", name)
		}
	}
}

func semverLess(a, b string) bool {
	var a1, a2, a3, b1, b2, b3 int
	fmt.Sscanf(a, "%d.%d.%d", &a1, &a2, &a3)
	fmt.Sscanf(b, "%d.%d.%d", &b1, &b2, &b3)
	if a1 != b1 {
		return a1 < b1
	}
	if a2 != b2 {
		return a2 < b2
	}
	return a3 < b3
}

func TestKibanaReferencesResolve(t *testing.T) {
	objs := loadSavedObjects(t)
	for _, err := range CheckReferences(objs) {
		t.Error(err)
	}
}

// TestKibanaFieldsExistInMapping is the contract between the saved objects and
// pkg/index/templates.go: every field any object names exists in the mapping of the data view
// it reads, with a type that supports the use (no terms aggregation on a text field, a
// geo_point for maps, a date for time fields).
func TestKibanaFieldsExistInMapping(t *testing.T) {
	objs := loadSavedObjects(t)
	views := dataViewFields(t, objs)
	errs := checkFields(objs, views)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "  " + e.Error()
		}
		sort.Strings(msgs)
		var known []string
		for f := range views["newsflow-articles"] {
			known = append(known, f)
		}
		sort.Strings(known)
		t.Errorf("%d saved object field problems (mapping: pkg/index/templates.go):\n%s\narticle fields: %s",
			len(errs), strings.Join(msgs, "\n"), strings.Join(known, " "))
	}
	uses, _, _ := FieldUses(objs)
	if len(uses) < 20 {
		t.Errorf("only %d field uses found: the extractor is not seeing the objects", len(uses))
	}
}

// TestKibanaDeliverables pins what the dashboard must show (issue 6).
func TestKibanaDeliverables(t *testing.T) {
	objs := loadSavedObjects(t)
	uses, _, _ := FieldUses(objs)
	used := map[string]map[Use]bool{} // "view field" → uses
	for _, u := range uses {
		k := u.View + " " + u.Field
		if used[k] == nil {
			used[k] = map[Use]bool{}
		}
		used[k][u.Use] = true
	}
	want := []struct {
		view, field string
		use         Use
		what        string
	}{
		{"newsflow-articles", "published_at", UseTime, "articles data view time field / over time"},
		{"newsflow-articles", "source.name", UseTerms, "articles by source"},
		{"newsflow-articles", "language", UseTerms, "articles by language"},
		{"newsflow-articles", "entities.per", UseTerms, "top people"},
		{"newsflow-articles", "entities.org", UseTerms, "top organisations"},
		{"newsflow-articles", "entities.loc", UseTerms, "top places"},
		{"newsflow-articles", "keywords", UseTerms, "top keywords"},
		{"newsflow-articles", "sentiment", UseMetric, "sentiment over time"},
		{"newsflow-articles", "places.locations", UseGeo, "map of places"},
		{"newsflow-articles", "is_duplicate", UseQuery, "duplicates / wire copies search"},
		{"newsflow-alerts", "fired_at", UseTime, "alerts data view time field"},
		{"newsflow-alerts", "term", UseDisplay, "latest alerts: term"},
		{"newsflow-alerts", "rule_type", UseDisplay, "latest alerts: rule type"},
		{"newsflow-alerts", "score", UseDisplay, "latest alerts: score"},
		{"newsflow-alerts", "reason", UseDisplay, "latest alerts: reason"},
	}
	for _, w := range want {
		if !used[w.view+" "+w.field][w.use] {
			t.Errorf("missing %s: no object uses %s as %s in data view %s", w.what, w.field, w.use, w.view)
		}
	}
	var dash *SavedObject
	types := map[string]int{}
	for i, o := range objs {
		types[o.Type]++
		if o.Type == "dashboard" {
			dash = &objs[i]
		}
	}
	if dash == nil {
		t.Fatal("no dashboard")
	}
	if types["map"] == 0 || types["search"] < 3 || types["index-pattern"] != 2 {
		t.Errorf("object types %v: want a map, >= 3 saved searches, 2 data views", types)
	}
	// Every visualisation, the map and the alerts search are on the dashboard.
	onDash := map[string]bool{}
	for _, r := range dash.References {
		onDash[r.Type+"/"+r.ID] = true
	}
	for _, o := range objs {
		if (o.Type == "lens" || o.Type == "visualization" || o.Type == "map" || o.ID == "newsflow-latest-alerts") && !onDash[o.Type+"/"+o.ID] {
			t.Errorf("%s/%s is not on the dashboard %s", o.Type, o.ID, dash.ID)
		}
	}
}

// TestKibanaCheckerCatchesMistakes makes sure the checks fail on the mistakes they exist for.
func TestKibanaCheckerCatchesMistakes(t *testing.T) {
	articles := index.MappedFields(index.ArticleMapping())
	views := map[string]map[string]string{"v": articles}
	dv := `{"type":"index-pattern","id":"v","attributes":{"title":"newsflow-articles","timeFieldName":"%s"},"references":[]}`
	search := `{"type":"search","id":"s","attributes":{"title":"s","columns":["%s"],"sort":[["%s","desc"]],"kibanaSavedObjectMeta":{"searchSourceJSON":"{\"query\":{\"query\":\"%s\",\"language\":\"kuery\"},\"indexRefName\":\"kibanaSavedObjectMeta.searchSourceJSON.index\"}"}},"references":[{"name":"kibanaSavedObjectMeta.searchSourceJSON.index","type":"index-pattern","id":"v"}]}`
	lens := `{"type":"lens","id":"l","attributes":{"title":"l","state":{"datasourceStates":{"formBased":{"layers":{"a":{"columns":{"c":{"operationType":"%s","sourceField":"%s"}}}}}}}},"references":[{"type":"index-pattern","id":"v","name":"indexpattern-datasource-layer-a"}]}`
	mapObj := `{"type":"map","id":"m","attributes":{"title":"m","layerListJSON":"[{\"id\":\"x\",\"sourceDescriptor\":{\"type\":\"ES_GEO_GRID\",\"geoField\":\"%s\",\"indexPatternRefName\":\"r\"}}]"},"references":[{"name":"r","type":"index-pattern","id":"v"}]}`
	vis := `{"type":"visualization","id":"z","attributes":{"title":"z","visState":"{\"aggs\":[{\"id\":\"1\",\"type\":\"%s\",\"params\":{\"field\":\"%s\"}}]}","kibanaSavedObjectMeta":{"searchSourceJSON":"{\"indexRefName\":\"i\"}"}},"references":[{"name":"i","type":"index-pattern","id":"v"}]}`
	tests := []struct {
		name    string
		objs    []string
		wantErr string // substring of one error; "" = no error
	}{
		{"valid search", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(search, "title", "published_at", "entities.org:acme")}, ""},
		{"unknown time field", []string{fmt.Sprintf(dv, "published")}, `"published" (time) in data view "v": not in the mapping`},
		{"time field not a date", []string{fmt.Sprintf(dv, "language")}, "needs a date field"},
		{"unknown column", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(search, "source", "published_at", "")}, `"source" (display)`},
		{"sort on text", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(search, "title", "title", "")}, `"title" (sort)`},
		{"unknown KQL field", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(search, "title", "published_at", "entity.org:acme")}, `"entity.org" (query)`},
		{"lens terms on text", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(lens, "terms", "title")}, "aggregatable"},
		{"lens terms on keyword subfield", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(lens, "terms", "title.keyword")}, ""},
		{"lens average on keyword", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(lens, "average", "language")}, "numeric"},
		{"lens unknown operation", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(lens, "magic", "language")}, "unknown use"},
		{"map on keyword", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(mapObj, "places.names")}, "geo_point"},
		{"map on geo_point", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(mapObj, "places.locations")}, ""},
		{"legacy vis terms on text", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(vis, "terms", "text")}, "aggregatable"},
		{"legacy vis avg sentiment", []string{fmt.Sprintf(dv, "published_at"), fmt.Sprintf(vis, "avg", "sentiment")}, ""},
		{"dangling reference", []string{fmt.Sprintf(search, "title", "published_at", "")}, "no such object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := ParseNDJSON(strings.NewReader(strings.Join(tc.objs, "\n")))
			if err != nil {
				t.Fatal(err)
			}
			errs := append(checkFields(objs, views), CheckReferences(objs)...)
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			joined := strings.Join(all, "\n")
			if tc.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors:\n%s", joined)
				}
				return
			}
			if !strings.Contains(joined, tc.wantErr) {
				t.Fatalf("want an error containing %q, got:\n%s", tc.wantErr, joined)
			}
		})
	}
}

func TestParseNDJSONErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "{\"type\":", "line 1"},
		{"two values", `{"type":"a","id":"b","attributes":{}} {}`, "more than one"},
		{"missing id", "\n" + `{"type":"a","attributes":{}}`, "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseNDJSON(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func TestKQLFields(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"", nil},
		{"is_duplicate:true", []string{"is_duplicate"}},
		{"sentiment <= -0.5 and not is_duplicate:true", []string{"sentiment", "is_duplicate"}},
		{`reason:"spike: 3x" or term : acme`, []string{"reason", "term"}},
		{"(entities.org:acme OR entities.per:\"Jane Doe\") and @timestamp >= now-1d", []string{"entities.org", "entities.per", "@timestamp"}},
		{"free text search", nil},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got := KQLFields(tc.q)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("KQLFields(%q) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func FuzzKQLFields(f *testing.F) {
	for _, s := range []string{"", "a:b", `x:"y: z" and w >= 3`, "not is_duplicate:true", `"unterminated:`, "(((a:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, field := range KQLFields(q) {
			if field == "" || strings.ContainsAny(field, " \t:\"") {
				t.Fatalf("KQLFields(%q) returned bad field %q", q, field)
			}
		}
	})
}

func FuzzParseNDJSON(f *testing.F) {
	f.Add([]byte(`{"type":"a","id":"b","attributes":{"title":"x"},"references":[]}`))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"type":"lens","id":"l","attributes":{"state":{"datasourceStates":{"formBased":{"layers":{"a":{"columns":{"c":{"operationType":"terms","sourceField":"x"}}}}}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := ParseNDJSON(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		// The extractors must not panic on any parsed object.
		FieldUses(objs)
		CheckReferences(objs)
	})
}
