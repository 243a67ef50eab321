package stages_test

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestLongArticleFitsTheBus: a long but legitimate article (a ~600 KB transcript, 260 KB on
// news.raw after the fetcher's gzip) must reach news.clean: the cleaner caps the text at
// 256 KiB (whole paragraphs) so the clean envelope, which carries Text and Paragraphs, stays
// under the 1 MiB message limit.
func TestLongArticleFitsTheBus(t *testing.T) {

	be := embeddedNATS(t)
	client := testClient(t, be)
	cleaned := startSink(t, client, article.SubjectClean)
	dlq := startSink(t, client, article.SubjectDLQ)
	noEnv := &service.Env{Get: func(string) string { return "" }}
	startPipeline(t, be, "stagetest-cleaner", "", func(c stages.Common) error {
		_, err := stages.AddCleaner(c, stages.CleanerConfigFromEnv(noEnv))
		return err
	})

	words := strings.Fields(strings.ToLower(readTestdata(t, "wire-story.txt") + readTestdata(t, "summit-plaintext.txt")))
	r := rand.New(rand.NewSource(1))
	var sb strings.Builder
	sb.WriteString("<html><head><title>Full transcript of the hearing</title></head><body><article><h1>Full transcript of the hearing</h1>")
	for i := 0; i < 3000; i++ {
		sb.WriteString("<p>The")
		for j := 0; j < 30; j++ {
			sb.WriteString(" " + words[r.Intn(len(words))])
		}
		sb.WriteString(".</p>\n")
	}
	sb.WriteString("</article></body></html>")
	url := "https://hearings.example.gov/2026/transcript-full"
	raw := &article.Raw{URL: url, ContentType: "text/html", Body: sb.String(), FetchedAt: time.Now().UTC()}
	if err := raw.CompressBody(64 << 10); err != nil { // as the fetcher does
		t.Fatal(err)
	}
	id, _, err := article.ID(url)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, client, article.SubjectRaw, id, mustEncode(t, &article.Envelope{ID: id, Stage: article.StageRaw, Raw: raw}))
	var reason string
	waitFor(t, "the transcript on news.clean or news.dlq", func() bool {
		for _, e := range dlq.snapshot() {
			if e.ID == id {
				reason = e.DLQ.Reason
				return true
			}
		}
		return cleanedByURL(cleaned)[url] != nil
	})
	if reason != "" {
		t.Fatalf("a %d-byte article was dead-lettered: %s", sb.Len(), reason)
	}
}
