package fetch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/service"
)

// ConfigFromEnv reads the NEWSFLOW_FETCH_* variables declared in the configuration registry
// (pkg/service/registry_vars.go, docs/config.md) through getenv (os.Getenv in services) into a
// Config with defaults applied and validated. Unset variables keep the defaults; numbers and
// durations must be positive.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	e := &service.Env{Get: getenv}
	var errs []error
	// positive rejects a set value that parses but is not positive (parse errors are e's).
	positive := func(name string, ok bool, parse func(string) error) {
		v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_" + name))
		if !ok && v != "" && parse(v) == nil {
			errs = append(errs, fmt.Errorf("NEWSFLOW_FETCH_%s=%q: want a positive value", name, v))
		}
	}
	dur := func(name string, p *time.Duration) {
		*p = e.Duration("NEWSFLOW_FETCH_"+name, 0)
		positive(name, *p > 0, func(v string) error { _, err := time.ParseDuration(v); return err })
	}
	num := func(name string, p *int) {
		*p = e.Int("NEWSFLOW_FETCH_"+name, 0)
		positive(name, *p > 0, func(v string) error { _, err := strconv.Atoi(v); return err })
	}
	var feed, page int
	c.UserAgent = e.String("NEWSFLOW_FETCH_USER_AGENT", "")
	c.ReplicaID = e.String("NEWSFLOW_FETCH_REPLICA_ID", "")
	num("WORKERS", &c.Workers)
	num("MAX_REDIRECTS", &c.MaxRedirects)
	num("MAX_FEED_BYTES", &feed)
	num("MAX_PAGE_BYTES", &page)
	num("MAX_MESSAGE_BYTES", &c.MaxMessageBytes)
	num("PARK_AFTER", &c.ParkAfter)
	num("MAX_ITEMS_PER_POLL", &c.MaxItemsPerPoll)
	num("ITEM_CONCURRENCY", &c.ItemConcurrency)
	dur("REQUEST_TIMEOUT", &c.RequestTimeout)
	dur("MIN_INTERVAL", &c.MinInterval)
	dur("MAX_INTERVAL", &c.MaxInterval)
	dur("DEFAULT_INTERVAL", &c.DefaultInterval)
	dur("MAX_BACKOFF", &c.MaxBackoff)
	dur("PARKED_RETRY", &c.ParkedRetry)
	dur("HOST_INTERVAL", &c.HostInterval)
	dur("MAX_HOST_WAIT", &c.MaxHostWait)
	dur("LEASE_TTL", &c.LeaseTTL)
	dur("POLL_TIMEOUT", &c.PollTimeout)
	dur("SUBMIT_TIMEOUT", &c.SubmitTimeout)
	num("RENDER_CONCURRENCY", &c.RenderConcurrency)
	dur("RENDER_TIMEOUT", &c.RenderTimeout)
	num("RENDER_HEAP_MB", &c.RenderHeapMB)
	c.ChromiumPath = e.String("NEWSFLOW_FETCH_CHROMIUM_PATH", "")
	c.RenderAuto = e.Bool("NEWSFLOW_FETCH_RENDER_AUTO", false)
	c.IgnoreRobots = e.Bool("NEWSFLOW_FETCH_IGNORE_ROBOTS", false)
	c.PerFeedMetrics = e.Bool("NEWSFLOW_FETCH_PER_FEED_METRICS", false)
	c.AllowAddresses = e.List("NEWSFLOW_FETCH_ALLOW_ADDRESSES", nil)
	c.MaxFeedBytes, c.MaxPageBytes = int64(feed), int64(page)
	if err := errors.Join(e.Err(), errors.Join(errs...)); err != nil {
		return Config{}, fmt.Errorf("fetch: env: %w", err)
	}
	c = c.Defaults()
	return c, c.Validate()
}
