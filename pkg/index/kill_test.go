package index

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// buildIndexer builds services/indexer (workspace mode) into a temporary directory.
func buildIndexer(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "services", "indexer"))
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "indexer")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = src
	// Workspace mode: GOWORK/GOFLAGS from the caller (e.g. GOWORK=off, -mod=mod) would break
	// the build of the service against this checkout's pkg.
	cmd.Env = append(withoutEnv("GOWORK", "GOFLAGS"), "GOWORK=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build services/indexer: %v\n%s", err, out)
	}
	return bin
}

// withoutEnv returns os.Environ() without the given variables and without NEWSFLOW_*.
func withoutEnv(names ...string) []string {
	var out []string
next:
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NEWSFLOW_") {
			continue
		}
		for _, n := range names {
			if k == n {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// proc is one indexer process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startIndexer runs the indexer binary against the harness's NATS server and ES with the
// given bulk flush interval. Its log goes to a file that is printed if the test fails.
func (h *harness) startIndexer(bin, name, flushInterval string) *proc {
	return h.startIndexerES(bin, name, flushInterval, os.Getenv("NEWSFLOW_ES_URL"))
}

// startIndexerES is startIndexer against the Elasticsearch at esURL (e.g. a proxy).
func (h *harness) startIndexerES(bin, name, flushInterval, esURL string) *proc {
	t := h.t
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(withoutEnv(),
		"NEWSFLOW_BUS=nats",
		"NEWSFLOW_NATS_URL="+h.natsURL,
		"NEWSFLOW_ES_URL="+esURL,
		"NEWSFLOW_INDEX_PREFIX="+h.prefix,
		"NEWSFLOW_HTTP_ADDR=127.0.0.1:0",
		"NEWSFLOW_ACK_WAIT=3s",
		"NEWSFLOW_INDEX_FLUSH_INTERVAL="+flushInterval,
		// bulks are held for the interval (the kill and SIGTERM cases need a pending bulk)
		"NEWSFLOW_INDEX_FLUSH_IDLE=-1ms",
		"NEWSFLOW_STATE_DIR="+filepath.Join(dir, "state"),
		"NEWSFLOW_SHUTDOWN_TIMEOUT=60s",
	)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start indexer %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("log of indexer %s (tail):\n%s", name, b)
		}
	})
	return p
}

// signal sends sig and waits (generously: the box is loaded) for the process to exit.
func (p *proc) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s to indexer %s: %v", sig, p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("indexer %s did not exit within 90s of %s", p.name, sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// titles returns _id -> title of every article document (after a refresh).
func (h *harness) titles() map[string]string {
	h.t.Helper()
	out := map[string]string{}
	r := h.search(`{"size":10000,"_source":["title"],"query":{"match_all":{}}}`)
	hits, _ := r["hits"].(map[string]any)["hits"].([]any)
	for _, x := range hits {
		hit := x.(map[string]any)
		out[hit["_id"].(string)] = hit["_source"].(map[string]any)["title"].(string)
	}
	return out
}

// diff describes how got differs from want (empty if equal).
func diff(want, got map[string]string) string {
	var b bytes.Buffer
	n := 0
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			if n < 5 {
				fmt.Fprintf(&b, "%s: got %q want %q; ", id, g, w)
			}
			n++
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			if n < 5 {
				fmt.Fprintf(&b, "%s: unexpected; ", id)
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d documents differ (%d in index): %s", n, len(want), len(got), b.String())
}

// TestIndexerProcessKill runs the real indexer binary against the local Elasticsearch and an
// embedded NATS server owned by the test. It SIGKILLs the process with a bulk pending,
// publishes newer versions of a third, older versions of some and duplicates of others,
// restarts it and checks that the index converges to exactly N documents with the newest
// content; then SIGTERMs it with a bulk that only the shutdown flush can write, and checks
// the exit code and that the bulk is in Elasticsearch and acked.
func TestIndexerProcessKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the indexer binary")
	}
	h := newHarness(t)
	h.subjectPrefix = "" // the binary consumes the standard subjects of its own NATS server
	bin := buildIndexer(t)
	const n = 300
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	want := map[string]string{}
	v1 := func(i int) *article.Envelope {
		e := enriched(i, t0, fmt.Sprintf("story %d v1", i))
		want[e.ID] = e.Enriched.Title
		return e
	}
	matchAll := `{"query":{"match_all":{}}}`

	// 1. Process A gets the first half; once some of it is in ES, the second half, which A
	// pulls into its bulk buffer (2s flush interval); then A is killed.
	a := h.startIndexer(bin, "A", "2s")
	for i := 0; i < n/2; i++ {
		h.publish(v1(i))
	}
	if got := h.waitAbove(matchAll, 0, 120*time.Second); got == 0 {
		t.Fatal("indexer A indexed nothing within 120s")
	}
	for i := n / 2; i < n; i++ {
		h.publish(v1(i))
	}
	deadline := time.Now().Add(60 * time.Second)
	for h.consumer(article.SubjectEnriched, "newsflow-indexer").NumPending > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ci := h.consumer(article.SubjectEnriched, "newsflow-indexer")
	a.signal(t, syscall.SIGKILL)
	inES := total(h.search(matchAll))
	t.Logf("SIGKILL: %d of %d documents in Elasticsearch; %d delivered to A and unacked, %d not yet delivered", inES, n, ci.NumAckPending, ci.NumPending)
	if inES >= n {
		t.Logf("note: A had flushed everything before the kill; the redelivery path is still exercised by the duplicates below")
	}

	// 2. While no indexer runs: newer versions of a third, older versions of some (also of
	// ones with a newer version), and duplicate deliveries of the same version.
	newer, older := t0.Add(time.Hour), t0.Add(-time.Hour)
	for i := 0; i < n/3; i++ {
		e := enriched(i, newer, fmt.Sprintf("story %d v2", i))
		want[e.ID] = e.Enriched.Title
		h.publish(e)
	}
	for i := 0; i < 10; i++ {
		h.publish(enriched(i, older, fmt.Sprintf("story %d v0 stale", i)))
	}
	for i := n / 3; i < n/3+30; i++ {
		h.publish(enriched(i, older, fmt.Sprintf("story %d v0 stale", i)))
	}
	for i := n / 2; i < n/2+30; i++ {
		h.publishKeyed("#dup", enriched(i, t0, fmt.Sprintf("story %d v1", i)))
	}

	// 3. Process B converges the index: exactly n documents, each with its newest content.
	b := h.startIndexer(bin, "B", "2s")
	var d string
	deadline = time.Now().Add(180 * time.Second)
	for {
		if d = diff(want, h.titles()); d == "" {
			ci = h.consumer(article.SubjectEnriched, "newsflow-indexer")
			if ci.NumPending == 0 && ci.NumAckPending == 0 {
				break
			}
			d = fmt.Sprintf("index converged but %d undelivered and %d unacked messages remain", ci.NumPending, ci.NumAckPending)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %s", d)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := total(h.search(matchAll)); got != n {
		t.Fatalf("index holds %d documents, want exactly %d", got, n)
	}
	if dl := h.streamMsgs(article.SubjectDLQ); dl != 0 {
		t.Fatalf("%d messages dead-lettered", dl)
	}
	if code := b.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("indexer B exited with %d after SIGTERM, want 0", code)
	}

	// 4. Process C flushes only on SIGTERM (10m interval, bulk far below FlushBytes): the
	// articles it holds when signalled must be in ES after it exited 0, and acked.
	c := h.startIndexer(bin, "C", "10m")
	const m = 40
	for i := n; i < n+m; i++ {
		h.publish(v1(i))
	}
	deadline = time.Now().Add(120 * time.Second)
	for {
		ci = h.consumer(article.SubjectEnriched, "newsflow-indexer")
		if ci.NumPending == 0 && ci.NumAckPending == m {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexer C did not take the last %d articles: %d undelivered, %d unacked", m, ci.NumPending, ci.NumAckPending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := total(h.search(matchAll)); got != n {
		t.Fatalf("%d documents before SIGTERM, want %d (C must not have flushed yet)", got, n)
	}
	if code := c.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("indexer C exited with %d after SIGTERM, want 0", code)
	}
	if d := diff(want, h.titles()); d != "" {
		t.Fatalf("after SIGTERM: the final bulk was not flushed: %s", d)
	}
	ci = h.consumer(article.SubjectEnriched, "newsflow-indexer")
	if ci.NumAckPending != 0 {
		t.Errorf("after SIGTERM %d messages of the final bulk are unacked (would be redelivered)", ci.NumAckPending)
	}
}

// TestIndexerProcessSIGTERMDuringOutage: SIGTERM while Elasticsearch is unreachable must not
// hang on the handlers that wait for it: the process exits 0 with the messages unacked, and
// the next process indexes them once Elasticsearch is back.
func TestIndexerProcessSIGTERMDuringOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the indexer binary")
	}
	h := newHarness(t)
	h.subjectPrefix = ""
	bin := buildIndexer(t)
	px := newProxy(t, os.Getenv("NEWSFLOW_ES_URL"))
	now := time.Now().UTC()
	const n = 30
	a := h.startIndexerES(bin, "A", "500ms", px.url())
	for i := 0; i < n/3; i++ {
		h.publish(enriched(i, now, fmt.Sprintf("outage %d", i)))
	}
	matchOutage := `{"query":{"match_phrase":{"title":"outage"}}}`
	if got := h.waitTotal(matchOutage, n/3, 120*time.Second); got != n/3 {
		t.Fatalf("indexer A indexed %d of %d before the outage", got, n/3)
	}
	px.setUp(false)
	for i := n / 3; i < n; i++ {
		h.publish(enriched(i, now, fmt.Sprintf("outage %d", i)))
	}
	// Wait until A holds deliveries it cannot index, then a while longer (its bulk failed and
	// its handlers block), and stop it.
	deadline := time.Now().Add(60 * time.Second)
	for h.consumer(article.SubjectEnriched, "newsflow-indexer").NumAckPending == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if code := a.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("indexer A exited with %d after SIGTERM during the outage, want 0", code)
	}
	px.setUp(true)
	b := h.startIndexer(bin, "B", "500ms")
	if got := h.waitTotal(matchOutage, n, 120*time.Second); got != n {
		t.Fatalf("%d of %d documents indexed after the outage", got, n)
	}
	if dl := h.streamMsgs(article.SubjectDLQ); dl != 0 {
		t.Fatalf("%d messages dead-lettered", dl)
	}
	if code := b.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("indexer B exited with %d after SIGTERM, want 0", code)
	}
}
