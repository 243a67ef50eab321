package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
)

// TestBuildInfoExported: every runtime's registry has newsflow_build_info with the binary's
// version, revision and Go version.
func TestBuildInfoExported(t *testing.T) {
	rt := New(DefaultConfig("cleaner"), zap.NewNop())
	b := cli.BuildInfo()
	want := fmt.Sprintf(`
# HELP newsflow_build_info The running binary: version and VCS revision (from the build's -ldflags, else the Go build info) and Go version; always 1.
# TYPE newsflow_build_info gauge
newsflow_build_info{goversion=%q,revision=%q,version=%q} 1
`, b.GoVersion, b.Revision, b.Version)
	if err := testutil.GatherAndCompare(rt.Reg, strings.NewReader(want), "newsflow_build_info"); err != nil {
		t.Fatal(err)
	}
}

// TestStageMetricsShareARegistry: the stages of the all-in-one register the same metric names
// on one registry, told apart by the stage label.
func TestStageMetricsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, s := range []string{"cleaner", "enricher", "indexer"} {
		m := NewStageMetrics(s, reg)
		m.Messages.WithLabelValues("ok").Add(float64(len(s)))
		m.Seconds.Observe(0.01)
	}
	const want = `
# HELP newsflow_stage_messages_total Messages handled by a stage, by outcome (ok; deferred: the stage settles it later; retry; dead_letter; decode_error).
# TYPE newsflow_stage_messages_total counter
newsflow_stage_messages_total{outcome="ok",stage="cleaner"} 7
newsflow_stage_messages_total{outcome="ok",stage="enricher"} 8
newsflow_stage_messages_total{outcome="ok",stage="indexer"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), StageMessagesMetric); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, StageSecondsMetric); err != nil || n != 3 {
		t.Fatalf("%s: %d series (%v), want 3", StageSecondsMetric, n, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a stage registered twice on one registry did not panic")
		}
	}()
	NewStageMetrics("cleaner", reg)
}

func TestCountedHandler(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		outcome string
	}{
		{name: "nil is ok", outcome: "ok"},
		{name: "deferred", err: bus.ErrDeferred, outcome: "deferred"},
		{name: "wrapped deferred", err: fmt.Errorf("x: %w", bus.ErrDeferred), outcome: "deferred"},
		{name: "permanent is dead_letter", err: bus.Permanent(errors.New("bad")), outcome: "dead_letter"},
		{name: "other errors retry", err: errors.New("es down"), outcome: "retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := NewStageMetrics("indexer", reg)
			h := CountedHandler(func(context.Context, bus.Message) error { return tt.err }, m)
			if err := h(context.Background(), &fakeMsg{data: []byte("{}"), attempt: 1}); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want the handler's %v", err, tt.err)
			}
			if got := testutil.ToFloat64(m.Messages.WithLabelValues(tt.outcome)); got != 1 {
				t.Fatalf("outcome %s counted %v times, want 1", tt.outcome, got)
			}
			if n, _ := testutil.GatherAndCount(reg, StageMessagesMetric); n != 1 {
				t.Fatalf("%d outcome series, want 1", n)
			}
		})
	}
}
