package app

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests. The only exemption is idle HTTP
// keep-alive connections (net/http persistConn read/write loops) of the Elasticsearch client
// built inside the pipeline (stages.indexer: go-elasticsearch clones http.DefaultTransport,
// which the test cannot reach to close); they sit idle on the external ES server and end with
// the process. The test's own http.DefaultClient conns are closed before the check.
func TestMain(m *testing.M) {
	code := m.Run()
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
