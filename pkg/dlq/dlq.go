// Package dlq is the operator's view of newsflow's dead letters (the envelopes bus.DeadLetter
// publishes to news.dlq): list and show them with filters, requeue the original payload to
// its original subject exactly once, and purge them. `newsflow dlq` is its command line.
//
// Reading never disturbs the pipeline: on NATS an ephemeral ordered consumer (no durable, no
// acks), on Kafka plain Fetch requests per partition (no consumer group, no commits).
//
// IDs: the JetStream stream sequence ("42") or the Kafka partition and offset ("0:17").
//
// Requeue once: each requeue publishes the payload and then a marker (the dead letter's ID)
// to the subject <dlq>.requeued; dead letters with a marker are skipped by later requeues
// and shown as requeued. The republished message carries a dedup key derived from the dead
// letter's ID (JetStream Nats-Msg-Id <article id>-requeue-<dlq id>), so on NATS a requeue
// retried after a crash between the two publishes is dropped by the stream's duplicate
// window; on Kafka (no publish dedup) that crash window can republish once more — the
// stages' effects are idempotent per article ID, as for every Kafka redelivery. On Kafka the
// requeued payload keeps the article ID as its message key (same partition as the original).
//
// Purge: on NATS the dead letters are deleted from the stream (DeleteMsg). Kafka topics are
// append-only, so a purge publishes the IDs to the compacted topic <dlq>.purged and list,
// show and requeue hide them; the records themselves go when the topic's retention drops
// them. A topic on the broker (not a local file) so every operator and host sees one state.
// The marker subjects live as long as the DLQ (same stream limits on NATS; compacted topics
// on Kafka).
package dlq

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// HeaderRequeuedFrom is set on a requeued message: the dead letter's ID.
const HeaderRequeuedFrom = "Newsflow-Requeued-From"

// Config selects the bus and the DLQ subject.
type Config struct {
	Bus           string   // "nats" or "kafka"
	NATSURL       string   // Bus nats
	StreamPrefix  string   // NATS stream prefix (default NEWSFLOW, as the services use)
	KafkaBrokers  []string // Bus kafka
	KafkaReplicas int      // replication factor of the Kafka marker topics (default 1)
	Subject       string   // the DLQ subject (default news.dlq)
	ClientName    string   // connection / client name (default newsflow-dlq)
	// NATSOptions are extra NATS connect options: credentials and TLS (service.NATSBusConfig).
	NATSOptions []nats.Option
	// KafkaTLS and KafkaSASL secure every Kafka connection (service.KafkaBusConfig).
	KafkaTLS  *tls.Config
	KafkaSASL sasl.Mechanism
}

// Entry is one dead letter as read from the DLQ.
type Entry struct {
	ID       string    `json:"id"`
	Key      string    `json:"key"` // the original message key (article ID)
	Time     time.Time `json:"time"`
	Stage    string    `json:"stage"`
	Subject  string    `json:"subject"` // where the payload was consumed from
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	Size     int       `json:"payload_size"`
	Requeued bool      `json:"requeued"`
	Error    string    `json:"error,omitempty"` // the message did not decode as a dead letter
	Payload  []byte    `json:"-"`
}

// Filter selects dead letters; zero fields match everything.
type Filter struct {
	IDs    []string
	Stage  string    // exact, case-insensitive
	Reason string    // substring, case-insensitive
	Since  time.Time // Time >= Since
	Until  time.Time // Time < Until
	Limit  int       // at most this many (oldest first); 0: all
}

// Empty reports whether f selects everything.
func (f Filter) Empty() bool {
	return len(f.IDs) == 0 && f.Stage == "" && f.Reason == "" && f.Since.IsZero() && f.Until.IsZero()
}

func (f Filter) match(e Entry) bool {
	if len(f.IDs) > 0 {
		found := false
		for _, id := range f.IDs {
			found = found || id == e.ID
		}
		if !found {
			return false
		}
	}
	return (f.Stage == "" || strings.EqualFold(f.Stage, e.Stage)) &&
		(f.Reason == "" || strings.Contains(strings.ToLower(e.Reason), strings.ToLower(f.Reason))) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// ParseTime reads an RFC 3339 time or a duration back from now ("24h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-01T00:00:00Z) or a duration like 24h", s)
}

// raw is one retained message of a subject.
type raw struct {
	id     string
	key    string
	data   []byte
	time   time.Time
	header map[string]string
}

// backend is what a bus offers the tool.
type backend interface {
	// read returns every message retained on subject, oldest first, without a consumer group.
	read(ctx context.Context, subject string) ([]raw, error)
	publish(ctx context.Context, subject string, m bus.Outgoing) error
	// requeueKey is the key of a requeued payload.
	requeueKey(e Entry) string
	// remove deletes e from the DLQ; false: the backend cannot (then a purge marker hides it).
	remove(ctx context.Context, subject string, e Entry) (bool, error)
	close() error
}

// Tool reads and manages one DLQ subject. Not safe for concurrent use.
type Tool struct {
	be      backend
	subject string
}

// Open connects to the configured bus.
func Open(ctx context.Context, cfg Config) (*Tool, error) {
	if cfg.Subject == "" {
		cfg.Subject = "news.dlq"
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "newsflow-dlq"
	}
	var be backend
	var err error
	switch cfg.Bus {
	case "nats":
		be, err = openNATS(ctx, cfg)
	case "kafka":
		be, err = openKafka(ctx, cfg)
	default:
		return nil, fmt.Errorf("dlq: unknown bus %q (want nats or kafka)", cfg.Bus)
	}
	if err != nil {
		return nil, err
	}
	return &Tool{be: be, subject: cfg.Subject}, nil
}

// Close releases the connections.
func (t *Tool) Close() error { return t.be.close() }

// Subject is the DLQ subject.
func (t *Tool) Subject() string { return t.subject }

func (t *Tool) requeuedSubject() string { return t.subject + ".requeued" }
func (t *Tool) purgedSubject() string   { return t.subject + ".purged" }

type marker struct {
	ID      string    `json:"id"`
	Subject string    `json:"subject,omitempty"`
	At      time.Time `json:"at"`
}

func (t *Tool) markers(ctx context.Context, subject string) (map[string]bool, error) {
	rs, err := t.be.read(ctx, subject)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, r := range rs {
		var m marker
		if json.Unmarshal(r.data, &m) == nil && m.ID != "" {
			ids[m.ID] = true
		}
	}
	return ids, nil
}

// List returns the dead letters f selects, oldest first; purged ones are hidden.
func (t *Tool) List(ctx context.Context, f Filter) ([]Entry, error) {
	rs, err := t.be.read(ctx, t.subject)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	requeued, err := t.markers(ctx, t.requeuedSubject())
	if err != nil {
		return nil, err
	}
	purged, err := t.markers(ctx, t.purgedSubject())
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, r := range rs {
		if purged[r.id] {
			continue
		}
		e := decode(r)
		e.Requeued = requeued[e.ID]
		if !f.match(e) {
			continue
		}
		out = append(out, e)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, nil
}

// ErrNotFound: no dead letter has the ID (or it was purged).
var ErrNotFound = errors.New("dlq: no such dead letter")

// Get returns one dead letter with its payload.
func (t *Tool) Get(ctx context.Context, id string) (*Entry, error) {
	es, err := t.List(ctx, Filter{IDs: []string{id}})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return &es[0], nil
}

// RequeueResult says what a requeue did.
type RequeueResult struct {
	Requeued []Entry // republished now
	Skipped  []Entry // requeued before (or without an original subject): not republished
}

// Requeue republishes the original payload of every dead letter f selects to its original
// subject, once: dead letters requeued before are skipped.
func (t *Tool) Requeue(ctx context.Context, f Filter) (RequeueResult, error) {
	var res RequeueResult
	es, err := t.List(ctx, f)
	if err != nil {
		return res, err
	}
	for _, e := range es {
		if e.Requeued || e.Subject == "" || e.Error != "" {
			res.Skipped = append(res.Skipped, e)
			continue
		}
		out := bus.Outgoing{Key: t.be.requeueKey(e), Data: e.Payload, Header: map[string]string{HeaderRequeuedFrom: t.subject + "/" + e.ID}}
		if err := t.be.publish(ctx, e.Subject, out); err != nil {
			return res, fmt.Errorf("dlq: requeue %s to %s: %w", e.ID, e.Subject, err)
		}
		if err := t.mark(ctx, t.requeuedSubject(), "requeued", e); err != nil {
			return res, err
		}
		e.Requeued = true
		res.Requeued = append(res.Requeued, e)
	}
	return res, nil
}

func (t *Tool) mark(ctx context.Context, subject, what string, e Entry) error {
	b, _ := json.Marshal(marker{ID: e.ID, Subject: e.Subject, At: time.Now().UTC()})
	key := what + "-" + e.ID // Kafka: the compaction key; NATS: the dedup key
	if err := t.be.publish(ctx, subject, bus.Outgoing{Key: strings.ReplaceAll(key, ":", "-"), Data: b}); err != nil {
		return fmt.Errorf("dlq: record %s %s on %s: %w", what, e.ID, subject, err)
	}
	return nil
}

// Purge removes the dead letters f selects and returns them.
func (t *Tool) Purge(ctx context.Context, f Filter) ([]Entry, error) {
	es, err := t.List(ctx, f)
	if err != nil {
		return nil, err
	}
	var done []Entry
	for _, e := range es {
		ok, err := t.be.remove(ctx, t.subject, e)
		if err != nil {
			return done, fmt.Errorf("dlq: purge %s: %w", e.ID, err)
		}
		if !ok {
			if err := t.mark(ctx, t.purgedSubject(), "purged", e); err != nil {
				return done, err
			}
		}
		done = append(done, e)
	}
	return done, nil
}

// decode reads a DLQ message; one that is not a dead-letter envelope is kept with its headers
// and the decoding error (it can be shown and purged, not requeued).
func decode(r raw) Entry {
	e := Entry{ID: r.id, Key: r.key, Time: r.time, Size: len(r.data), Payload: r.data}
	env, err := article.Decode(r.data)
	if err == nil && env.DLQ == nil {
		err = errors.New("envelope without a dead letter")
	}
	if err != nil {
		e.Error = err.Error()
		e.Stage, e.Subject, e.Reason = r.header[bus.HeaderStage], r.header[bus.HeaderSubject], r.header[bus.HeaderReason]
		e.Attempts, _ = strconv.Atoi(r.header[bus.HeaderAttempt])
		return e
	}
	d := env.DLQ
	e.Key, e.Stage, e.Subject, e.Reason, e.Attempts, e.Payload, e.Size = env.ID, d.Stage, d.Subject, d.Reason, d.Attempts, d.Payload, len(d.Payload)
	if !d.FailedAt.IsZero() {
		e.Time = d.FailedAt
	}
	return e
}

// WriteTable prints entries as a table.
func WriteTable(w io.Writer, es []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSTAGE\tSUBJECT\tREASON\tSIZE\tREQUEUED")
	for _, e := range es {
		rq := ""
		if e.Requeued {
			rq = "yes"
		}
		reason := strings.Join(strings.Fields(e.Reason), " ")
		if e.Error != "" {
			reason = "(undecodable) " + reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.ID, e.Time.UTC().Format(time.RFC3339), e.Stage, e.Subject, truncate(reason, 60), e.Size, rq)
	}
	return tw.Flush()
}

// WriteEntry prints one dead letter whole; a JSON payload is pretty-printed.
func WriteEntry(w io.Writer, e *Entry) error {
	var b strings.Builder
	fmt.Fprintf(&b, "id:        %s\nkey:       %s\ntime:      %s\nstage:     %s\nsubject:   %s\nattempts:  %d\nrequeued:  %t\nsize:      %d bytes\nreason:    %s\n",
		e.ID, e.Key, e.Time.UTC().Format(time.RFC3339Nano), e.Stage, e.Subject, e.Attempts, e.Requeued, e.Size, e.Reason)
	if e.Error != "" {
		fmt.Fprintf(&b, "error:     not a dead-letter envelope: %s\n", e.Error)
	}
	b.WriteString("payload:\n")
	var pretty bytes.Buffer
	if json.Indent(&pretty, e.Payload, "", "  ") == nil {
		b.Write(pretty.Bytes())
	} else {
		b.Write(e.Payload)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON is an entry with its payload, for -o json (the payload inline when it is JSON).
type JSON struct {
	Entry
	Payload json.RawMessage `json:"payload,omitempty"`
	Text    string          `json:"payload_text,omitempty"`
}

// ToJSON converts e for -o json; withPayload includes the payload.
func ToJSON(e Entry, withPayload bool) JSON {
	j := JSON{Entry: e}
	if withPayload {
		if json.Valid(e.Payload) {
			j.Payload = e.Payload
		} else {
			j.Text = string(e.Payload)
		}
	}
	return j
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func sortRaw(rs []raw) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].time.Before(rs[j].time) })
}
