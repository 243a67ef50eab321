package cli

import (
	"runtime"
	"runtime/debug"
)

// Revision is the VCS revision set at build time (the Makefile's build target):
//
//	go build -ldflags "-X github.com/newsflow/newsflow/pkg/cli.Revision=$(git rev-parse HEAD)"
//
// When empty, BuildInfo takes the revision the Go toolchain recorded (vcs.revision).
var Revision = ""

// Build describes the running binary, as exported in the newsflow_build_info metric.
type Build struct {
	Version   string // Version when set at build time, else the main module's version, else "dev"
	Revision  string // Revision when set at build time, else vcs.revision (+"-dirty"), else "unknown"
	GoVersion string // the Go release that built the binary
}

// BuildInfo returns what is known of the running binary: the -ldflags values first, then
// runtime/debug.ReadBuildInfo.
func BuildInfo() Build {
	info, _ := debug.ReadBuildInfo()
	return buildInfo(info, Version, Revision)
}

func buildInfo(info *debug.BuildInfo, version, revision string) Build {
	b := Build{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if info != nil {
		if info.GoVersion != "" {
			b.GoVersion = info.GoVersion
		}
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		if rev, dirty := vcsRevision(info); b.Revision == "" && rev != "" {
			b.Revision = rev
			if dirty {
				b.Revision += "-dirty"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}

// vcsRevision is the VCS revision the Go toolchain recorded and whether the work tree had
// uncommitted changes ("" when not recorded).
func vcsRevision(info *debug.BuildInfo) (rev string, dirty bool) {
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return rev, dirty
}
