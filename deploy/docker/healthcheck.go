//go:build ignore

// Command healthcheck is the container health probe of the newsflow images (distroless has
// no shell or curl): it GETs one URL and exits 0 on a 2xx answer within the timeout, 1
// otherwise. docker-compose runs it as
//
//	healthcheck: {test: ["CMD", "/healthcheck", "http://127.0.0.1:8080/healthz"]}
//
// Standard library only; built by deploy/docker/Dockerfile with
// `GOWORK=off go build healthcheck.go` (the build tag keeps it out of the workspace).
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	url := "http://127.0.0.1:8080/healthz"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	c := &http.Client{Timeout: 3 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthcheck: %v\n", err)
		os.Exit(1)
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		fmt.Fprintf(os.Stderr, "healthcheck: %s: %s\n", url, res.Status)
		os.Exit(1)
	}
}
