package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/internal/testenv"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

// TestImportUsage: help starts nothing, missing files and bad values exit 2 before connecting.
func TestImportUsage(t *testing.T) {
	env := map[string]string{"NEWSFLOW_NATS_URL": "nats://127.0.0.1:1"}
	dir := t.TempDir()
	file := filepath.Join(dir, "x.warc")
	if err := os.WriteFile(file, []byte("WARC/1.0\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--help"}, 0, "--state"},
		{[]string{"import"}, 2, "at least one WARC file"},
		{[]string{"import", filepath.Join(dir, "missing.warc")}, 2, "not a readable file"},
		{[]string{"import", "--bus", "rabbit", file}, 2, "want nats or kafka"},
		{[]string{"import", "--batch", "0", file}, 2, "--batch"},
		{[]string{"import", "--state", "", file}, 1, "127.0.0.1:1"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, func(k string) string { return env[k] }, nil, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("code %d (want %d), output %q", code, tt.code, out.String()+errb.String())
			}
		})
	}
}

// TestImportCommandNATS imports a farm's WARC through the command line onto the real NATS
// (required in CI), twice: the second run resumes from the state file and publishes nothing.
func TestImportCommandNATS(t *testing.T) {
	url := testenv.Server(t, "NEWSFLOW_NATS_URL")
	prefix := fmt.Sprintf("impt%d", time.Now().UnixNano()%1e9)
	subject := prefix + ".raw"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		nb, err := natsbus.New(ctx, natsbus.Config{URL: url}, zap.NewNop())
		if err != nil {
			return
		}
		defer nb.Close()
		for _, s := range []string{subject, "news.dlq"} {
			if s == "news.dlq" {
				continue // shared with the stages: left alone
			}
			_ = nb.JetStream().DeleteStream(ctx, natsbus.StreamName("NEWSFLOW", s))
		}
	})
	dir := t.TempDir()
	farm, err := newsfarm.New(newsfarm.Config{Backlog: 40, PoisonEvery: -1, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	warc := filepath.Join(dir, "farm.warc.gz")
	fh, err := os.Create(warc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := farm.WriteWARC(fh, farm.Epoch(), newsfarm.WARCOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = fh.Close()
	env := map[string]string{"NEWSFLOW_NATS_URL": url}
	state := filepath.Join(dir, "state.json")
	want := len(farm.Manifest(farm.Epoch()))
	for i, wantPublished := range []int{want, 0} {
		var out, errb bytes.Buffer
		code := Main([]string{"import", "--subject", subject, "--state", state, warc}, func(k string) string { return env[k] }, nil, &out, &errb)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errb.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("imported %d articles", wantPublished)) || !strings.Contains(errb.String(), "import [") {
			t.Errorf("run %d: stdout %q, stderr %q", i, out.String(), errb.String())
		}
	}
}
