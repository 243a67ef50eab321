package kafkabus

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/newsflow/newsflow/pkg/bus"
)

var _ bus.LagReporter = (*Bus)(nil)

// Lag implements bus.LagReporter with the admin API: per partition, the log-end offset minus
// the group's committed offset (the log-start offset when the group has committed nothing:
// consumers start at the first offset), summed. Delivered-but-uncommitted messages count as
// Pending. found is false while the topic does not exist.
func (b *Bus) Lag(ctx context.Context, subject, group string) (bus.Lag, bool, error) {
	topic, err := TopicName(subject)
	if err != nil {
		return bus.Lag{}, false, err
	}
	md, err := b.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return bus.Lag{}, false, fmt.Errorf("kafkabus: lag: metadata %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) || len(md.Topics[0].Partitions) == 0 {
		return bus.Lag{}, false, nil
	}
	if err := md.Topics[0].Error; err != nil {
		return bus.Lag{}, false, fmt.Errorf("kafkabus: lag: metadata %s: %w", topic, err)
	}
	parts := make([]int, 0, len(md.Topics[0].Partitions))
	reqs := make([]kafka.OffsetRequest, 0, 2*len(md.Topics[0].Partitions))
	for _, p := range md.Topics[0].Partitions {
		parts = append(parts, p.ID)
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	lo, err := b.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return bus.Lag{}, false, fmt.Errorf("kafkabus: lag: list offsets %s: %w", topic, err)
	}
	first, last := map[int]int64{}, map[int]int64{}
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return bus.Lag{}, false, fmt.Errorf("kafkabus: lag: offsets %s/%d: %w", topic, po.Partition, po.Error)
		}
		first[po.Partition], last[po.Partition] = po.FirstOffset, po.LastOffset
	}
	of, err := b.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err == nil {
		err = of.Error
	}
	if err != nil {
		return bus.Lag{}, false, fmt.Errorf("kafkabus: lag: committed offsets of %s on %s: %w", group, topic, err)
	}
	committed := map[int]int64{}
	for _, p := range of.Topics[topic] {
		committed[p.Partition] = p.CommittedOffset
	}
	var lag bus.Lag
	for _, p := range parts {
		from, ok := committed[p]
		if !ok || from < first[p] {
			from = first[p]
		}
		if d := last[p] - from; d > 0 {
			lag.Pending += d
		}
	}
	return lag, true, nil
}
