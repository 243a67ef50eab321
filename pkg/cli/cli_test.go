package cli

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestDevVersion(t *testing.T) {
	tests := []struct {
		info debug.BuildInfo
		want string
	}{
		{info: debug.BuildInfo{}, want: "dev"},
		{info: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, want: "dev (go1.26.0)"},
		{info: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, want: "dev (v1.2.3, rev 0123456789ab+dirty, go1.26.0)"},
	}
	for _, tt := range tests {
		if got := devVersion(&tt.info); got != tt.want {
			t.Errorf("devVersion(%+v) = %q, want %q", tt.info, got, tt.want)
		}
	}
	if Version == "" && !strings.HasPrefix(VersionString(), "dev") {
		t.Errorf("VersionString() = %q without -ldflags -X", VersionString())
	}
}

func TestExecuteExitCodes(t *testing.T) {
	ran := 0
	build := func() *cobra.Command {
		root := &cobra.Command{Use: "tool", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { ran++; return nil }}
		root.Flags().Int("n", 1, "a number")
		root.AddCommand(
			&cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error { return errors.New("boom") }},
			&cobra.Command{Use: "config", RunE: func(*cobra.Command, []string) error { return ConfigError(errors.New("NEWSFLOW_X=1: bad")) }},
			&cobra.Command{Use: "usage", RunE: func(*cobra.Command, []string) error { return UsageError("want %s", "more") }},
			&cobra.Command{Use: "reported", RunE: func(*cobra.Command, []string) error { return Reported(ExitFailure) }},
		)
		return root
	}
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{args: nil, code: 0},
		{args: []string{"--help"}, code: 0, stdout: "Usage:\n  tool"},
		{args: []string{"fail", "-h"}, code: 0, stdout: "Usage:\n  tool fail"},
		{args: []string{"--version"}, code: 0, stdout: "tool " + VersionString()},
		{args: []string{"usage", "--version"}, code: 0, stdout: "tool " + VersionString()},
		{args: []string{"--bogus"}, code: 2, stderr: "unknown flag: --bogus\n\nUsage:\n  tool"},
		{args: []string{"--n", "x"}, code: 2, stderr: "invalid argument"},
		{args: []string{"fail"}, code: 1, stderr: "tool fail: boom\n"},
		{args: []string{"config"}, code: 2, stderr: "invalid configuration:\nNEWSFLOW_X=1: bad\n"},
		{args: []string{"usage"}, code: 2, stderr: "tool usage: want more\n\nUsage:\n  tool usage"},
		{args: []string{"reported"}, code: 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Execute(build(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tt.code, out.String(), tt.stdout, errb.String(), tt.stderr)
			}
			if tt.stderr == "" && errb.Len() > 0 {
				t.Fatalf("unexpected stderr %q", errb.String())
			}
		})
	}
	if ran != 1 {
		t.Fatalf("root ran %d times, want once (only without arguments)", ran)
	}
}

func TestBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name              string
		info              *debug.BuildInfo
		version, revision string
		want              Build
	}{
		{name: "no build info", want: Build{Version: "dev", Revision: "unknown", GoVersion: runtime.Version()}},
		{name: "devel module, no vcs", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			want: Build{Version: "dev", Revision: "unknown", GoVersion: "go1.26.0"}},
		{name: "module version and vcs", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs},
			want: Build{Version: "v1.2.3", Revision: "0123456789abcdef-dirty", GoVersion: "go1.26.0"}},
		{name: "ldflags win", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs},
			version: "1.4.0", revision: "feedface",
			want: Build{Version: "1.4.0", Revision: "feedface", GoVersion: "go1.26.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildInfo(tt.info, tt.version, tt.revision); got != tt.want {
				t.Errorf("buildInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
	if b := BuildInfo(); b.Version == "" || b.Revision == "" || b.GoVersion == "" {
		t.Errorf("BuildInfo() = %+v: every field set", b)
	}
}
