package kafkabus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// DeleteTopicsWithPrefix deletes every topic whose name starts with one of prefixes and
// returns the names it asked the brokers to delete. Used to clean up test and replay topics;
// it blocks for at most ctx (one metadata and one delete request).
func DeleteTopicsWithPrefix(ctx context.Context, brokers []string, prefixes ...string) ([]string, error) {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr, Timeout: 10 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, fmt.Errorf("kafkabus: metadata: %w", err)
	}
	var del []string
	for _, tp := range md.Topics {
		for _, p := range prefixes {
			if strings.HasPrefix(tp.Name, p) {
				del = append(del, tp.Name)
				break
			}
		}
	}
	if len(del) == 0 {
		return nil, nil
	}
	if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: del}); err != nil {
		return del, fmt.Errorf("kafkabus: delete %d topics: %w", len(del), err)
	}
	return del, nil
}
