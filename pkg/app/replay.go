package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/enrich"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
)

func replayCommand(getenv func(string) string) *cobra.Command {
	var from, natsURL, busName, brokers, subject, to string
	cmd := &cobra.Command{
		Use:   "replay --from <RFC3339|duration>",
		Short: "re-enrich retained news.clean messages (after an enricher upgrade)",
		Long: "Re-enriches the news.clean messages retained on the bus since --from and publishes them to\n" +
			"news.enriched; the indexer replaces the older documents (newer enrichment version).\n" +
			"NATS (--bus nats): the JetStream stream NEWSFLOW_NEWS_CLEAN from the first message stored at\n" +
			"or after --from until none arrives for 2 s. Kafka (--bus kafka): every partition of the\n" +
			"news.clean topic from the first record timestamped at or after --from up to its end when\n" +
			"the replay starts, without a consumer group; NEWSFLOW_KAFKA_* TLS and SASL apply.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start, err := parseFrom(from, time.Now())
			if err != nil {
				return cli.UsageError("%v", err)
			}
			r := replayRun{out: cmd.OutOrStdout(), subject: subject, to: to, start: start}
			switch strings.ToLower(busName) {
			case "nats":
				return r.nats(cmd.Context(), natsURL)
			case "kafka":
				cfg, err := service.LoadConfig("newsflow", getenv)
				if err != nil {
					return cli.ConfigError(err)
				}
				cfg.Service = "replay"
				cfg.KafkaBrokers = service.SplitList(brokers)
				kc, err := service.KafkaBusConfig(cfg, nil)
				if err != nil {
					return cli.ConfigError(err)
				}
				return r.kafka(cmd.Context(), kc)
			default:
				return cli.UsageError("--bus %q: want nats or kafka", busName)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "start time: RFC 3339 (2026-11-01T00:00:00Z) or a duration back from now (24h)")
	f.StringVar(&busName, "bus", envOr(getenv, "NEWSFLOW_BUS", "nats"), "the services' bus: nats or kafka (NEWSFLOW_BUS)")
	f.StringVar(&natsURL, "nats", envOr(getenv, "NEWSFLOW_NATS_URL", "nats://127.0.0.1:4223"), "NATS URL; the all-in-one's embedded server listens on 4223 (NEWSFLOW_NATS_URL)")
	f.StringVar(&brokers, "kafka-brokers", envOr(getenv, "NEWSFLOW_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka bootstrap brokers, comma-separated (NEWSFLOW_KAFKA_BROKERS)")
	f.StringVar(&subject, "subject", article.SubjectClean, "the subject (topic) of the clean articles to replay")
	f.StringVar(&to, "to", article.SubjectEnriched, "the subject (topic) the re-enriched articles go to")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// replayRun re-enriches the clean envelopes of subject retained since start and publishes
// them to to, drawing a progress bar on out.
type replayRun struct {
	out         io.Writer
	subject, to string
	start       time.Time

	b            bus.Bus
	en           *enrich.Enricher
	stamp        string // makes the NATS dedup key of a replayed message new
	total        uint64 // messages expected, for the bar
	done, failed uint64
}

func (r *replayRun) bar(final bool) {
	pct := 0.0
	if r.total > 0 {
		pct = min(float64(r.done+r.failed)/float64(r.total), 1)
	}
	n := int(pct * 30)
	fmt.Fprintf(r.out, "\rreplay [%s%s] %d re-enriched, %d failed", strings.Repeat("#", n), strings.Repeat(".", 30-n), r.done, r.failed)
	if final {
		fmt.Fprintln(r.out)
	}
}

func (r *replayRun) init(b bus.Bus) error {
	en, err := enrich.New(enrich.Config{}, zap.NewNop(), nil)
	if err != nil {
		return err
	}
	r.b, r.en, r.stamp = b, en, time.Now().UTC().Format("20060102T150405")
	return nil
}

// handle re-enriches one clean envelope and publishes it. Only a failed publish is an
// error; an undecodable or unenrichable message is counted as failed.
func (r *replayRun) handle(ctx context.Context, data []byte) error {
	env, err := article.Decode(data)
	if err != nil || env.Clean == nil {
		r.failed++
		return nil
	}
	e, err := r.en.Enrich(ctx, env.ID, env.Clean)
	if err != nil {
		r.failed++
		return nil
	}
	out, err := article.Encode(&article.Envelope{ID: env.ID, Stage: article.StageEnriched, Enriched: e})
	if err != nil {
		r.failed++
		return nil
	}
	key := env.ID // Kafka: the partition key, so the copy follows the original's order
	if r.b.Features().DedupOnPublish {
		// A replay must not be swallowed by publish dedup of the original enriched message.
		key = env.ID + "-replay-" + r.stamp
	}
	if err := r.b.Publish(ctx, r.to, bus.Outgoing{Key: key, Data: out}); err != nil {
		return err
	}
	r.done++
	if r.done%10 == 0 {
		r.bar(false)
	}
	return nil
}

// nats replays with an ordered consumer from the first message stored at or after start
// until none arrives for 2 s.
func (r *replayRun) nats(ctx context.Context, natsURL string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b, err := natsbus.New(ctx, natsbus.Config{URL: natsURL, ConnectName: "newsflow-replay"}, zap.NewNop())
	if err != nil {
		return err
	}
	defer b.Close()
	if err := r.init(b); err != nil {
		return err
	}
	stream := natsbus.StreamName("NEWSFLOW", r.subject)
	st, err := b.JetStream().Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	start := r.start
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{r.subject}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return err
	}
	r.total = info.State.Msgs
	for {
		m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil { // no more retained messages
			r.bar(true)
			return nil
		}
		if err := r.handle(ctx, m.Data()); err != nil {
			return err
		}
	}
}

// kafka replays every partition of the topic from the first record timestamped at or after
// start to the partition's end when the replay starts (records published meanwhile are the
// running enricher's), with Fetch requests: no consumer group is joined, no offset committed.
// Partitions are read one after another, so each key's records keep their order.
func (r *replayRun) kafka(ctx context.Context, kc kafkabus.Config) error {
	topic, err := kafkabus.TopicName(r.subject)
	if err != nil {
		return err
	}
	b, err := kafkabus.New(ctx, kc, zap.NewNop())
	if err != nil {
		return err
	}
	defer b.Close()
	if err := r.init(b); err != nil {
		return err
	}
	tr := kc.Defaults().Transport()
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(kc.Brokers...), Transport: tr, Timeout: 10 * time.Second}
	where := redact.URL(strings.Join(kc.Brokers, ","))
	ranges, err := replayRanges(ctx, client, topic, r.start)
	if err != nil {
		return redact.Error(fmt.Errorf("replay: %s on %s: %w", topic, where, err))
	}
	for _, pr := range ranges {
		r.total += uint64(pr.last - pr.first)
	}
	for _, pr := range ranges {
		if err := r.kafkaPartition(ctx, client, topic, pr); err != nil {
			return redact.Error(fmt.Errorf("replay: %s/%d on %s: %w", topic, pr.partition, where, err))
		}
	}
	r.bar(true)
	return nil
}

// offsetRange is the records [first, last) of one partition.
type offsetRange struct {
	partition   int
	first, last int64
}

// replayRanges returns, per partition of topic, the offsets from the first record
// timestamped at or after start to the partition's end; a missing topic has none.
func replayRanges(ctx context.Context, client *kafka.Client, topic string, start time.Time) ([]offsetRange, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if len(md.Topics) == 0 || errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		return nil, fmt.Errorf("topic %s does not exist", topic)
	}
	if err := md.Topics[0].Error; err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	// Two requests: a partition may appear once per ListOffsets request, and a time query
	// that finds nothing answers offset -1, which kafka-go would read as the last offset.
	var ends, times []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		ends = append(ends, kafka.LastOffsetOf(p.ID))
		times = append(times, kafka.TimeOffsetOf(p.ID, start))
	}
	endRes, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: ends}})
	if err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	timeRes, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: times}})
	if err != nil {
		return nil, fmt.Errorf("offsets at %s: %w", start.UTC().Format(time.RFC3339), err)
	}
	firsts := map[int]int64{}
	for _, po := range timeRes.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets at %s of partition %d: %w", start.UTC().Format(time.RFC3339), po.Partition, po.Error)
		}
		firsts[po.Partition] = -1 // nothing at or after start
		for off := range po.Offsets {
			firsts[po.Partition] = off
		}
	}
	var out []offsetRange
	for _, po := range endRes.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("end offset of partition %d: %w", po.Partition, po.Error)
		}
		first, ok := firsts[po.Partition]
		if !ok || first < 0 || first > po.LastOffset {
			first = po.LastOffset
		}
		out = append(out, offsetRange{partition: po.Partition, first: first, last: po.LastOffset})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].partition < out[j].partition })
	return out, nil
}

// kafkaPartition fetches and handles the records of one range in offset order.
func (r *replayRun) kafkaPartition(ctx context.Context, client *kafka.Client, topic string, pr offsetRange) error {
	for off := pr.first; off < pr.last; {
		res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: pr.partition, Offset: off, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 500 * time.Millisecond})
		if err == nil {
			err = res.Error
		}
		if err != nil {
			return fmt.Errorf("fetch at %d: %w", off, err)
		}
		next := off
		for {
			rec, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("read at %d: %w", off, err)
			}
			if rec.Offset < off || rec.Offset >= pr.last { // a batch may start before off
				continue
			}
			next = rec.Offset + 1
			if rec.Value == nil {
				r.failed++
				continue
			}
			data, err := io.ReadAll(rec.Value)
			rec.Value.Close()
			if err != nil {
				return fmt.Errorf("read at %d: %w", rec.Offset, err)
			}
			if err := r.handle(ctx, data); err != nil {
				return err
			}
		}
		if next == off { // nothing left below last (deleted by retention meanwhile)
			break
		}
		off = next
	}
	return nil
}
