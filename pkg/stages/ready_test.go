package stages_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// backendAt is a NATS server of the test's own at url, on the real subjects.
func backendAt(url string) backend {
	return backend{name: "nats-own", set: func(c *service.Config) { c.Bus, c.NATSURL = "nats", url }}
}

// readyz returns the status and body of GET /readyz.
func readyz(t testing.TB, addr string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestReadinessFollowsTheBus: a cleaner on a NATS server of its own (not the shared stack) is
// ready only once its consumer is set up, turns unready with the reason when that server
// stops, and ready again when a server is back on the same port and store.
func TestReadinessFollowsTheBus(t *testing.T) {
	dir := t.TempDir()
	srv, url, err := natsbus.StartEmbedded(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Addr().(*net.TCPAddr).Port
	be := backendAt(url)
	noEnv := &service.Env{Get: func(string) string { return "" }}
	p := startPipeline(t, be, "cleaner", "", func(c stages.Common) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv))
		return err
	})
	waitFor(t, "the HTTP server", func() bool { return p.rt.Addr() != "" })
	addr := p.rt.Addr()
	waitFor(t, "ready once the consumer is set up", func() bool { code, _ := readyz(t, addr); return code == http.StatusOK })

	srv.Shutdown()
	srv.WaitForShutdown()
	var body string
	waitFor(t, "unready with the bus down", func() bool {
		var code int
		code, body = readyz(t, addr)
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "bus") {
		t.Errorf("readyz body %q does not name the bus", body)
	}

	srv2, _, err := natsbus.StartEmbedded(dir, port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv2.Shutdown(); srv2.WaitForShutdown() })
	waitFor(t, "ready again with the bus back", func() bool { code, _ := readyz(t, addr); return code == http.StatusOK })
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestReadinessWaitsForConsumers: a runtime watching a consumer group that nobody set up
// answers 503 naming it.
func TestReadinessWaitsForConsumers(t *testing.T) {
	srv, url, err := natsbus.StartEmbedded(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	p := startPipeline(t, backendAt(url), "watcher", "", func(c stages.Common) error {
		c.RT.WatchConsumer(c.Bus, "news.nothing", "newsflow-nobody")
		c.RT.Go("idle", func(ctx context.Context) error { <-ctx.Done(); return nil })
		return nil
	})
	waitFor(t, "the HTTP server", func() bool { return p.rt.Addr() != "" })
	code, body := readyz(t, p.rt.Addr())
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "newsflow-nobody") {
		t.Fatalf("readyz %d %q, want 503 naming the consumer", code, body)
	}
}
