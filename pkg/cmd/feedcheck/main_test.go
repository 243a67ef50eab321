package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRunOverTestdata(t *testing.T) {
	var buf bytes.Buffer
	s, err := run("../../fetch/testdata", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if s.Panics != 0 || s.Files < 10 || s.OK < 8 || s.Errors < 2 {
		t.Fatalf("summary %+v\n%s", s, buf.String())
	}
	if !strings.Contains(buf.String(), "html page served where a feed was expected") {
		t.Errorf("html error not reported:\n%s", buf.String())
	}
}

// TestRunOverSharedEval runs over ../shared/eval/feeds when present (robustness, no panics).
func TestRunOverSharedEval(t *testing.T) {
	dir := "../../../../shared/eval/feeds"
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared eval feeds missing in CI: %v", err)
		}
		t.Skipf("shared eval feeds not present: %v", err)
	}
	s, err := run(dir, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Panics != 0 {
		t.Fatalf("parser panicked: %+v", s)
	}
	t.Logf("%+v", s)
}
