package service

import (
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/prometheus/client_golang/prometheus"
)

// NewBuildInfo returns the gauge newsflow_build_info{version,revision,goversion}, always 1,
// describing the running binary (cli.BuildInfo: the Makefile's -ldflags, else what the Go
// toolchain recorded). Every runtime registers it (New), so each binary's /metrics has it.
func NewBuildInfo() prometheus.Gauge {
	b := cli.BuildInfo()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "newsflow_build_info",
		Help:        "The running binary: version and VCS revision (from the build's -ldflags, else the Go build info) and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}
