package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

// Notifier delivers an alert somewhere (a webhook, a log). Notify may block up to its own
// timeout; the Alerter calls it from a per-notifier worker, never from detection.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, a *article.Alert) error
}

// WebhookFormat selects the webhook body.
type WebhookFormat string

const (
	// FormatJSON posts the article.Alert as JSON.
	FormatJSON WebhookFormat = "json"
	// FormatSlack posts {"text": "..."} (Slack incoming webhooks, Mattermost, Rocket.Chat…).
	FormatSlack WebhookFormat = "slack"
)

// WebhookConfig configures a WebhookNotifier.
type WebhookConfig struct {
	Name    string
	URL     string
	Format  WebhookFormat // default json
	Timeout time.Duration // per attempt (default 5s)
	Retries int           // extra attempts after the first (default 3)
	Backoff time.Duration // first retry delay, doubled each time (default 500ms)
	Header  map[string]string
}

// WebhookNotifier POSTs alerts to an HTTP endpoint with per-attempt timeouts and retries on
// network errors, 429 and 5xx. Safe for concurrent use.
type WebhookNotifier struct {
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhookNotifier validates cfg and returns a notifier. client may be nil.
func NewWebhookNotifier(cfg WebhookConfig, client *http.Client) (*WebhookNotifier, error) {
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Retries < 0 {
		return nil, errors.New("alert: webhook: negative retries")
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("alert: webhook %q: URL must be http(s), got %q", cfg.Name, redact.Webhook(cfg.URL))
	}
	if cfg.Format != FormatJSON && cfg.Format != FormatSlack {
		return nil, fmt.Errorf("alert: webhook %q: format must be json or slack, got %q", cfg.Name, cfg.Format)
	}
	if cfg.Name == "" {
		cfg.Name = "webhook-" + string(cfg.Format)
	}
	if client == nil {
		client = &http.Client{}
	}
	return &WebhookNotifier{cfg: cfg, client: client}, nil
}

// Name implements Notifier.
func (w *WebhookNotifier) Name() string { return w.cfg.Name }

// SlackText renders an alert as a short human message.
func SlackText(a *article.Alert) string {
	var b strings.Builder
	icon := map[string]string{StatusFiring: ":rotating_light:", StatusStillFiring: ":chart_with_upwards_trend:", StatusResolved: ":white_check_mark:"}[a.Status]
	fmt.Fprintf(&b, "%s *%s* %s %q (%s) — %s\n", icon, a.Status, a.TermKind, a.Term, a.RuleType, a.RuleID)
	fmt.Fprintf(&b, "%s\n", a.Reason)
	fmt.Fprintf(&b, "window %s – %s · current %.0f vs baseline %.2f · score %.1f\n",
		a.WindowStart.Format(time.RFC3339), a.WindowEnd.Format("15:04:05Z07:00"), a.Current, a.Baseline, a.Score)
	for _, ar := range a.TopArticles {
		fmt.Fprintf(&b, "• <%s|%s> (%s)\n", ar.URL, strings.ReplaceAll(ar.Title, "|", "¦"), ar.Source)
	}
	if len(a.TopSources) > 0 {
		fmt.Fprintf(&b, "sources: %s\n", strings.Join(a.TopSources, ", "))
	}
	return b.String()
}

// Notify implements Notifier. It blocks for at most (Retries+1)×Timeout plus backoff, or until
// ctx ends.
func (w *WebhookNotifier) Notify(ctx context.Context, a *article.Alert) error {
	var body []byte
	var err error
	if w.cfg.Format == FormatSlack {
		body, err = json.Marshal(map[string]string{"text": SlackText(a)})
	} else {
		body, err = json.Marshal(a)
	}
	if err != nil {
		return fmt.Errorf("alert: webhook %s: encode: %w", w.cfg.Name, err)
	}
	delay := w.cfg.Backoff
	var last error
	for attempt := 0; attempt <= w.cfg.Retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return redact.Error(fmt.Errorf("alert: webhook %s: %w (last: %v)", w.cfg.Name, ctx.Err(), last), w.cfg.URL)
			case <-t.C:
			}
			delay *= 2
		}
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return redact.Error(fmt.Errorf("alert: webhook %s: %w", w.cfg.Name, last), w.cfg.URL)
}

func (w *WebhookNotifier) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range w.cfg.Header {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("status %d", resp.StatusCode)
	default:
		return false, fmt.Errorf("status %d (not retried)", resp.StatusCode)
	}
}

// LogNotifier writes alerts to a zap logger.
type LogNotifier struct{ Log *zap.Logger }

// Name implements Notifier.
func (l LogNotifier) Name() string { return "log" }

// Notify implements Notifier; it never fails.
func (l LogNotifier) Notify(_ context.Context, a *article.Alert) error {
	l.Log.Info("alert", zap.String("rule", a.RuleID), zap.String("type", a.RuleType),
		zap.String("status", a.Status), zap.String("term", a.Term), zap.String("kind", a.TermKind),
		zap.Float64("current", a.Current), zap.Float64("baseline", a.Baseline),
		zap.Float64("score", a.Score), zap.String("reason", a.Reason))
	return nil
}

// dispatcher runs one notifier from a bounded queue so detection never blocks.
type dispatcher struct {
	n       Notifier
	q       chan *article.Alert
	timeout time.Duration
	outcome func(string)
	log     *zap.Logger
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
}

func newDispatcher(n Notifier, size int, timeout time.Duration, outcome func(string), log *zap.Logger) *dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcher{n: n, q: make(chan *article.Alert, size), timeout: timeout, outcome: outcome, log: log, ctx: ctx, cancel: cancel}
	d.wg.Add(1)
	go d.run()
	return d
}

// offer enqueues without blocking; a full queue drops the alert (metric outcome "dropped").
func (d *dispatcher) offer(a *article.Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.outcome("dropped")
		return
	}
	select {
	case d.q <- a:
	default:
		d.outcome("dropped")
		d.log.Warn("alert: notifier queue full, alert dropped", zap.String("notifier", d.n.Name()), zap.String("term", a.Term))
	}
}

func (d *dispatcher) run() {
	defer d.wg.Done()
	for a := range d.q {
		ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
		err := d.n.Notify(ctx, a)
		cancel()
		if err != nil {
			d.outcome("failed")
			d.log.Warn("alert: notify failed", zap.String("notifier", d.n.Name()), zap.Error(err))
			continue
		}
		d.outcome("sent")
	}
}

// close stops accepting, lets queued alerts go out until grace ends, then aborts.
func (d *dispatcher) close(grace time.Duration) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.q)
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		d.cancel()
		<-done
	}
	d.cancel()
}

// The shipped defaults of the alerter's ThrottledNotifier (NEWSFLOW_ALERT_NOTIFY_UPDATE_EVERY
// and NEWSFLOW_ALERT_NOTIFY_UPDATE_GROWTH).
const (
	DefaultNotifyUpdateEvery  = time.Hour
	DefaultNotifyUpdateGrowth = 2.0
)

// ThrottledNotifier passes the firing and the resolved message of every episode to Next, and a
// still_firing update only when it says something new: at least UpdateEvery after the last
// message passed for the episode (event time, Alert.FiredAt; UpdateEvery <= 0 drops every
// update) and, when UpdateGrowth > 1, with a peak rate (Alert.PeakPerMin) at least UpdateGrowth
// times the one of that last message: a burst that keeps its pace is not news, one that doubles
// is. A long burst thus notifies a newsroom at its start, when it escalates and when it ends,
// not every 15 minutes. The alerts index still receives every update. Safe for concurrent use.
type ThrottledNotifier struct {
	Next         Notifier
	UpdateEvery  time.Duration
	UpdateGrowth float64
	// SkipResolved drops the resolved messages too (a newsroom channel that wants to hear of
	// a burst, not of its end).
	SkipResolved bool

	mu   sync.Mutex
	last map[string]passed // episode id → its last message passed on
}

// passed is what ThrottledNotifier remembers of the last message of an episode it passed on.
type passed struct {
	at         time.Time
	peakPerMin float64
}

// throttleMaxEpisodes bounds the remembered episodes (a missed resolution must not leak).
const throttleMaxEpisodes = 100_000

// Name implements Notifier.
func (t *ThrottledNotifier) Name() string { return t.Next.Name() }

// Notify implements Notifier: it forwards a or drops a throttled update (returning nil).
func (t *ThrottledNotifier) Notify(ctx context.Context, a *article.Alert) error {
	if !t.pass(a) {
		return nil
	}
	return t.Next.Notify(ctx, a)
}

func (t *ThrottledNotifier) pass(a *article.Alert) bool {
	key := a.EpisodeID
	if key == "" {
		return true // not an episode (es_spike matches): nothing to throttle
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = make(map[string]passed)
	}
	switch a.Status {
	case StatusResolved:
		delete(t.last, key)
		return !t.SkipResolved
	case StatusStillFiring:
		prev, ok := t.last[key]
		if t.UpdateEvery <= 0 || (ok && a.FiredAt.Sub(prev.at) < t.UpdateEvery) {
			return false
		}
		if ok && t.UpdateGrowth > 1 && a.PeakPerMin < t.UpdateGrowth*prev.peakPerMin {
			return false
		}
	}
	if len(t.last) >= throttleMaxEpisodes {
		for k, v := range t.last {
			if a.FiredAt.Sub(v.at) > 48*time.Hour {
				delete(t.last, k)
			}
		}
		if len(t.last) >= throttleMaxEpisodes {
			clear(t.last)
		}
	}
	t.last[key] = passed{at: a.FiredAt, peakPerMin: a.PeakPerMin}
	return true
}
