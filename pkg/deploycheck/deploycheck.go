// Package deploycheck validates the deployment files of the repository against the code:
// the Kibana saved objects (deploy/kibana) against the Elasticsearch mappings of pkg/index,
// and docker-compose.yml, deploy/docker/Dockerfile and the Kubernetes manifests (deploy/k8s)
// against the NEWSFLOW_* variables the code reads, the services that exist and each other
// (ports, hosts, probes, references). No Docker engine or Kibana is needed: the files are
// checked as data by the package's tests (`go test ./deploycheck/`).
//
// The helpers here are pure functions over parsed files; they are safe for concurrent use.
package deploycheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// RepoRoot walks up from dir to the directory holding go.work (the repository root).
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("deploycheck: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("deploycheck: no go.work above %s", dir)
		}
		d = parent
	}
}

var (
	envLiteral = regexp.MustCompile(`"(NEWSFLOW_[A-Z0-9_]*[A-Z0-9])"`)
	envPrefix  = regexp.MustCompile(`"(NEWSFLOW_[A-Z0-9_]*_)"\s*\+`)
	// envSuffix is a helper call naming the rest of a prefixed variable: str("USER_AGENT", &x).
	envSuffix = regexp.MustCompile(`\b[a-z][A-Za-z0-9]*\("([A-Z][A-Z0-9_]*[A-Z0-9])"\s*,`)
)

// EnvVarsInCode returns every NEWSFLOW_* variable named by a complete string literal in the
// non-test Go files under root/pkg and root/services, with the files naming it (relative to
// root). Test-only variables (NEWSFLOW_TEST_*) are therefore not included. Names built at
// run time from a prefix literal ("NEWSFLOW_FETCH_" + name) are included when the same file
// passes the rest as the first argument of a helper call (str("USER_AGENT", &c.UserAgent)),
// the pattern pkg/fetch/env.go uses.
func EnvVarsInCode(root string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, top := range []string{"pkg", "services"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			add := func(name string) {
				if fs := out[name]; len(fs) == 0 || fs[len(fs)-1] != rel {
					out[name] = append(out[name], rel)
				}
			}
			for _, m := range envLiteral.FindAllSubmatch(b, -1) {
				add(string(m[1]))
			}
			for _, p := range envPrefix.FindAllSubmatch(b, -1) {
				for _, m := range envSuffix.FindAllSubmatch(b, -1) {
					add(string(p[1]) + string(m[1]))
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("deploycheck: scan %s: %w", top, err)
		}
	}
	return out, nil
}

// SavedObject is one line of a Kibana saved objects export (.ndjson).
type SavedObject struct {
	Type                 string         `json:"type"`
	ID                   string         `json:"id"`
	Attributes           map[string]any `json:"attributes"`
	References           []Reference    `json:"references"`
	CoreMigrationVersion string         `json:"coreMigrationVersion"`
	TypeMigrationVersion string         `json:"typeMigrationVersion"`
}

// Reference is a saved object reference.
type Reference struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ParseNDJSON reads a saved objects export: one JSON object per non-empty line, each with
// type, id and attributes. Errors name the line.
func ParseNDJSON(r io.Reader) ([]SavedObject, error) {
	var objs []SavedObject
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var o SavedObject
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&o); err != nil {
			return nil, fmt.Errorf("deploycheck: ndjson line %d: %w", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("deploycheck: ndjson line %d: more than one JSON value", line)
		}
		if o.Type == "" || o.ID == "" || o.Attributes == nil {
			return nil, fmt.Errorf("deploycheck: ndjson line %d: type, id and attributes are required", line)
		}
		objs = append(objs, o)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("deploycheck: ndjson: %w", err)
	}
	return objs, nil
}

// Use is how a saved object uses a field; it decides which mapping types are acceptable.
type Use string

// Field uses.
const (
	UseDisplay   Use = "display"   // a column of a saved search, a tooltip: any mapped field
	UseQuery     Use = "query"     // a KQL field name: any searchable field
	UseSort      Use = "sort"      // sortable: keyword, numeric, date, boolean
	UseTime      Use = "time"      // a data view's time field / date histogram: date
	UseTerms     Use = "terms"     // terms and other bucket aggregations: keyword, numeric, date, boolean, ip
	UseMetric    Use = "metric"    // average, sum, min, max, percentiles, ...: numeric (or date for min/max)
	UseCardinals Use = "cardinal"  // unique_count: any aggregatable field
	UseGeo       Use = "geo"       // a map layer's geo field: geo_point or geo_shape
	UseTopHits   Use = "top_hits"  // a split field of top hits: aggregatable
	UseUnknownOp Use = "unknownop" // a Lens operation this checker does not know
)

// FieldUse is one use of a field by a saved object, against one data view.
type FieldUse struct {
	Object string // "lens/newsflow-top-people"
	Where  string // where in the object ("columns", "layer1.term.sourceField", ...)
	View   string // data view (index-pattern) id the field belongs to
	Field  string
	Use    Use
}

func (u FieldUse) String() string {
	return fmt.Sprintf("%s %s: field %q (%s) in data view %q", u.Object, u.Where, u.Field, u.Use, u.View)
}

var (
	aggregatable = map[string]bool{"keyword": true, "constant_keyword": true, "boolean": true, "date": true,
		"date_nanos": true, "ip": true, "long": true, "integer": true, "short": true, "byte": true,
		"double": true, "float": true, "half_float": true, "scaled_float": true, "unsigned_long": true}
	numeric = map[string]bool{"long": true, "integer": true, "short": true, "byte": true, "double": true,
		"float": true, "half_float": true, "scaled_float": true, "unsigned_long": true}
	// notSearchable: stored-only fields and objects cannot be queried or shown as columns.
	notSearchable = map[string]bool{"object": true, "nested": true}
)

// CheckFieldUse reports whether fields (MappedFields of the data view's mapping) has u.Field
// with a type that supports u.Use. op is the aggregation or Lens operation for UseMetric.
func CheckFieldUse(u FieldUse, fields map[string]string, op string) error {
	typ, ok := fields[u.Field]
	if !ok {
		return fmt.Errorf("%s: not in the mapping", u)
	}
	bad := func(want string) error {
		return fmt.Errorf("%s: mapped as %q, %s needs %s", u, typ, u.Use, want)
	}
	switch u.Use {
	case UseDisplay, UseQuery:
		if notSearchable[typ] {
			return bad("a leaf field")
		}
	case UseSort, UseTerms, UseCardinals, UseTopHits:
		if !aggregatable[typ] {
			return bad("an aggregatable field (keyword, numeric, date, boolean, ip), not " + typ)
		}
	case UseTime:
		if typ != "date" && typ != "date_nanos" {
			return bad("a date field")
		}
	case UseMetric:
		if numeric[typ] {
			return nil
		}
		if (op == "min" || op == "max" || op == "last_value") && (typ == "date" || typ == "date_nanos") {
			return nil
		}
		if op == "last_value" && aggregatable[typ] {
			return nil
		}
		return bad("a numeric field for " + op)
	case UseGeo:
		if typ != "geo_point" && typ != "geo_shape" {
			return bad("a geo_point or geo_shape field")
		}
	default:
		return fmt.Errorf("%s: unknown use", u)
	}
	return nil
}

var (
	kqlQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	kqlField  = regexp.MustCompile(`(?:^|[\s(])([A-Za-z_@][A-Za-z0-9_.@*]*)\s*(?::|<=|>=|<|>)`)
)

// KQLFields returns the field names a KQL query names before ':' or a range operator
// ("entities.org:acme and sentiment <= -0.5" → [entities.org sentiment]), in order, without
// duplicates. Quoted values are skipped, so `reason:"a: b"` yields only "reason". It is a
// lightweight scan, not a full KQL parser: nested field syntax (a:{b:c}) reports "a" and
// "b" separately.
func KQLFields(q string) []string {
	q = kqlQuoted.ReplaceAllString(q, `""`)
	var out []string
	seen := map[string]bool{}
	for _, m := range kqlField.FindAllStringSubmatch(q, -1) {
		f := m[1]
		switch strings.ToLower(f) {
		case "and", "or", "not":
			continue
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Lens operations and the field use each implies.
var lensOps = map[string]Use{
	"date_histogram": UseTime, "terms": UseTerms, "range": UseTerms, "filters": UseQuery,
	"average": UseMetric, "sum": UseMetric, "min": UseMetric, "max": UseMetric, "median": UseMetric,
	"percentile": UseMetric, "percentile_rank": UseMetric, "standard_deviation": UseMetric,
	"last_value": UseMetric, "unique_count": UseCardinals, "count": UseCardinals,
}

// Legacy visualization aggregations (visState.aggs[].type) and the field use each implies.
var visAggs = map[string]Use{
	"date_histogram": UseTime, "terms": UseTerms, "significant_terms": UseTerms, "histogram": UseTerms,
	"range": UseTerms, "date_range": UseTime, "geohash_grid": UseGeo, "geotile_grid": UseGeo,
	"avg": UseMetric, "sum": UseMetric, "min": UseMetric, "max": UseMetric, "median": UseMetric,
	"percentiles": UseMetric, "std_dev": UseMetric, "cardinality": UseCardinals, "top_hits": UseTopHits,
	"count": UseCardinals,
}

// FieldUses lists every field use of objs with the data view each belongs to, the Lens or
// aggregation operation of metric uses (parallel slice), and structural errors (JSON strings
// that do not parse, a missing data view reference).
func FieldUses(objs []SavedObject) (uses []FieldUse, ops []string, errs []error) {
	add := func(u FieldUse, op string) {
		uses = append(uses, u)
		ops = append(ops, op)
	}
	for _, o := range objs {
		name := o.Type + "/" + o.ID
		refs := map[string]Reference{}
		for _, r := range o.References {
			refs[r.Name] = r
		}
		view := func(refName string) string {
			if r, ok := refs[refName]; ok && r.Type == "index-pattern" {
				return r.ID
			}
			errs = append(errs, fmt.Errorf("%s: no index-pattern reference named %q", name, refName))
			return ""
		}
		queryUses := func(where, v string, q any) {
			qm, _ := q.(map[string]any)
			if s, _ := qm["query"].(string); s != "" && v != "" {
				if lang, _ := qm["language"].(string); lang == "kuery" || lang == "" {
					for _, f := range KQLFields(s) {
						add(FieldUse{name, where, v, f, UseQuery}, "")
					}
				}
			}
		}
		filterUses := func(where, v string, filters any) {
			fl, _ := filters.([]any)
			for i, f := range fl {
				fm, _ := f.(map[string]any)
				meta, _ := fm["meta"].(map[string]any)
				if key, _ := meta["key"].(string); key != "" {
					fv := v
					if ref, _ := meta["indexRefName"].(string); ref != "" {
						fv = view(ref)
					}
					add(FieldUse{name, fmt.Sprintf("%s[%d].meta.key", where, i), fv, key, UseQuery}, "")
				}
			}
		}
		switch o.Type {
		case "index-pattern":
			if tf, _ := o.Attributes["timeFieldName"].(string); tf != "" {
				add(FieldUse{name, "timeFieldName", o.ID, tf, UseTime}, "")
			}
			var fields []map[string]any
			if s, _ := o.Attributes["fields"].(string); s != "" {
				if err := json.Unmarshal([]byte(s), &fields); err != nil {
					errs = append(errs, fmt.Errorf("%s: fields: %w", name, err))
				}
			}
			for _, f := range fields {
				if n, _ := f["name"].(string); n != "" && !strings.HasPrefix(n, "_") {
					add(FieldUse{name, "fields", o.ID, n, UseDisplay}, "")
				}
			}
		case "search":
			ss, err := searchSource(o)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			ref, _ := ss["indexRefName"].(string)
			v := view(ref)
			cols, _ := o.Attributes["columns"].([]any)
			for _, c := range cols {
				if s, _ := c.(string); s != "" && s != "_source" {
					add(FieldUse{name, "columns", v, s, UseDisplay}, "")
				}
			}
			sorts, _ := o.Attributes["sort"].([]any)
			for _, s := range sorts {
				pair, _ := s.([]any)
				if len(pair) == 2 {
					if f, _ := pair[0].(string); f != "" && f != "_score" {
						add(FieldUse{name, "sort", v, f, UseSort}, "")
					}
				}
			}
			queryUses("searchSourceJSON.query", v, ss["query"])
			filterUses("searchSourceJSON.filter", v, ss["filter"])
		case "lens":
			state, _ := o.Attributes["state"].(map[string]any)
			ds, _ := state["datasourceStates"].(map[string]any)
			fb, _ := ds["formBased"].(map[string]any)
			if fb == nil {
				fb, _ = ds["indexpattern"].(map[string]any)
			}
			layers, _ := fb["layers"].(map[string]any)
			if len(layers) == 0 {
				errs = append(errs, fmt.Errorf("%s: no state.datasourceStates.formBased.layers", name))
			}
			var firstView string
			for _, lid := range sortedKeys(layers) {
				v := view("indexpattern-datasource-layer-" + lid)
				if firstView == "" {
					firstView = v
				}
				layer, _ := layers[lid].(map[string]any)
				cols, _ := layer["columns"].(map[string]any)
				for _, cid := range sortedKeys(cols) {
					col, _ := cols[cid].(map[string]any)
					op, _ := col["operationType"].(string)
					f, _ := col["sourceField"].(string)
					where := lid + "." + cid
					use, known := lensOps[op]
					switch {
					case f == "" || f == "___records___":
						continue
					case !known:
						add(FieldUse{name, where + " (" + op + ")", v, f, UseUnknownOp}, op)
					default:
						add(FieldUse{name, where + " (" + op + ")", v, f, use}, op)
					}
				}
			}
			queryUses("state.query", firstView, state["query"])
			filterUses("state.filters", firstView, state["filters"])
		case "visualization":
			ss, err := searchSource(o)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			ref, _ := ss["indexRefName"].(string)
			v := view(ref)
			var vis struct {
				Aggs []struct {
					ID     string         `json:"id"`
					Type   string         `json:"type"`
					Params map[string]any `json:"params"`
				} `json:"aggs"`
			}
			s, _ := o.Attributes["visState"].(string)
			if err := json.Unmarshal([]byte(s), &vis); err != nil {
				errs = append(errs, fmt.Errorf("%s: visState: %w", name, err))
				continue
			}
			for _, a := range vis.Aggs {
				if f, _ := a.Params["field"].(string); f != "" {
					use, ok := visAggs[a.Type]
					if !ok {
						use = UseUnknownOp
					}
					add(FieldUse{name, "visState.aggs." + a.ID + " (" + a.Type + ")", v, f, use}, visOpToLens(a.Type))
				}
			}
			queryUses("searchSourceJSON.query", v, ss["query"])
			filterUses("searchSourceJSON.filter", v, ss["filter"])
		case "map":
			var layers []map[string]any
			s, _ := o.Attributes["layerListJSON"].(string)
			if err := json.Unmarshal([]byte(s), &layers); err != nil {
				errs = append(errs, fmt.Errorf("%s: layerListJSON: %w", name, err))
				continue
			}
			for _, l := range layers {
				sd, _ := l["sourceDescriptor"].(map[string]any)
				ref, _ := sd["indexPatternRefName"].(string)
				if ref == "" {
					continue // basemap, EMS boundaries
				}
				v := view(ref)
				lid, _ := l["id"].(string)
				str := func(k string) string { s, _ := sd[k].(string); return s }
				if f := str("geoField"); f != "" {
					add(FieldUse{name, lid + ".geoField", v, f, UseGeo}, "")
				} else {
					errs = append(errs, fmt.Errorf("%s: layer %s has no geoField", name, lid))
				}
				if f := str("sortField"); f != "" {
					add(FieldUse{name, lid + ".sortField", v, f, UseSort}, "")
				}
				if f := str("topHitsSplitField"); f != "" {
					add(FieldUse{name, lid + ".topHitsSplitField", v, f, UseTopHits}, "")
				}
				tips, _ := sd["tooltipProperties"].([]any)
				for _, t := range tips {
					if f, _ := t.(string); f != "" {
						add(FieldUse{name, lid + ".tooltipProperties", v, f, UseDisplay}, "")
					}
				}
				metrics, _ := sd["metrics"].([]any)
				for _, m := range metrics {
					mm, _ := m.(map[string]any)
					typ, _ := mm["type"].(string)
					if f, _ := mm["field"].(string); f != "" {
						use := UseMetric
						if typ == "terms" {
							use = UseTerms
						} else if typ == "cardinality" {
							use = UseCardinals
						}
						add(FieldUse{name, lid + ".metrics." + typ, v, f, use}, visOpToLens(typ))
					}
				}
			}
		}
	}
	return uses, ops, errs
}

func visOpToLens(op string) string {
	switch op {
	case "avg":
		return "average"
	case "percentiles":
		return "percentile"
	}
	return op
}

func searchSource(o SavedObject) (map[string]any, error) {
	meta, _ := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
	s, _ := meta["searchSourceJSON"].(string)
	if s == "" {
		return nil, errors.New("no kibanaSavedObjectMeta.searchSourceJSON")
	}
	var ss map[string]any
	if err := json.Unmarshal([]byte(s), &ss); err != nil {
		return nil, fmt.Errorf("searchSourceJSON: %w", err)
	}
	return ss, nil
}

// CheckReferences reports references that do not resolve to an object of objs (by type and
// id), duplicate objects, and dashboard panels whose panelRefName has no reference.
func CheckReferences(objs []SavedObject) []error {
	var errs []error
	have := map[string]bool{}
	for _, o := range objs {
		k := o.Type + "/" + o.ID
		if have[k] {
			errs = append(errs, fmt.Errorf("%s: defined twice", k))
		}
		have[k] = true
	}
	for _, o := range objs {
		name := o.Type + "/" + o.ID
		refNames := map[string]bool{}
		for _, r := range o.References {
			if refNames[r.Name] {
				errs = append(errs, fmt.Errorf("%s: reference name %q used twice", name, r.Name))
			}
			refNames[r.Name] = true
			if !have[r.Type+"/"+r.ID] {
				errs = append(errs, fmt.Errorf("%s: reference %q to %s/%s: no such object in the file", name, r.Name, r.Type, r.ID))
			}
		}
		if o.Type != "dashboard" {
			continue
		}
		s, _ := o.Attributes["panelsJSON"].(string)
		var panels []struct {
			PanelIndex   string `json:"panelIndex"`
			PanelRefName string `json:"panelRefName"`
			Type         string `json:"type"`
		}
		if err := json.Unmarshal([]byte(s), &panels); err != nil {
			errs = append(errs, fmt.Errorf("%s: panelsJSON: %w", name, err))
			continue
		}
		if len(panels) == 0 {
			errs = append(errs, fmt.Errorf("%s: no panels", name))
		}
		for _, p := range panels {
			ref := p.PanelIndex + ":" + p.PanelRefName
			if !refNames[ref] {
				errs = append(errs, fmt.Errorf("%s: panel %s: no reference named %q", name, p.PanelIndex, ref))
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
