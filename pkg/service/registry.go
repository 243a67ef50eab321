package service

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The configuration registry: every NEWSFLOW_* environment variable any newsflow binary reads
// is declared exactly once, in the table in registry_vars.go, with its type, default,
// documentation, whether it is a secret and which binaries read it.
//
// Adding a variable is one entry in that table:
//
//	{Name: "NEWSFLOW_ALERT_WEBHOOKS", Type: List, Secret: true, Binaries: alerters,
//	 Doc: "Webhook URLs that receive alerts as JSON, comma separated."},
//
// and reading it goes through an Env getter (e.List("NEWSFLOW_ALERT_WEBHOOKS", nil)), which
//   - records an error when the name is not declared or is read with another type (a
//     programming error; the registry tests read every configuration and fail on it);
//   - for a Secret variable also accepts NEWSFLOW_X_FILE: the file's contents with the trailing
//     newline trimmed (setting both is an error; errors never contain the value).
//
// The doc (docs/config.md) is generated from the table (ConfigDoc; a test fails when it is
// stale), and pkg/deploycheck checks compose and k8s environments against it (LookupVar,
// Var.Check). The default given to a getter must match Var.Default: a test reads every
// configuration once with no variables set and once with every default set explicitly, and
// compares the results.

// Type is the type of a variable's value.
type Type int

// The variable types and their syntax.
const (
	String   Type = iota // any text
	Int                  // a decimal integer
	Float                // a decimal number
	Bool                 // true/false, 1/0 (strconv.ParseBool)
	Duration             // a Go duration: 500ms, 30s, 5m, 1h30m
	List                 // comma-separated values, blanks trimmed
)

var typeNames = [...]string{String: "string", Int: "int", Float: "float", Bool: "bool", Duration: "duration", List: "list"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// The binaries, as named in Var.Binaries: the all-in-one (with its CLI commands), the five
// stage services and developer tools under pkg/cmd.
const (
	BinNewsflow = "newsflow"
	BinFetcher  = "fetcher"
	BinCleaner  = "cleaner"
	BinEnricher = "enricher"
	BinIndexer  = "indexer"
	BinAlerter  = "alerter"
)

// Var declares one NEWSFLOW_* environment variable.
type Var struct {
	Name     string
	Type     Type
	Default  string // as written in the environment; "" when none or computed (Doc says how)
	Doc      string // one or two sentences for docs/config.md and `newsflow check`
	Secret   bool   // never printed; NEWSFLOW_X_FILE is accepted
	Binaries []string
}

// FileSuffix is appended to a secret variable's name to read its value from a file.
const FileSuffix = "_FILE"

// Check reports whether value is valid for v's type (not the range checks of each
// component's Validate). The error never contains a secret's value.
func (v Var) Check(value string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	var err error
	switch v.Type {
	case Int:
		_, err = strconv.Atoi(value)
	case Float:
		_, err = strconv.ParseFloat(value, 64)
	case Bool:
		_, err = strconv.ParseBool(value)
	case Duration:
		_, err = time.ParseDuration(value)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s=%s: not %s", v.Name, v.show(value), typeHint[v.Type])
}

var typeHint = map[Type]string{Int: "an integer", Float: "a number", Bool: "a boolean (true/false)", Duration: "a duration (e.g. 30s, 5m)"}

// show quotes value for an error message, or hides it for a secret.
func (v Var) show(value string) string {
	if v.Secret {
		return "(secret, not shown)"
	}
	return strconv.Quote(value)
}

var registryIndex = func() map[string]int {
	m := make(map[string]int, len(registry))
	for i, v := range registry {
		if _, dup := m[v.Name]; dup {
			panic("service: configuration variable " + v.Name + " declared twice")
		}
		m[v.Name] = i
	}
	return m
}()

// Vars returns every declared variable, sorted by name.
func Vars() []Var {
	out := slices.Clone(registry)
	slices.SortFunc(out, func(a, b Var) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupVar returns the declaration of name. NEWSFLOW_X_FILE of a secret NEWSFLOW_X is
// returned as a String variable with that name.
func LookupVar(name string) (Var, bool) {
	if i, ok := registryIndex[name]; ok {
		return registry[i], true
	}
	if base, ok := strings.CutSuffix(name, FileSuffix); ok {
		if i, ok := registryIndex[base]; ok && registry[i].Secret {
			v := registry[i]
			return Var{Name: name, Type: String, Doc: "file holding " + base, Binaries: v.Binaries}, true
		}
	}
	return Var{}, false
}

// UsedBy reports whether binary reads v.
func (v Var) UsedBy(binary string) bool { return slices.Contains(v.Binaries, binary) }

// lookup returns the raw value of a declared variable read as type t, resolving a secret's
// _FILE. Problems are returned as errors that never contain a secret's value.
func lookup(getenv func(string) string, name string, t Type) (string, error) {
	i, ok := registryIndex[name]
	if !ok {
		return strings.TrimSpace(getenv(name)), fmt.Errorf("%s: not declared in the configuration registry (pkg/service/registry_vars.go): a programming error", name)
	}
	v := registry[i]
	if v.Type != t {
		return strings.TrimSpace(getenv(name)), fmt.Errorf("%s: declared as %s but read as %s: a programming error", name, v.Type, t)
	}
	val := strings.TrimSpace(getenv(name))
	if !v.Secret {
		return val, nil
	}
	path := strings.TrimSpace(getenv(name + FileSuffix))
	switch {
	case path == "":
		return val, nil
	case val != "":
		return "", fmt.Errorf("%s and %s%s are both set: set one", name, name, FileSuffix)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return "", fmt.Errorf("%s%s=%q: %w", name, FileSuffix, path, err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b), nil
}

// UnknownVars returns the NEWSFLOW_* names in environ ("KEY=value" entries, as os.Environ)
// that no binary reads: typos such as NEWSFLOW_FETCH_WORKRES. Names starting with
// NEWSFLOW_TEST_ or NEWSFLOW_STACK_ (tests and deploy/local) are not reported.
func UnknownVars(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "NEWSFLOW_") || strings.HasPrefix(k, "NEWSFLOW_TEST_") || strings.HasPrefix(k, "NEWSFLOW_STACK_") {
			continue
		}
		if _, ok := LookupVar(k); !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckEnv checks every declared variable set in getenv against its type (and a secret's
// _FILE), returning all problems. Range checks are each component's Validate.
func CheckEnv(getenv func(string) string) error {
	var errs []error
	for _, v := range registry {
		val, err := lookup(getenv, v.Name, v.Type)
		if err == nil {
			err = v.Check(val)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ConfigDoc renders the registry as the Markdown of docs/config.md.
func ConfigDoc() []byte {
	var b bytes.Buffer
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from pkg/service/registry_vars.go; do not edit. Regenerate with:\n")
	b.WriteString("     cd pkg && go test ./service -run TestConfigDoc -update -->\n\n")
	b.WriteString("Every newsflow binary is configured by `NEWSFLOW_*` environment variables; flags of the\n")
	b.WriteString("`newsflow` commands override some of them. Invalid values are all listed at once and the\n")
	b.WriteString("binary exits 2 before connecting to anything; `newsflow check` validates a configuration\n")
	b.WriteString("without running it. A variable marked *secret* can instead be read from a file: set\n")
	b.WriteString("`<NAME>_FILE` to its path (the trailing newline is trimmed; setting both is an error).\n\n")
	b.WriteString("Binaries: `newsflow` is the all-in-one and its CLI commands; `fetcher`, `cleaner`,\n")
	b.WriteString("`enricher`, `indexer`, `alerter` are the stage services.\n\n")
	b.WriteString("| Variable | Type | Default | Binaries | Description |\n|---|---|---|---|---|\n")
	for _, v := range Vars() {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		doc := strings.ReplaceAll(v.Doc, "|", "\\|")
		if v.Secret {
			doc = "**Secret** (`" + v.Name + FileSuffix + "` accepted). " + doc
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", v.Name, v.Type, def, strings.Join(v.Binaries, ", "), doc)
	}
	return b.Bytes()
}
