package stages_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestAlerterAcksAfterCheckpoint: on every real backend the wired alerter defers each article
// until a checkpoint has appended it to the fsynced delta log alerter.log (next to the
// snapshot alerter.snap), then acks it; after a SIGTERM-style stop a restart recovers the state
// and is redelivered nothing (only a new article arrives).
func TestAlerterAcksAfterCheckpoint(t *testing.T) {
	onRealBackends(t, func(t *testing.T, be backend) {
		client := testClient(t, be)
		state := service.StateDir(t.TempDir())
		env := map[string]string{"NEWSFLOW_ALERT_CHECKPOINT_INTERVAL": "200ms"}
		e := &service.Env{Get: func(k string) string { return env[k] }}
		cfg := stages.AlerterConfigFromEnv(e)
		if err := e.Err(); err != nil {
			t.Fatal(err)
		}
		if cfg.Checkpoint.Interval != 200*time.Millisecond || cfg.Checkpoint.MaxPending != 500 {
			t.Fatalf("checkpoint config %+v", cfg.Checkpoint)
		}
		add := func(c stages.Common) error { _, err := stages.AddAlerter(c, cfg); return err }
		at := time.Now().Add(-time.Minute).UTC()
		send := func(i int) {
			url := fmt.Sprintf("https://alerter.example/a/%d", i)
			en := &article.Enriched{}
			en.URL, en.CanonicalURL, en.Title, en.FetchedAt = url, url, fmt.Sprintf("Story %d", i), at
			en.Entities = []article.Entity{{Type: "ORG", Name: "Acme", Normalized: "acme"}}
			id := fmt.Sprintf("al%03d", i)
			data, err := article.Encode(&article.Envelope{ID: id, Stage: article.StageEnriched, Enriched: en})
			if err != nil {
				t.Fatal(err)
			}
			publish(t, client, article.SubjectEnriched, id, data)
		}
		p := startPipeline(t, be, "alerter", state, add)
		const n = 20
		for i := 0; i < n; i++ {
			send(i)
		}
		waitFor(t, "every article deferred, then acked by a checkpoint", func() bool {
			cs := gatherCounters(t, p.rt)
			return cs[`newsflow_stage_messages_total{outcome="deferred",stage="alerter"}`] == n &&
				cs[`newsflow_alerter_checkpoints_total{result="ok"}`] >= 1 &&
				cs[`newsflow_alerter_pending_acks{}`] == 0
		})
		for _, f := range []string{"alerter.snap", "alerter.log"} {
			if _, err := os.Stat(filepath.Join(string(state), f)); err != nil {
				t.Fatalf("no %s although articles were acked: %v", f, err)
			}
		}
		if err := p.stop(t); err != nil {
			t.Fatal(err)
		}
		// A restart restores the final snapshot and sees only the one new article.
		p2 := startPipeline(t, be, "alerter", state, add)
		send(n)
		waitFor(t, "the new article observed after the restart", func() bool {
			return gatherCounters(t, p2.rt)["newsflow_alerter_articles_total{}"] >= 1
		})
		time.Sleep(time.Second)
		if got := gatherCounters(t, p2.rt)["newsflow_alerter_articles_total{}"]; got != 1 {
			t.Fatalf("restart observed %v articles, want 1 (the first %d were acked)", got, n)
		}
		if err := p2.stop(t); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAlerterCorruptSnapshotKeptAside: a snapshot that does not decode is renamed, not
// overwritten by the next checkpoint, and the alerter starts fresh.
func TestAlerterCorruptSnapshotKeptAside(t *testing.T) {
	be := embeddedNATS(t)
	state := service.StateDir(t.TempDir())
	if err := state.Save("alerter.snap", []byte("not a snapshot")); err != nil {
		t.Fatal(err)
	}
	add := func(c stages.Common) error { _, err := stages.AddAlerter(c, stages.AlerterConfig{}); return err }
	p := startPipeline(t, be, "alerter", state, add)
	kept, err := filepath.Glob(filepath.Join(string(state), "alerter.snap.bad-*"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept-aside snapshots %v (%v), want one", kept, err)
	}
	if b, err := os.ReadFile(kept[0]); err != nil || string(b) != "not a snapshot" {
		t.Fatalf("kept copy %q, %v", b, err)
	}
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
}
