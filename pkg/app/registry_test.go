package app

import (
	"reflect"
	"testing"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// declaredDefaults is a getenv setting every declared variable to its declared default.
func declaredDefaults(k string) string {
	v, _ := service.LookupVar(k)
	return v.Default
}

// TestConfigRegistry reads the configuration of every stage (the all-in-one reads them all)
// with nothing set, which fails on any undeclared or mistyped variable read, and with every
// declared default set, which must give the same configuration: the defaults of
// docs/config.md are the code's.
func TestConfigRegistry(t *testing.T) {
	read := func(getenv func(string) string) *runPlan {
		t.Helper()
		p, err := planRun(&RunOptions{}, getenv)
		if err != nil {
			t.Fatalf("planRun: %v", err)
		}
		e := &service.Env{Get: getenv}
		if f := stages.FetcherConfigFromEnv(e, "nats://x"); f.StateNATSURL != "nats://x" {
			t.Errorf("fetcher state URL %q", f.StateNATSURL)
		}
		if err := e.Err(); err != nil {
			t.Fatalf("fetcher: %v", err)
		}
		p.alerter.Alert.Now = nil // a func, not comparable
		return p
	}
	unset, set := read(func(string) string { return "" }), read(declaredDefaults)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"shared", set.cfg, unset.cfg},
		{"fetcher", set.fetcher, unset.fetcher},
		{"cleaner", set.cleaner, unset.cleaner},
		{"enricher", set.enricher, unset.enricher},
		{"indexer", set.indexer, unset.indexer},
		{"alerter", set.alerter, unset.alerter},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: declared defaults differ from the code's:\n declared %+v\n     code %+v", c.name, c.got, c.want)
		}
	}
}
