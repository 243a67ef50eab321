// Package clitest checks a newsflow binary's command line from the outside: it builds the
// binary of the current module into a temporary directory and runs it with -h, --help,
// --version, an unknown flag, an unexpected argument and invalid configuration, with every
// server address pointing at a local listener that counts connections, a 5 s timeout, and
// empty state and working directories. Help and version must exit 0 at once and start
// nothing: no connection, no file written.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestVersion is the version the binaries are built with (-ldflags -X).
const TestVersion = "9.9.9-clitest"

// Binary describes the binary under test.
type Binary struct {
	Name        string   // binary name, as in its usage line
	Subcommands []string // commands below the root, each checked like the root
	// RunArgs are the arguments that start the binary's long-running work (nil for a service,
	// "run" for newsflow); they are run with invalid configuration and must exit 2.
	RunArgs []string
}

// Build compiles the package in the current directory with cli.Version set to TestVersion.
func Build(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/newsflow/newsflow/pkg/cli.Version="+TestVersion, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// Result is one run of the binary.
type Result struct {
	Code           int
	Stdout, Stderr string
	Took           time.Duration
}

// Sandbox runs a binary with every server address pointing at a counting listener, an empty
// state directory and an empty working directory.
type Sandbox struct {
	Bin      string
	Dir      string // working directory
	StateDir string
	Env      []string
	conns    atomic.Int64
}

// NewSandbox starts the counting listener (closed at the end of the test).
func NewSandbox(t *testing.T, bin string) *Sandbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{Bin: bin, Dir: t.TempDir(), StateDir: t.TempDir()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	addr := ln.Addr().String()
	s.Env = append(os.Environ(),
		"NEWSFLOW_NATS_URL=nats://"+addr,
		"NEWSFLOW_ES_URL=http://"+addr,
		"NEWSFLOW_KAFKA_BROKERS="+addr,
		"NEWSFLOW_FETCH_STATE_NATS_URL=nats://"+addr,
		"NEWSFLOW_STATE_DIR="+s.StateDir,
		"NEWSFLOW_DATA_DIR="+filepath.Join(s.StateDir, "data"),
		"NEWSFLOW_HTTP_ADDR=127.0.0.1:0",
		"NEWSFLOW_SOURCES=",
	)
	return s
}

// Run runs the binary with args and extra environment, killed after 5 s.
func (s *Sandbox) Run(t *testing.T, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(append([]string{}, s.Env...), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %v: still running after 5 s (it started something)\nstderr: %s", filepath.Base(s.Bin), args, r.Stderr)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", filepath.Base(s.Bin), args, err)
	}
	return r
}

// CheckNothingStarted fails the test if the binary connected to a server or wrote a file.
func (s *Sandbox) CheckNothingStarted(t *testing.T) {
	t.Helper()
	if n := s.conns.Load(); n > 0 {
		t.Errorf("%d connection(s) to the configured servers", n)
	}
	for _, dir := range []string{s.Dir, s.StateDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 0 {
			t.Errorf("files written in %s: %v", dir, entries)
		}
	}
}

// Check builds the binary of the current module and runs the command-line checks.
func Check(t *testing.T, b Binary) {
	s := NewSandbox(t, Build(t, b.Name))
	want := func(t *testing.T, r Result, code int, stdout, stderr string) {
		t.Helper()
		if r.Code != code || !strings.Contains(r.Stdout, stdout) || !strings.Contains(r.Stderr, stderr) {
			t.Errorf("exit %d (want %d), stdout %q (want %q), stderr %q (want %q)", r.Code, code, r.Stdout, stdout, r.Stderr, stderr)
		}
	}
	for _, sub := range append([]string{""}, b.Subcommands...) {
		path := strings.Fields(sub)
		t.Run("cmd="+b.Name+" "+sub, func(t *testing.T) {
			use := strings.TrimSpace(b.Name + " " + sub)
			for _, h := range []string{"-h", "--help"} {
				want(t, s.Run(t, nil, append(path, h)...), 0, "Usage:\n  "+use, "")
			}
			want(t, s.Run(t, nil, append(path, "--version")...), 0, TestVersion, "")
			want(t, s.Run(t, nil, append(path, "--no-such-flag")...), 2, "", "Usage:\n  "+use)
			// A flag after an argument is parsed, not ignored.
			want(t, s.Run(t, nil, append(path, "stray", "--no-such-flag")...), 2, "", "unknown flag: --no-such-flag")
		})
	}
	t.Run("unexpected argument", func(t *testing.T) {
		want(t, s.Run(t, nil, "stray"), 2, "", "Usage:\n  "+b.Name)
	})
	t.Run("invalid configuration", func(t *testing.T) {
		r := s.Run(t, []string{"NEWSFLOW_CONCURRENCY=0", "NEWSFLOW_LOG_LEVEL=loud"}, b.RunArgs...)
		want(t, r, 2, "", "NEWSFLOW_CONCURRENCY=0")
		if !strings.Contains(r.Stderr, "NEWSFLOW_LOG_LEVEL") {
			t.Errorf("not every invalid variable listed: %s", r.Stderr)
		}
	})
	s.CheckNothingStarted(t)
}
