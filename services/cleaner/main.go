// Command cleaner consumes news.raw, extracts and cleans each article and publishes
// news.clean. Configuration: NEWSFLOW_* environment variables (see README); `cleaner -h`.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages/cleaner"
	"github.com/newsflow/newsflow/pkg/stages/kit"
)

func main() {
	// Extraction allocates many short-lived DOM nodes: GOGC=200 unless set buys ~15% more
	// pages/s for a larger heap (see pkg/clean/README.md); with a cgroup memory limit and no
	// GOMEMLIMIT, a soft limit below it (service.TuneGC, as the all-in-one does).
	service.TuneGC(os.Getenv, 200)
	os.Exit(kit.Main(cleaner.Service, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
