// Command newsflow is the all-in-one binary: `newsflow run` runs every stage in one process
// over an embedded NATS JetStream; extract, search, replay and setup are the user's tools.
// `newsflow -h` lists them.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/app"
	"github.com/newsflow/newsflow/pkg/service"
)

func main() {
	// GOGC=200 unless set (as the cleaner service does): less CPU in the collector for a
	// larger heap; with a cgroup memory limit and no GOMEMLIMIT, a soft limit below it.
	service.TuneGC(os.Getenv, 200)
	os.Exit(app.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
