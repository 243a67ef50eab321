package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarcCommand(t *testing.T) {
	dir := t.TempDir()
	out, man := filepath.Join(dir, "f.warc.gz"), filepath.Join(dir, "f.jsonl")
	var stdout, stderr bytes.Buffer
	code := cliRun([]string{"warc", "--backlog", "30", "--out", out, "--manifest", man}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(man)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(b), "\n")
	if !strings.Contains(stdout.String(), "response records") || lines < 30 {
		t.Errorf("stdout %q, %d manifest lines", stdout.String(), lines)
	}
	if code := cliRun([]string{"warc"}, &stdout, &stderr); code != 2 {
		t.Errorf("warc without --out: exit %d, want 2", code)
	}
}
