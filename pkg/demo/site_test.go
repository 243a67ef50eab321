package demo

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestDemoFeedsParseAndLinkToPages(t *testing.T) {
	s, err := Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	items := 0
	for name, u := range s.FeedURLs() {
		t.Run(name, func(t *testing.T) {
			res, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			f, err := gofeed.NewParser().Parse(res.Body)
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			if len(f.Items) == 0 {
				t.Fatalf("%s: empty feed", u)
			}
			for _, it := range f.Items {
				items++
				pr, err := client.Get(it.Link)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(pr.Body)
				pr.Body.Close()
				if pr.StatusCode != 200 || !strings.Contains(string(body), "<article>") {
					t.Fatalf("%s: status %d", it.Link, pr.StatusCode)
				}
			}
		})
	}
	if s.Articles() < 30 || items < s.Articles()-len(burstLeads) {
		t.Fatalf("demo corpus too small: %d pages, %d feed items", s.Articles(), items)
	}
}
