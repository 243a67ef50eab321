package deploycheck

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnvVarsInCode(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"pkg/a/a.go":          `package a; var _ = get("NEWSFLOW_BUS"); var x = "NEWSFLOW_ES_URL"`,
		"pkg/a/a_test.go":     `package a; var _ = "NEWSFLOW_TEST_ONLY"`,
		"pkg/f/env.go":        "package f\nfunc r(g func(string) string) { str := func(n string, p *string) { *p = g(\"NEWSFLOW_FETCH_\" + n) }; var s string; str(\"USER_AGENT\", &s); dur(\"LEASE_TTL\", &d) }",
		"services/x/main.go":  `package main; var _ = "NEWSFLOW_HTTP_ADDR"; var _ = "NEWSFLOW_PARTIAL_"`,
		"pkg/a/testdata/t.go": `package t; var _ = "NEWSFLOW_IN_TESTDATA"`,
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := EnvVarsInCode(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NEWSFLOW_BUS", "NEWSFLOW_ES_URL", "NEWSFLOW_HTTP_ADDR", "NEWSFLOW_FETCH_USER_AGENT", "NEWSFLOW_FETCH_LEASE_TTL"} {
		if len(got[want]) == 0 {
			t.Errorf("%s not found (got %v)", want, sortedKeys(got))
		}
	}
	for _, not := range []string{"NEWSFLOW_TEST_ONLY", "NEWSFLOW_IN_TESTDATA", "NEWSFLOW_PARTIAL_", "NEWSFLOW_PARTIAL"} {
		if len(got[not]) > 0 {
			t.Errorf("%s should not be found", not)
		}
	}
}
