package deploycheck

import (
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/service"
)

func TestCheckEnvVar(t *testing.T) {
	tests := []struct {
		name, binary, key, value, want string
	}{
		{"declared", "fetcher", "NEWSFLOW_FETCH_WORKERS", "4", ""},
		{"not newsflow", "fetcher", "PATH", "x", ""},
		{"typo", "fetcher", "NEWSFLOW_FETCH_WORKRES", "4", "not a newsflow setting"},
		{"bad value", "", "NEWSFLOW_ACK_WAIT", "soon", "not a duration"},
		{"other binary", "cleaner", "NEWSFLOW_FETCH_WORKERS", "4", "not read by cleaner"},
		{"secret file", "alerter", "NEWSFLOW_ALERT_WEBHOOKS_FILE", "/run/secrets/hooks", ""},
		{"no file form", "", "NEWSFLOW_BUS_FILE", "/x", "not a newsflow setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEnvVar(tt.binary, tt.key, tt.value)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCodeVarsDeclared: every NEWSFLOW_* name the code spells out is declared in the
// configuration registry (the getters fail on undeclared names at run time; this catches the
// ones read without a getter).
func TestCodeVarsDeclared(t *testing.T) {
	root := repoRoot(t)
	vars := codeEnv(t, root)
	notVars := map[string]bool{"NEWSFLOW_NEWS_RAW": true} // a JetStream stream name (natsbus)
	for _, k := range sortedKeys(vars) {
		if notVars[k] || strings.HasPrefix(k, "NEWSFLOW_TEST_") {
			continue
		}
		if _, ok := service.LookupVar(k); !ok {
			t.Errorf("%s (in %s) is not declared in pkg/service/registry_vars.go", k, strings.Join(vars[k], ", "))
		}
	}
}
