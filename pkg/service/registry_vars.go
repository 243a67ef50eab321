package service

// Binary sets used by the declarations below.
var (
	allBinaries = []string{BinNewsflow, BinFetcher, BinCleaner, BinEnricher, BinIndexer, BinAlerter}
	allServices = []string{BinFetcher, BinCleaner, BinEnricher, BinIndexer, BinAlerter}
	fetchers    = []string{BinNewsflow, BinFetcher}
	cleaners    = []string{BinNewsflow, BinCleaner}
	enrichers   = []string{BinNewsflow, BinEnricher}
	indexers    = []string{BinNewsflow, BinIndexer}
	alerters    = []string{BinNewsflow, BinAlerter}
)

// registry declares every NEWSFLOW_* variable (see registry.go). Keep one entry per variable;
// the order is free (docs/config.md is sorted by name).
var registry = []Var{
	// Shared by every service (LoadConfig).
	{Name: "NEWSFLOW_BUS", Type: String, Default: "nats", Binaries: allBinaries,
		Doc: "Message bus: `nats` (JetStream) or `kafka`. `newsflow run` always uses its embedded NATS; the `dlq` commands read this bus."},
	{Name: "NEWSFLOW_NATS_URL", Type: String, Default: "nats://127.0.0.1:4222", Binaries: allBinaries,
		Doc: "NATS server URL(s), comma separated; credentials in the URL are redacted in logs."},
	{Name: "NEWSFLOW_KAFKA_BROKERS", Type: List, Default: "127.0.0.1:9092", Binaries: allBinaries,
		Doc: "Kafka bootstrap brokers (host:port, comma separated), with `NEWSFLOW_BUS=kafka`."},
	{Name: "NEWSFLOW_ES_URL", Type: String, Default: "http://127.0.0.1:9200", Binaries: allBinaries,
		Doc: "Elasticsearch URL (indexer, `newsflow run/search/setup/check/rules test`); credentials in the URL are redacted in logs."},
	{Name: "NEWSFLOW_HTTP_ADDR", Type: String, Binaries: allBinaries,
		Doc: "Listen address of /metrics, /healthz, /readyz and the service endpoints. Default `127.0.0.1:0` (a random port) for the services, `127.0.0.1:8080` for `newsflow run`; containers set `:8080`."},
	{Name: "NEWSFLOW_LOG_LEVEL", Type: String, Default: "info", Binaries: allBinaries,
		Doc: "Log level: debug, info, warn or error."},
	{Name: "NEWSFLOW_LOG_FORMAT", Type: String, Default: "json", Binaries: allBinaries,
		Doc: "Log format of the services: json or console (`newsflow run` logs JSON to its data dir)."},
	{Name: "NEWSFLOW_CONCURRENCY", Type: Int, Default: "4", Binaries: allBinaries,
		Doc: "Messages each consumer handles at once (1..1024)."},
	{Name: "NEWSFLOW_MAX_DELIVER", Type: Int, Default: "5", Binaries: allBinaries,
		Doc: "Delivery attempts before a message is dead-lettered (the indexer uses `NEWSFLOW_INDEX_MAX_DELIVER`)."},
	{Name: "NEWSFLOW_ACK_WAIT", Type: Duration, Default: "1m0s", Binaries: allBinaries,
		Doc: "Time a delivery may stay unacknowledged before the bus redelivers it (>= 1s)."},
	{Name: "NEWSFLOW_SHUTDOWN_TIMEOUT", Type: Duration, Default: "25s", Binaries: allBinaries,
		Doc: "Drain budget on SIGTERM: in-flight messages finish and state is saved within it."},
	{Name: "NEWSFLOW_NATS_STREAM_REPLICAS", Type: Int, Default: "1", Binaries: allBinaries,
		Doc: "Replicas of the JetStream streams newsflow creates (1..5)."},
	{Name: "NEWSFLOW_KAFKA_PARTITIONS", Type: Int, Default: "3", Binaries: allBinaries,
		Doc: "Partitions of the Kafka topics newsflow creates."},
	{Name: "NEWSFLOW_KAFKA_REPLICATION_FACTOR", Type: Int, Default: "1", Binaries: allBinaries,
		Doc: "Replication factor of the Kafka topics newsflow creates (also the dlq marker topics)."},
	{Name: "NEWSFLOW_STATE_DIR", Type: String, Binaries: allServices,
		Doc: "Directory of the stage's snapshots (cleaner templates/dedup, alerter state). Default `data/<service>`; `newsflow run` uses `<data dir>/state`."},
	{Name: "NEWSFLOW_STATE_SAVE_INTERVAL", Type: Duration, Default: "1m0s", Binaries: []string{BinNewsflow, BinCleaner, BinAlerter},
		Doc: "How often learned state is snapshotted when idle."},

	// All-in-one.
	{Name: "NEWSFLOW_DATA_DIR", Type: String, Default: "data", Binaries: []string{BinNewsflow},
		Doc: "`newsflow run`: embedded NATS store, stage state and log file (flag `--data`)."},
	{Name: "NEWSFLOW_EMBEDDED_NATS_PORT", Type: Int, Binaries: []string{BinNewsflow},
		Doc: "`newsflow run`: client port of the embedded NATS (default 4223, flag `--nats-port`; -1: random)."},

	// Fetcher.
	{Name: "NEWSFLOW_SOURCES", Type: String, Binaries: fetchers,
		Doc: "Sources file (YAML or OPML). Unset: `newsflow run` serves the offline demo; the fetcher polls nothing and only fetches POST /v1/urls submissions."},
	{Name: "NEWSFLOW_FETCH_STATE_NATS_URL", Type: String, Binaries: []string{BinFetcher},
		Doc: "NATS server whose JetStream KV holds the fetcher's seen-set and feed state (default: `NEWSFLOW_NATS_URL`; needed with Kafka too); `memory` keeps it in the process (one replica, demo)."},
	{Name: "NEWSFLOW_FETCH_USER_AGENT", Type: String, Default: "newsflow/1.0 (+https://github.com/newsflow/newsflow)", Binaries: fetchers,
		Doc: "User-Agent of every request; its first word is the robots.txt agent."},
	{Name: "NEWSFLOW_FETCH_WORKERS", Type: Int, Default: "8", Binaries: fetchers, Doc: "Concurrent polls."},
	{Name: "NEWSFLOW_FETCH_REQUEST_TIMEOUT", Type: Duration, Default: "30s", Binaries: fetchers, Doc: "Whole request including the body."},
	{Name: "NEWSFLOW_FETCH_MAX_REDIRECTS", Type: Int, Default: "5", Binaries: fetchers, Doc: "Redirects followed per request."},
	{Name: "NEWSFLOW_FETCH_MAX_FEED_BYTES", Type: Int, Default: "16777216", Binaries: fetchers, Doc: "Decompressed feed/sitemap limit; larger is an error."},
	{Name: "NEWSFLOW_FETCH_MAX_PAGE_BYTES", Type: Int, Default: "4194304", Binaries: fetchers, Doc: "Decompressed page limit; larger pages are truncated (noted)."},
	{Name: "NEWSFLOW_FETCH_MAX_MESSAGE_BYTES", Type: Int, Default: "983040", Binaries: fetchers,
		Doc: "Largest envelope published (under NATS's default max_payload); bigger bodies are gzipped, then cut."},
	{Name: "NEWSFLOW_FETCH_MIN_INTERVAL", Type: Duration, Default: "5m0s", Binaries: fetchers, Doc: "Lower bound of the adaptive poll interval."},
	{Name: "NEWSFLOW_FETCH_MAX_INTERVAL", Type: Duration, Default: "12h0m0s", Binaries: fetchers, Doc: "Upper bound of the adaptive poll interval."},
	{Name: "NEWSFLOW_FETCH_DEFAULT_INTERVAL", Type: Duration, Default: "30m0s", Binaries: fetchers, Doc: "First poll interval of a feed without its own."},
	{Name: "NEWSFLOW_FETCH_MAX_BACKOFF", Type: Duration, Default: "12h0m0s", Binaries: fetchers, Doc: "Cap of the failure backoff."},
	{Name: "NEWSFLOW_FETCH_PARK_AFTER", Type: Int, Default: "10", Binaries: fetchers, Doc: "Consecutive failures before a feed is parked."},
	{Name: "NEWSFLOW_FETCH_PARKED_RETRY", Type: Duration, Default: "24h0m0s", Binaries: fetchers, Doc: "How often parked feeds are retried."},
	{Name: "NEWSFLOW_FETCH_HOST_INTERVAL", Type: Duration, Default: "1s", Binaries: fetchers, Doc: "Minimum gap between requests to one host, all feeds together."},
	{Name: "NEWSFLOW_FETCH_MAX_HOST_WAIT", Type: Duration, Default: "20s", Binaries: fetchers, Doc: "Longer host waits defer the request instead of blocking a worker."},
	{Name: "NEWSFLOW_FETCH_IGNORE_ROBOTS", Type: Bool, Default: "false", Binaries: fetchers, Doc: "Do not read robots.txt (not for production)."},
	{Name: "NEWSFLOW_FETCH_ALLOW_ADDRESSES", Type: List, Binaries: fetchers,
		Doc: "IPs or CIDRs the SSRF guard lets through although special (loopback, private); tests use 127.0.0.1."},
	{Name: "NEWSFLOW_FETCH_REPLICA_ID", Type: String, Binaries: fetchers, Doc: "Lease owner name of this replica (default hostname-pid-random)."},
	{Name: "NEWSFLOW_FETCH_LEASE_TTL", Type: Duration, Default: "10m0s", Binaries: fetchers, Doc: "A poll's lease; a dead replica's feeds are taken over after it."},
	{Name: "NEWSFLOW_FETCH_POLL_TIMEOUT", Type: Duration, Default: "3m0s", Binaries: fetchers, Doc: "One poll including its page fetches; unfinished items wait for the next poll."},
	{Name: "NEWSFLOW_FETCH_MAX_ITEMS_PER_POLL", Type: Int, Default: "100", Binaries: fetchers, Doc: "New items handled per poll; the rest next poll."},
	{Name: "NEWSFLOW_FETCH_PER_FEED_METRICS", Type: Bool, Default: "false", Binaries: fetchers,
		Doc: "Add a `feed` label to the per-feed gauges (fine for hundreds of feeds)."},
	{Name: "NEWSFLOW_FETCH_SUBMIT_TIMEOUT", Type: Duration, Default: "10s", Binaries: fetchers,
		Doc: "POST /v1/urls: longest wait for the broker to store one request's URLs; the rest are rejected."},

	// Cleaner.
	{Name: "NEWSFLOW_CLEAN_LANGUAGES", Type: List, Default: "en,es,fr,de,it,pt,nl,ru,uk,pl,ar,zh,ja,tr,sv,hi", Binaries: cleaners,
		Doc: "Languages the detector chooses among (ISO 639-1)."},
	{Name: "NEWSFLOW_CLEAN_MIN_TEXT_RUNES", Type: Int, Default: "1", Binaries: cleaners, Doc: "Pages whose cleaned text is shorter are rejected as \"no article text\" (dead-lettered)."},
	{Name: "NEWSFLOW_CLEAN_TIMEOUT", Type: Duration, Default: "10s", Binaries: cleaners, Doc: "Extraction budget per article."},

	// Enricher.
	{Name: "NEWSFLOW_ENRICH_ALIASES", Type: List, Binaries: enrichers, Doc: "Entity alias tables (YAML) applied on top of the built-in one, in order, comma separated."},
	{Name: "NEWSFLOW_ENRICH_MAX_KEYWORDS", Type: Int, Binaries: enrichers, Doc: "Keywords kept per article (unset: 10)."},
	{Name: "NEWSFLOW_ENRICH_MAX_TEXT_BYTES", Type: Int, Binaries: enrichers, Doc: "Bytes of text analysed per article, the rest ignored (unset: 200 KiB)."},

	// Indexer.
	{Name: "NEWSFLOW_INDEX_PREFIX", Type: String, Default: "newsflow", Binaries: indexers,
		Doc: "Prefix of the index templates, data streams and read aliases (`<prefix>-articles`, `<prefix>-alerts`)."},
	{Name: "NEWSFLOW_INDEX_REPLICAS", Type: Int, Default: "0", Binaries: indexers, Doc: "Replicas of each index."},
	{Name: "NEWSFLOW_INDEX_SHARDS", Type: Int, Default: "1", Binaries: indexers, Doc: "Primary shards of each index."},
	{Name: "NEWSFLOW_INDEX_RETENTION", Type: Duration, Binaries: indexers, Doc: "ILM delete phase after this age (unset: keep forever)."},
	{Name: "NEWSFLOW_INDEX_REFRESH_INTERVAL", Type: String, Default: "1s", Binaries: indexers, Doc: "index.refresh_interval: how soon an article is searchable."},
	{Name: "NEWSFLOW_INDEX_TRANSLOG_DURABILITY", Type: String, Binaries: indexers,
		Doc: "index.translog.durability: `request` (the Elasticsearch default) or `async`."},
	{Name: "NEWSFLOW_INDEX_FLUSH_BYTES", Type: Int, Default: "2097152", Binaries: indexers, Doc: "Bulk request size threshold."},
	{Name: "NEWSFLOW_INDEX_FLUSH_INTERVAL", Type: Duration, Default: "500ms", Binaries: indexers, Doc: "Longest wait before a partial bulk is sent."},
	{Name: "NEWSFLOW_INDEX_WORKERS", Type: Int, Default: "2", Binaries: indexers, Doc: "Concurrent bulk requests."},
	{Name: "NEWSFLOW_INDEX_REFRESH", Type: String, Binaries: indexers, Doc: "Bulk `refresh` parameter: unset, `true` or `wait_for` (tests)."},
	{Name: "NEWSFLOW_INDEX_MAX_DELIVER", Type: Int, Default: "1000", Binaries: indexers,
		Doc: "Delivery attempts before the indexer dead-letters a message (high: Elasticsearch outages are transient)."},

	// Alerter.
	{Name: "NEWSFLOW_ALERT_RULES", Type: String, Binaries: alerters,
		Doc: "Alert rules file (YAML), reloaded on change; unset: the shipped rules (pkg/alert/default-rules.yaml)."},
	{Name: "NEWSFLOW_ALERT_WEBHOOKS", Type: List, Secret: true, Binaries: alerters,
		Doc: "Webhook URLs that receive alerts as JSON, comma separated (the URLs are tokens)."},
	{Name: "NEWSFLOW_ALERT_SLACK_WEBHOOKS", Type: List, Secret: true, Binaries: alerters,
		Doc: "Slack incoming-webhook URLs, comma separated."},
	{Name: "NEWSFLOW_ALERT_NOTIFY_UPDATE_EVERY", Type: Duration, Default: "1h0m0s", Binaries: alerters,
		Doc: "Webhooks get an episode's firing and resolved messages and at most one still-firing update per this interval (0: none)."},
	{Name: "NEWSFLOW_ALERT_SHARD_INDEX", Type: Int, Default: "0", Binaries: alerters, Doc: "This replica's shard (0 .. count-1)."},
	{Name: "NEWSFLOW_ALERT_SHARD_COUNT", Type: Int, Default: "0", Binaries: alerters,
		Doc: "Alerter shards (terms are split by hash; each shard is its own consumer group); 0 or 1: one alerter."},
	{Name: "NEWSFLOW_ALERT_CHECKPOINT_INTERVAL", Type: Duration, Default: "5s", Binaries: alerters,
		Doc: "Articles are acked once the fsynced delta log covers them, at least this often."},
	{Name: "NEWSFLOW_ALERT_CHECKPOINT_MAX_PENDING", Type: Int, Default: "500", Binaries: alerters,
		Doc: "…or once this many articles wait (<= 512)."},
	{Name: "NEWSFLOW_ALERT_COMPACT_MB", Type: Int, Default: "64", Binaries: alerters, Doc: "The delta log is compacted into a snapshot at this size…"},
	{Name: "NEWSFLOW_ALERT_COMPACT_INTERVAL", Type: Duration, Default: "10m0s", Binaries: alerters, Doc: "…or this age."},
	{Name: "NEWSFLOW_ALERT_WARMUP", Type: Duration, Binaries: alerters,
		Doc: "Stream time the detector observes before it may fire (unset: 1h; negative: none)."},
	{Name: "NEWSFLOW_ALERT_MAX_EVENT_SKEW", Type: Duration, Binaries: alerters,
		Doc: "How far before its fetch an article's published date is still trusted as its event time (unset: the detector's default)."},

	// Developer tools.
	{Name: "NEWSFLOW_CACHE", Type: String, Binaries: []string{"train-ner"},
		Doc: "pkg/cmd/train-ner: download cache directory."},
}
