package service

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/config.md from the registry")

// defaultsEnv is a getenv that sets every declared variable with a default to it.
func defaultsEnv(k string) string {
	if v, ok := LookupVar(k); ok {
		return v.Default
	}
	return ""
}

func TestConfigDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	want := ConfigDoc()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/config.md is stale: regenerate with `cd pkg && go test ./service -run TestConfigDoc -update`")
	}
}

func TestRegistryDeclarations(t *testing.T) {
	name := regexp.MustCompile(`^NEWSFLOW_[A-Z0-9]+(_[A-Z0-9]+)*$`)
	known := []string{BinNewsflow, BinFetcher, BinCleaner, BinEnricher, BinIndexer, BinAlerter, "train-ner"}
	for _, v := range Vars() {
		t.Run(v.Name, func(t *testing.T) {
			if !name.MatchString(v.Name) {
				t.Errorf("bad name")
			}
			if base, ok := strings.CutSuffix(v.Name, FileSuffix); ok {
				if b, ok := LookupVar(base); ok && b.Secret {
					t.Errorf("clashes with the file form of the secret %s", base)
				}
			}
			if strings.TrimSpace(v.Doc) == "" {
				t.Errorf("no doc")
			}
			if len(v.Binaries) == 0 {
				t.Errorf("no binaries")
			}
			for _, b := range v.Binaries {
				if !slices.Contains(known, b) {
					t.Errorf("unknown binary %q", b)
				}
			}
			if err := v.Check(v.Default); err != nil {
				t.Errorf("default: %v", err)
			}
			if v.Secret && v.Default != "" {
				t.Errorf("a secret has no default")
			}
		})
	}
}

func TestEnvProgrammingErrors(t *testing.T) {
	tests := []struct {
		name string
		read func(e *Env)
		want string
	}{
		{"undeclared", func(e *Env) { e.String("NEWSFLOW_NOT_DECLARED", "") }, "NEWSFLOW_NOT_DECLARED: not declared"},
		{"wrong type", func(e *Env) { e.Int("NEWSFLOW_BUS", 0) }, "NEWSFLOW_BUS: declared as string but read as int"},
		{"bad int", func(e *Env) { e.Int("NEWSFLOW_CONCURRENCY", 0) }, `NEWSFLOW_CONCURRENCY="x": not an integer`},
		{"bad duration", func(e *Env) { e.Duration("NEWSFLOW_ACK_WAIT", 0) }, `NEWSFLOW_ACK_WAIT="x": not a duration`},
		{"bad bool", func(e *Env) { e.Bool("NEWSFLOW_FETCH_IGNORE_ROBOTS", false) }, `NEWSFLOW_FETCH_IGNORE_ROBOTS="x": not a boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Env{Get: func(string) string { return "x" }}
			tt.read(e)
			if err := e.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	const secret = "https://hooks.example/T0/s3cr3t-token"
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nl, crlf, plain := file("nl", secret+"\n"), file("crlf", secret+"\r\n"), file("plain", secret)
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		wantErr string
	}{
		{"value", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS": secret}, []string{secret}, ""},
		{"file with newline", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS_FILE": nl}, []string{secret}, ""},
		{"file with crlf", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS_FILE": crlf}, []string{secret}, ""},
		{"file without newline", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS_FILE": plain}, []string{secret}, ""},
		{"both", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS": secret, "NEWSFLOW_ALERT_WEBHOOKS_FILE": nl}, nil, "both set"},
		{"missing file", map[string]string{"NEWSFLOW_ALERT_WEBHOOKS_FILE": filepath.Join(dir, "nope")}, nil, "no such file"},
		{"unset", map[string]string{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Env{Get: func(k string) string { return tt.env[k] }}
			got := e.List("NEWSFLOW_ALERT_WEBHOOKS", nil)
			err := e.Err()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the secret: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if cerr := CheckEnv(func(k string) string { return tt.env[k] }); (cerr != nil) != (tt.wantErr != "") {
				t.Errorf("CheckEnv = %v", cerr)
			}
		})
	}
	// A non-secret has no _FILE form.
	if _, ok := LookupVar("NEWSFLOW_BUS_FILE"); ok {
		t.Error("NEWSFLOW_BUS_FILE declared")
	}
}

func TestCheckEnvSecretValueHidden(t *testing.T) {
	v := Var{Name: "NEWSFLOW_X", Type: Int, Secret: true}
	if err := v.Check("s3cr3t"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Check = %v, want an error without the value", err)
	}
}

func TestUnknownVars(t *testing.T) {
	got := UnknownVars([]string{"NEWSFLOW_BUS=nats", "NEWSFLOW_FETCH_WORKRES=3", "PATH=/bin", "NEWSFLOW_TEST_LOG=debug",
		"NEWSFLOW_ALERT_WEBHOOKS_FILE=/run/x", "NEWSFLOW_BUS_FILE=/x", "NEWSFLOW_STACK_DIR=/tmp", "NEWSFLOW_FETCH_WORKRES=4"})
	if want := []string{"NEWSFLOW_BUS_FILE", "NEWSFLOW_FETCH_WORKRES"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCheckEnv(t *testing.T) {
	if err := CheckEnv(defaultsEnv); err != nil {
		t.Errorf("defaults: %v", err)
	}
	err := CheckEnv(func(k string) string {
		return map[string]string{"NEWSFLOW_CONCURRENCY": "many", "NEWSFLOW_ACK_WAIT": "soon"}[k]
	})
	for _, want := range []string{"NEWSFLOW_CONCURRENCY", "NEWSFLOW_ACK_WAIT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %s", err, want)
		}
	}
}

// TestLoadConfigDeclaredDefaults: the shared config is the same with nothing set and with every
// declared default set, so the registry's defaults (docs/config.md) are the code's.
func TestLoadConfigDeclaredDefaults(t *testing.T) {
	unset, err := LoadConfig("x", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	set, err := LoadConfig("x", defaultsEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(unset, set) {
		t.Errorf("declared defaults differ from the code's:\n unset %+v\n   set %+v", unset, set)
	}
}
