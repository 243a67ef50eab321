// Package cli is the command-line layer every newsflow binary shares, built on cobra: the
// version string, the exit codes, and Execute, which runs a command tree so that on every
// command -h/--help and --version print and exit 0 before anything starts, flags are accepted
// before or after arguments, and unknown flags, unknown commands or unexpected arguments exit
// 2 with the command's usage on stderr.
//
// Exit codes: 0 success (and help, version); 1 a failure while running; 2 a usage error or
// invalid configuration (found before any network access).
package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of every newsflow binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2 // bad flags or arguments, invalid configuration
)

// Version is set at build time:
//
//	go build -ldflags "-X github.com/newsflow/newsflow/pkg/cli.Version=1.4.0" ./services/newsflow
//
// When empty, VersionString reports "dev" and what the Go build info knows.
var Version = ""

// VersionString is the version printed by --version: Version when set at build time, else
// "dev" followed by the module version, VCS revision (when the build recorded it) and Go
// version from runtime/debug.ReadBuildInfo.
func VersionString() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return devVersion(info)
}

func devVersion(info *debug.BuildInfo) string {
	parts := []string{}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		parts = append(parts, v)
	}
	if rev, dirty := vcsRevision(info); rev != "" {
		modified := ""
		if dirty {
			modified = "+dirty"
		}
		parts = append(parts, "rev "+rev[:min(len(rev), 12)]+modified)
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	if len(parts) == 0 {
		return "dev"
	}
	return "dev (" + strings.Join(parts, ", ") + ")"
}

// exitError carries an exit code; usage asks for the command's usage on stderr.
type exitError struct {
	code  int
	usage bool
	err   error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ConfigError marks err as invalid configuration: the binary exits 2 (nil stays nil).
func ConfigError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitUsage, err: fmt.Errorf("invalid configuration:\n%w", err)}
}

// UsageError marks err as a usage error found by a command itself (a missing argument, a
// bad flag value): exit 2 with the command's usage.
func UsageError(format string, a ...any) error {
	return &exitError{code: ExitUsage, usage: true, err: fmt.Errorf(format, a...)}
}

// Reported is an error already reported (logged) by the command: exit with code, print
// nothing more.
func Reported(code int) error { return &exitError{code: code} }

// ran marks an error returned by a command's RunE, as opposed to one cobra found while
// parsing (unknown flag or command, wrong arguments): those are usage errors.
type ran struct{ err error }

func (r ran) Error() string { return r.err.Error() }
func (r ran) Unwrap() error { return r.err }

// Execute runs root with args (os.Args[1:] in a main) and returns the exit code. It sets
// --version on every command of the tree and classifies errors into exit codes: a usage
// error prints the error and the usage of the command it concerns on stderr and returns 2;
// ConfigError returns 2; any other error of a command returns 1.
func Execute(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	if args == nil {
		args = []string{} // cobra reads os.Args when args are nil
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.CompletionOptions.DisableDefaultCmd = true
	prepare(root, root.Name()+" "+VersionString()+"\n")
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	var r ran
	isRun := errors.As(err, &r)
	code, usage := ExitUsage, !isRun
	var ee *exitError
	if errors.As(err, &ee) {
		code, usage = ee.code, ee.usage
		if ee.err == nil {
			return code
		}
	} else if isRun {
		code = ExitFailure
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	if usage {
		fmt.Fprintf(stderr, "\n%s", cmd.UsageString())
	}
	return code
}

// prepare gives every command --version and marks the errors its RunE returns.
func prepare(cmd *cobra.Command, version string) {
	cmd.Version = VersionString()
	cmd.SetVersionTemplate(version)
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				return ran{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		prepare(sub, version)
	}
}
