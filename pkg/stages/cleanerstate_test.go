package stages_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// cleanerStateSaved checks that a stopped cleaner saved its learned state: the shared-state
// snapshot (the bus is the service's own, so replicas share one log), else the two
// per-replica snapshots (a wrapped bus, as on the tests' shared servers).
func cleanerStateSaved(load func(name string) ([]byte, error)) error {
	if b, err := load("cleaner-shared.snap"); err == nil && len(b) > 0 {
		return nil
	}
	for _, name := range []string{"cleaner-template.snap", "cleaner-dedup.snap"} {
		if b, err := load(name); err != nil || len(b) == 0 {
			return fmt.Errorf("neither cleaner-shared.snap nor %s saved (%d bytes, %v)", name, len(b), err)
		}
	}
	return nil
}

// TestCleanerReplicasShareState: two cleaner services on one bus share their near-duplicate
// index through the shared state log: every reprint of a wire story is a duplicate of the
// first copy whichever replica cleans it, both replicas apply every record, and they stop
// with identical snapshots.
func TestCleanerReplicasShareState(t *testing.T) {
	be := embeddedNATS(t)
	client := testClient(t, be)
	cleaned := startSink(t, client, article.SubjectClean)
	noEnv := &service.Env{Get: func(string) string { return "" }}
	addCleaner := func(c stages.Common) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv))
		return err
	}
	stateA, stateB := service.StateDir(t.TempDir()), service.StateDir(t.TempDir())
	a := startPipeline(t, be, "stagetest-cleaner", stateA, addCleaner)
	b := startPipeline(t, be, "stagetest-cleaner", stateB, addCleaner)

	day := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	origURL := "https://www.southernherald.example.com/world/adana-quake-rescue"
	origID, raw := rawEnvelope(t, origURL, "text/html",
		reprint(t, "Southern Herald", "Rescuers pull survivors from collapsed apartment block after Adana earthquake", origURL), day)
	publish(t, client, article.SubjectRaw, origID, raw)
	waitFor(t, "the first copy", func() bool { return cleanedByURL(cleaned)[origURL] != nil })
	const copies = 8
	var urls []string
	for i := 1; i <= copies; i++ {
		u := fmt.Sprintf("https://site%d.example.org/world/adana-earthquake-%d", i, i)
		urls = append(urls, u)
		id, raw := rawEnvelope(t, u, "text/html", reprint(t, fmt.Sprintf("Site %d", i), "Adana earthquake: survivors pulled from rubble", u,
			"worked through the night on Sunday", "worked through the night"), day.Add(time.Duration(i)*time.Hour))
		publish(t, client, article.SubjectRaw, id, raw)
	}
	waitFor(t, "every copy", func() bool { return len(cleanedByURL(cleaned)) == copies+1 })
	got := cleanedByURL(cleaned)
	ids := map[string]bool{origID: true}
	for _, u := range urls {
		ids[got[u].ID] = true
	}
	for _, u := range urls {
		// duplicate_of is the earliest copy within the distance: the first one or an earlier
		// reprint (the reprints share an edit the first copy lacks); the cluster is the first.
		if c := got[u].Clean; !ids[c.DuplicateOf] || c.DuplicateOf == got[u].ID || c.ClusterID != origID {
			t.Errorf("%s: duplicate_of %q cluster %q, want the cluster of the first copy %s", u, c.DuplicateOf, c.ClusterID, origID)
		}
	}
	// Every replica applied every record (two per article), whichever cleaned it.
	records := float64(2 * (copies + 1))
	applied := func(p *pipeline) float64 {
		return gatherCounters(t, p.rt)["newsflow_cleaner_shared_records_applied_total{}"]
	}
	deadline := time.Now().Add(waitLimit)
	for applied(a) != records || applied(b) != records {
		if time.Now().After(deadline) {
			t.Fatalf("records applied: %v and %v, want %v each", applied(a), applied(b), records)
		}
		time.Sleep(20 * time.Millisecond)
	}
	okA := gatherCounters(t, a.rt)[`newsflow_stage_messages_total{outcome="ok",stage="cleaner"}`]
	okB := gatherCounters(t, b.rt)[`newsflow_stage_messages_total{outcome="ok",stage="cleaner"}`]
	t.Logf("replica A cleaned %v articles, replica B %v", okA, okB)
	if okA+okB != copies+1 {
		t.Errorf("cleaned %v + %v, want %d", okA, okB, copies+1)
	}
	for _, p := range []*pipeline{a, b} {
		if err := p.stop(t); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	sa, errA := stateA.Load("cleaner-shared.snap")
	sb, errB := stateB.Load("cleaner-shared.snap")
	if errA != nil || errB != nil || len(sa) == 0 || string(sa) != string(sb) {
		t.Errorf("snapshots on stop: %d bytes (%v) and %d bytes (%v), want the same state", len(sa), errA, len(sb), errB)
	}
}
