package dlq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/internal/redact"
)

type kafkaBackend struct {
	b       *kafkabus.Bus
	brokers []string
	kc      kafkabus.Config // client ID, TLS and SASL of every connection
	tr      *kafka.Transport
	client  *kafka.Client
	// markers: the marker topics, true once ensured compacted (on their first publish, so
	// list and show create nothing).
	markers  map[string]bool
	replicas int
}

func openKafka(ctx context.Context, cfg Config) (*kafkaBackend, error) {
	kc := kafkabus.Config{Brokers: cfg.KafkaBrokers, ClientID: cfg.ClientName, TLS: cfg.KafkaTLS, SASL: cfg.KafkaSASL}
	b, err := kafkabus.New(ctx, kc, zap.NewNop())
	if err != nil {
		return nil, err
	}
	tr := kc.Transport()
	k := &kafkaBackend{b: b, brokers: cfg.KafkaBrokers, kc: kc, tr: tr, client: &kafka.Client{Addr: kafka.TCP(cfg.KafkaBrokers...), Transport: tr, Timeout: 10 * time.Second},
		replicas: max(cfg.KafkaReplicas, 1), markers: map[string]bool{cfg.Subject + ".requeued": false, cfg.Subject + ".purged": false}}
	return k, nil
}

func (k *kafkaBackend) ensureCompacted(ctx context.Context, topic string) error {
	res, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: 1, ReplicationFactor: k.replicas,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return redact.Error(fmt.Errorf("dlq: create topic %s on %s: %w", topic, redact.URL(strings.Join(k.brokers, ",")), err))
	}
	return nil
}

func (k *kafkaBackend) close() error {
	err := k.b.Close()
	k.tr.CloseIdleConnections()
	return err
}

func (k *kafkaBackend) publish(ctx context.Context, subject string, m bus.Outgoing) error {
	if ensured, ok := k.markers[subject]; ok && !ensured {
		// The marker topics are compacted: one record per dead-letter ID is all they need.
		if err := k.ensureCompacted(ctx, subject); err != nil {
			return err
		}
		k.markers[subject] = true
	}
	return k.b.Publish(ctx, subject, m)
}

// requeueKey keeps the article ID as the message key: the requeued payload goes to the same
// partition as the original (per-key ordering).
func (k *kafkaBackend) requeueKey(e Entry) string {
	if e.Key != "" {
		return e.Key
	}
	return e.ID
}

// remove: Kafka cannot delete single records; the caller records a purge marker.
func (k *kafkaBackend) remove(context.Context, string, Entry) (bool, error) { return false, nil }

// read reads every partition of the topic from its first to its last offset with a
// group-less reader: no consumer group is joined and no offset is committed.
func (k *kafkaBackend) read(ctx context.Context, subject string) ([]raw, error) {
	topic, err := kafkabus.TopicName(subject)
	if err != nil {
		return nil, err
	}
	// A transport of its own: kafka-go caches topic metadata per transport, and a topic
	// created since (the DLQ's first dead letter) would read as unknown.
	tr := k.kc.Transport()
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(k.brokers...), Transport: tr, Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("dlq: metadata %s: %w", topic, err)
	}
	if len(md.Topics) == 0 || errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		return nil, nil
	}
	if err := md.Topics[0].Error; err != nil {
		return nil, fmt.Errorf("dlq: metadata %s: %w", topic, err)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("dlq: offsets %s: %w", topic, err)
	}
	var out []raw
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("dlq: offsets %s/%d: %w", topic, po.Partition, po.Error)
		}
		rs, err := k.readPartition(ctx, client, topic, po.Partition, po.FirstOffset, po.LastOffset)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	// Oldest first across partitions.
	sortRaw(out)
	return out, nil
}

// readPartition fetches records [first, last) of one partition with Fetch requests (no
// reader goroutines, no consumer group).
func (k *kafkaBackend) readPartition(ctx context.Context, client *kafka.Client, topic string, p int, first, last int64) ([]raw, error) {
	var out []raw
	for off := first; off < last; {
		res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: p, Offset: off, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 500 * time.Millisecond})
		if err == nil {
			err = res.Error
		}
		if err != nil {
			return nil, fmt.Errorf("dlq: read %s/%d at %d: %w", topic, p, off, err)
		}
		next := off
		for {
			r, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("dlq: read %s/%d at %d: %w", topic, p, off, err)
			}
			if r.Offset < off || r.Offset >= last { // a batch may start before off
				continue
			}
			key, _ := readBytes(r.Key)
			val, err := readBytes(r.Value)
			if err != nil {
				return nil, err
			}
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			out = append(out, raw{id: strconv.Itoa(p) + ":" + strconv.FormatInt(r.Offset, 10), key: string(key), data: val, time: r.Time, header: h})
			next = r.Offset + 1
		}
		if next == off { // nothing at or after off below last (compacted away)
			break
		}
		off = next
	}
	return out, nil
}

func readBytes(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	return io.ReadAll(b)
}
