package alerter

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/article/articletest"
	"github.com/newsflow/newsflow/pkg/bus"
)

type dataMsg struct{ data []byte }

func (m dataMsg) Key() string                               { return "k" }
func (m dataMsg) Subject() string                           { return article.SubjectEnriched }
func (m dataMsg) Data() []byte                              { return m.data }
func (m dataMsg) Header() map[string]string                 { return nil }
func (m dataMsg) Attempt() int                              { return 1 }
func (m dataMsg) Ack(context.Context) error                 { return nil }
func (m dataMsg) Nack(context.Context, time.Duration) error { return nil }
func (m dataMsg) Term(context.Context) error                { return nil }

var _ bus.Message = dataMsg{}

// TestObserveWithoutText: the stage decodes without the text when the rules read none
// (article.AlerterSkipsNoText). The alerter it feeds ends with the live terms of one fed full
// decodes (article.AlerterSkips) through Observe, under rules that read no text, rules that
// read it from the start, and rules that come to read it between the decode and the
// observation (the article is then decoded again with its text). Every article's text has a
// word its title lacks, so a watch on it counts only where the text was read.
func TestObserveWithoutText(t *testing.T) {
	spike := alert.Rule{ID: "s", Type: alert.RuleSpike}
	byEntity := alert.Rule{ID: "ent", Type: alert.RuleWatch, Entities: []string{"Acme"}}
	byTerm := alert.Rule{ID: "zz", Type: alert.RuleWatch, Terms: []string{"zyzzyva"}}
	byPhrase := alert.Rule{ID: "ph", Type: alert.RuleWatch, Phrases: []string{"zyzzyva marker"}}
	now := time.Now().UTC()
	var envs [][]byte
	for _, b := range articletest.FarmEnvelopes(t)[:60] {
		e, err := article.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		e.Enriched.Text += "\n\nzyzzyva marker"
		e.Enriched.FetchedAt, e.Enriched.PublishedAt = now, nil
		if b, err = article.Encode(e); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, b)
	}
	newAlerter := func(rules ...alert.Rule) *alert.Alerter {
		a, err := alert.New(alert.Config{}, rules, nil, nil, nil, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		return a
	}
	for _, c := range []struct {
		name          string
		before, after []alert.Rule // rules at the decode, at the observation
		readsText     bool
	}{
		{"no watch", []alert.Rule{spike}, nil, false},
		{"entity watch", []alert.Rule{spike, byEntity}, nil, false},
		{"term watch", []alert.Rule{spike, byTerm}, nil, true},
		{"phrase watch", []alert.Rule{spike, byPhrase}, nil, true},
		{"term watch added after the decode", []alert.Rule{spike}, []alert.Rule{spike, byTerm}, true},
		{"phrase watch dropped after the decode", []alert.Rule{spike, byPhrase}, []alert.Rule{spike}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			final := c.after
			if final == nil {
				final = c.before
			}
			want := newAlerter(final...)
			got := newAlerter(c.before...)
			for _, b := range envs {
				full, err := article.DecodeWithout(b, article.AlerterSkips...)
				if err != nil {
					t.Fatal(err)
				}
				if err := want.Observe(context.Background(), full.Enriched); err != nil {
					t.Fatal(err)
				}
				skip := article.AlerterSkips
				if !got.ReadsText() {
					skip = article.AlerterSkipsNoText
				}
				in, err := article.DecodeWithout(b, skip...)
				if err != nil {
					t.Fatal(err)
				}
				if c.after != nil {
					if err := got.SetRules(c.after); err != nil {
						t.Fatal(err)
					}
				}
				if err := observe(context.Background(), got, dataMsg{b}, in); err != nil {
					t.Fatal(err)
				}
				if c.after != nil {
					if err := got.SetRules(c.before); err != nil {
						t.Fatal(err)
					}
				}
			}
			if c.after == nil && got.ReadsText() != c.readsText {
				t.Errorf("ReadsText %v, want %v", got.ReadsText(), c.readsText)
			}
			if g, w := got.LiveTerms(), want.LiveTerms(); g != w {
				t.Errorf("live terms %d, want %d (full decodes)", g, w)
			}
			if c.readsText {
				plain := newAlerter(spike)
				for _, b := range envs {
					in, _ := article.Decode(b)
					_ = plain.Observe(context.Background(), in.Enriched)
				}
				if plain.LiveTerms() == want.LiveTerms() {
					t.Fatalf("the text watch added no live term: the test cannot tell")
				}
			}
		})
	}
}
