package stages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
	"go.uber.org/zap"
)

// IndexerConfig configures the indexer stage.
type IndexerConfig struct {
	Index      index.Config
	ESURL      string
	MaxDeliver int // attempts before a message is dead-lettered; high, since ES outages are transient
}

// IndexerConfigFromEnv reads NEWSFLOW_ES_* and NEWSFLOW_INDEX_* variables.
func IndexerConfigFromEnv(e *service.Env, esURL string) IndexerConfig {
	c := IndexerConfig{ESURL: esURL}
	c.Index.Setup.Names.Prefix = e.String("NEWSFLOW_INDEX_PREFIX", "newsflow")
	c.Index.Setup.Replicas = e.Int("NEWSFLOW_INDEX_REPLICAS", 0)
	c.Index.Setup.Shards = e.Int("NEWSFLOW_INDEX_SHARDS", 1)
	c.Index.Setup.Retention = e.Duration("NEWSFLOW_INDEX_RETENTION", 0)
	c.Index.ArchiveAfter = e.Duration("NEWSFLOW_INDEX_ARCHIVE_AFTER", index.DefaultArchiveAfter)
	c.Index.Setup.RefreshInterval = e.String("NEWSFLOW_INDEX_REFRESH_INTERVAL", "1s")
	c.Index.Setup.TranslogDurability = e.String("NEWSFLOW_INDEX_TRANSLOG_DURABILITY", "")
	c.Index.FlushBytes = e.Int("NEWSFLOW_INDEX_FLUSH_BYTES", 2<<20)
	c.Index.FlushInterval = e.Duration("NEWSFLOW_INDEX_FLUSH_INTERVAL", 500*time.Millisecond)
	c.Index.Workers = e.Int("NEWSFLOW_INDEX_WORKERS", 2)
	c.Index.Refresh = e.String("NEWSFLOW_INDEX_REFRESH", "")
	c.MaxDeliver = e.Int("NEWSFLOW_INDEX_MAX_DELIVER", 1000)
	return c
}

// NewESClient builds the official client for url (or sec.CloudID) with the credentials and
// TLS settings of sec (it refuses servers that are not Elasticsearch).
func NewESClient(url string, sec service.ESSecurity) (*elasticsearch.Client, error) {
	return newESClient(url, sec, nil)
}

// newESClient is NewESClient over tr (nil: a clone of http.DefaultTransport).
func newESClient(url string, sec service.ESSecurity, tr *http.Transport) (*elasticsearch.Client, error) {
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	secrets := append(redact.Credentials(url), service.Security{ES: sec}.Secrets()...)
	cfg := elasticsearch.Config{
		MaxRetries:             2,
		Transport:              tr,
		APIKey:                 sec.EncodedAPIKey(),
		Username:               sec.Username,
		Password:               sec.Password,
		CloudID:                sec.CloudID,
		CertificateFingerprint: sec.NormalizedFingerprint(),
	}
	if sec.CloudID == "" {
		cfg.Addresses = []string{url}
	}
	if sec.CAFingerprint == "" && (sec.TLS.CAFile != "" || sec.TLS.CertFile != "" || sec.TLS.ServerName != "") {
		tc, err := sec.TLS.Config()
		if err != nil {
			return nil, &service.ConnError{Server: "elasticsearch " + esWhere(url, sec), Mechanism: sec.Describe(), What: "TLS settings", Err: err}
		}
		tr.TLSClientConfig = tc
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("elasticsearch client for %s: %w", esWhere(url, sec), err), secrets...)
	}
	return es, nil
}

// esWhere names the Elasticsearch newsflow talks to: the URL (redacted) or the Cloud ID's
// deployment name.
func esWhere(url string, sec service.ESSecurity) string {
	if sec.CloudID != "" {
		name, _, _ := strings.Cut(sec.CloudID, ":")
		return "cloud " + name
	}
	return redact.URL(url)
}

// checkESAuth asks Elasticsearch who the client is: rejected credentials (401/403), an
// untrusted certificate or a failed handshake return a *service.ConnError (a configuration
// error: the service exits 2); a server that does not answer returns nil (set-up retries).
func checkESAuth(ctx context.Context, es *elasticsearch.Client, url string, sec service.ESSecurity) error {
	server := "elasticsearch " + esWhere(url, sec)
	res, err := es.Info(es.Info.WithContext(ctx))
	if err != nil {
		return service.ConnFailure(server, sec.Describe(), err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		what := "credentials rejected"
		if sec.APIKey == "" && sec.Username == "" {
			what = "credentials required"
		}
		return &service.ConnError{Server: server, Mechanism: sec.Describe(), What: fmt.Sprintf("%s (HTTP %d)", what, res.StatusCode), Err: errors.New(res.Status())}
	}
	return nil
}

// AddIndexer installs the templates (retrying until Elasticsearch answers or ctx ends) and
// adds consumers for news.enriched and news.alerts. On stop the bulk in flight is flushed
// after the consumers drained.
func AddIndexer(ctx context.Context, c Common, cfg IndexerConfig) (*index.Indexer, error) {
	log := c.log("indexer")
	// The client's own transport, so its idle connections close when the stage stops.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	sec := c.RT.Cfg.Security.ES
	es, err := newESClient(cfg.ESURL, sec, tr)
	if err != nil {
		return nil, err
	}
	secrets := append(redact.Credentials(cfg.ESURL), c.RT.Cfg.Security.Secrets()...)
	if err := checkESAuth(ctx, es, cfg.ESURL, sec); err != nil {
		tr.CloseIdleConnections()
		return nil, redact.Error(err, secrets...)
	}
	ix, err := index.New(cfg.Index, es, c.Bus, log, c.RT.Reg)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = redact.Error(ix.Setup(ctx), secrets...)
		if err == nil {
			break
		}
		if attempt >= 30 || ctx.Err() != nil {
			_ = ix.Close(context.Background()) // stops the bulk indexer's workers
			tr.CloseIdleConnections()
			return nil, redact.Error(fmt.Errorf("indexer: install templates at %s: %w", esWhere(cfg.ESURL, sec), err), secrets...)
		}
		log.Warn("elasticsearch not ready, retrying template setup", zap.Error(err))
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	c.RT.AddReadyCheck(func(ctx context.Context) error {
		res, err := es.Ping(es.Ping.WithContext(ctx))
		if err != nil {
			if ce := service.ConnFailure("elasticsearch "+esWhere(cfg.ESURL, sec), sec.Describe(), err); ce != nil {
				err = ce
			}
			return redact.Error(fmt.Errorf("elasticsearch: %w", err), secrets...)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
			return fmt.Errorf("elasticsearch %s: credentials rejected (HTTP %d) with %s", esWhere(cfg.ESURL, sec), res.StatusCode, sec.Describe())
		}
		return nil
	})
	opts := c.RT.Cfg.ConsumeOptions("indexer")
	opts.MaxDeliver = cfg.MaxDeliver
	alertOpts := c.RT.Cfg.ConsumeOptions("indexer-alerts")
	alertOpts.MaxDeliver = cfg.MaxDeliver
	// Both consumers count in newsflow_stage_messages_total{stage="indexer"}: "deferred" is a
	// message handed to the bulk indexer, whose outcome is newsflow_indexer_items_total.
	m := service.NewStageMetrics("indexer", c.RT.Reg)
	c.RT.WatchConsumer(c.Bus, article.SubjectEnriched, opts.Group)
	c.RT.OnStop(func() { // a set-up failing later (Runtime.Abort): stop the bulk workers
		_ = ix.Close(context.Background())
		tr.CloseIdleConnections()
	})
	c.RT.Go("index "+article.SubjectEnriched, func(ctx context.Context) error {
		// On stop, handlers blocked by an Elasticsearch outage give up so both consumers
		// (this one and news.alerts, same Indexer) can drain.
		defer context.AfterFunc(ctx, ix.StopWaiting)()
		err := c.Bus.Consume(ctx, article.SubjectEnriched, opts, service.CountedHandler(ix.Handler(opts), m))
		fctx, cancel := context.WithTimeout(context.Background(), c.RT.Cfg.ShutdownTimeout)
		defer cancel()
		if cerr := ix.Close(fctx); cerr != nil {
			log.Warn("final bulk flush failed (messages stay unacked and will be redelivered)", zap.Error(cerr))
		}
		tr.CloseIdleConnections()
		return err
	})
	c.RT.Consume(c.Bus, article.SubjectAlerts, alertOpts, service.CountedHandler(ix.Handler(alertOpts), m))
	return ix, nil
}
