// Command newsflow is the all-in-one binary: `newsflow run` runs every stage in one process
// over an embedded NATS JetStream; extract, search, replay and setup are the user's tools.
// `newsflow -h` lists them.
package main

import (
	"os"

	"github.com/newsflow/newsflow/pkg/app"
)

func main() { os.Exit(app.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)) }
