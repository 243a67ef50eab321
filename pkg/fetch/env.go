package fetch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConfigFromEnv reads NEWSFLOW_FETCH_* variables (getenv is os.Getenv in services) into a
// Config with defaults applied and validated. Unset variables keep the defaults:
//
//	NEWSFLOW_FETCH_USER_AGENT, _WORKERS, _REQUEST_TIMEOUT, _MAX_REDIRECTS, _MAX_FEED_BYTES,
//	_MAX_PAGE_BYTES, _MAX_MESSAGE_BYTES, _MIN_INTERVAL, _MAX_INTERVAL, _DEFAULT_INTERVAL,
//	_MAX_BACKOFF, _PARK_AFTER, _PARKED_RETRY, _HOST_INTERVAL, _MAX_HOST_WAIT, _IGNORE_ROBOTS,
//	_ALLOW_ADDRESSES (comma-separated IPs/CIDRs), _REPLICA_ID, _LEASE_TTL, _POLL_TIMEOUT,
//	_MAX_ITEMS_PER_POLL, _PER_FEED_METRICS, _SUBMIT_TIMEOUT
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	str := func(name string, p *string) {
		if v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_" + name)); v != "" {
			*p = v
		}
	}
	dur := func(name string, p *time.Duration) {
		if v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_" + name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("NEWSFLOW_FETCH_%s=%q: want a positive duration like 30s", name, v))
				return
			}
			*p = d
		}
	}
	num := func(name string, p *int64) {
		if v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_" + name)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("NEWSFLOW_FETCH_%s=%q: want a positive integer", name, v))
				return
			}
			*p = n
		}
	}
	boolean := func(name string, p *bool) {
		if v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_" + name)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("NEWSFLOW_FETCH_%s=%q: want true/false", name, v))
				return
			}
			*p = b
		}
	}
	var workers, redirects, msg, park, items int64
	str("USER_AGENT", &c.UserAgent)
	str("REPLICA_ID", &c.ReplicaID)
	num("WORKERS", &workers)
	num("MAX_REDIRECTS", &redirects)
	num("MAX_FEED_BYTES", &c.MaxFeedBytes)
	num("MAX_PAGE_BYTES", &c.MaxPageBytes)
	num("MAX_MESSAGE_BYTES", &msg)
	num("PARK_AFTER", &park)
	num("MAX_ITEMS_PER_POLL", &items)
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
	boolean("IGNORE_ROBOTS", &c.IgnoreRobots)
	boolean("PER_FEED_METRICS", &c.PerFeedMetrics)
	if v := strings.TrimSpace(getenv("NEWSFLOW_FETCH_ALLOW_ADDRESSES")); v != "" {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.AllowAddresses = append(c.AllowAddresses, a)
			}
		}
	}
	c.Workers, c.MaxRedirects, c.MaxMessageBytes, c.ParkAfter, c.MaxItemsPerPoll = int(workers), int(redirects), int(msg), int(park), int(items)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("fetch: env: %w", err)
	}
	c = c.Defaults()
	return c, c.Validate()
}
