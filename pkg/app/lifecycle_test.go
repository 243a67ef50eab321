package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"go.uber.org/goleak"
)

// TestRunSetupFailureStopsWhatStarted: when a stage fails to set up after others were wired
// (here the alerter, whose state dir is a file, after the indexer started its bulk workers on
// the real Elasticsearch), Run returns the error and every goroutine started so far is
// stopped.
func TestRunSetupFailureStopsWhatStarted(t *testing.T) {
	es := testenv.Server(t, "NEWSFLOW_ES_URL")
	before := goleak.IgnoreCurrent()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := "nflc" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", ""))[:8]
	env := map[string]string{"NEWSFLOW_INDEX_PREFIX": prefix, "NEWSFLOW_LOG_LEVEL": "error"}
	t.Cleanup(func() { deleteESPrefix(t, env, es, prefix) })
	err := Run(RunOptions{DataDir: dir, ESURL: es, HTTPAddr: "127.0.0.1:0", NATSPort: -1, Progress: -1, Out: &syncBuffer{}},
		func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "alerter") {
		t.Fatalf("Run = %v, want the alerter's set-up error", err)
	}
	goleak.VerifyNone(t, before, // the test's own ES client (cleanup) is made after this

		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
}

// deleteESPrefix deletes the indices and templates of prefix.
func deleteESPrefix(t *testing.T, env map[string]string, esURL, prefix string) {
	es, err := esClient(func(k string) string { return env[k] }, esURL)
	if err != nil {
		t.Error(err)
		return
	}
	for _, p := range []string{"/" + prefix + "-*", "/_index_template/" + prefix + "-*", "/_component_template/" + prefix + "-*", "/_ilm/policy/" + prefix + "-retention"} {
		req, _ := http.NewRequest(http.MethodDelete, p, nil)
		if res, err := es.Perform(req); err == nil {
			res.Body.Close()
		}
	}
}
