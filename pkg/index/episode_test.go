package index

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// alertMsg is one message of an alert episode as the alerter publishes it.
func alertMsg(id, episode, status string, version int64, start time.Time, peak float64) *article.Envelope {
	end := start.Add(time.Duration(version) * 15 * time.Minute)
	a := &article.Alert{RuleID: "entity-spikes", RuleType: "spike", Term: "Acme", TermKind: "ORG", Status: status,
		WindowStart: end.Add(-time.Minute), WindowEnd: end, Current: peak, Baseline: 2, Score: 9,
		Reason: status + " reason", FirstSeen: start.Add(-time.Hour), FiredAt: end,
		EpisodeID: episode, EpisodeVersion: version, EpisodeStart: &start, Peak: peak, PeakPerMin: peak, PeakAt: &start}
	if status == "resolved" {
		a.EndedAt = &end
	}
	return &article.Envelope{ID: id, Stage: article.StageAlert, Alert: a}
}

// TestIndexerAlertEpisodeUpdatesInPlace: the firing, still_firing and resolved messages of one
// episode leave one document in the alerts index with the newest state, in the month the
// episode fired (the resolution comes a month later), and a replayed older message does not
// overwrite it.
func TestIndexerAlertEpisodeUpdatesInPlace(t *testing.T) {
	h := newHarness(t)
	stop, _ := h.run(os.Getenv("NEWSFLOW_ES_URL"))
	defer stop(false)
	start := time.Date(2026, 10, 31, 23, 50, 0, 0, time.UTC) // resolved in November
	ep := "ep" + strings.Repeat("0", 30)
	h.publish(alertMsg("m1", ep, "firing", 1, start, 12))
	h.publish(alertMsg("m2", ep, "still_firing", 2, start, 40))
	h.publish(alertMsg("m3", ep, "resolved", 3, start, 40))
	var hit map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		hit = h.alertDoc(ep)
		if hit != nil && hit["_source"].(map[string]any)["status"] == "resolved" {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if hit == nil || hit["_source"].(map[string]any)["status"] != "resolved" {
		t.Fatalf("episode document not resolved: %v", hit)
	}
	if idx := hit["_index"].(string); idx != h.names.AlertIndex(start) {
		t.Fatalf("episode in %s, want %s (the month it fired)", idx, h.names.AlertIndex(start))
	}
	// A stale replay of the firing message (another dedup key, so JetStream stores it).
	h.publishKeyed("-replay", alertMsg("m1", ep, "firing", 1, start, 12))
	h.publish(alertMsg("marker", "ep-marker"+strings.Repeat("1", 23), "firing", 1, start, 5))
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && h.alertDoc("ep-marker"+strings.Repeat("1", 23)) == nil {
		time.Sleep(300 * time.Millisecond)
	}
	hit = h.alertDoc(ep)
	src := hit["_source"].(map[string]any)
	if src["status"] != "resolved" || src["peak"] != 40.0 || src["message_id"] != "m3" || src["ended_at"] == nil {
		t.Fatalf("stale replay overwrote the episode: %v", src)
	}
	if n := h.alertCount(); n != 2 {
		t.Fatalf("%d alert documents, want 2 (one per episode)", n)
	}
}

func (h *harness) alertDoc(id string) map[string]any {
	h.t.Helper()
	_, _ = h.es.Indices.Refresh(h.es.Indices.Refresh.WithIndex(h.names.AlertsAlias()))
	r := h.searchIndex(h.names.AlertsAlias(), fmt.Sprintf(`{"query":{"ids":{"values":[%q]}}}`, id))
	hits := r["hits"].(map[string]any)["hits"]
	if hs, ok := hits.([]any); ok && len(hs) > 0 {
		return hs[0].(map[string]any)
	}
	return nil
}

func (h *harness) alertCount() int {
	_, _ = h.es.Indices.Refresh(h.es.Indices.Refresh.WithIndex(h.names.AlertsAlias()))
	return total(h.searchIndex(h.names.AlertsAlias(), `{"query":{"match_all":{}}}`))
}
