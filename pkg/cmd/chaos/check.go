package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/dlq"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

// result is one backend's run as the checker saw it.
type result struct {
	Backend  string         `json:"backend"`
	Seed     uint64         `json:"seed"`
	Replicas int            `json:"replicas"`
	Faults   map[string]int `json:"faults"`
	FaultLog []faultRecord  `json:"fault_log"`
	// FaultsEnd is when the load and the last fault's recovery were both over (since the
	// load began); the drain is measured from there.
	FaultsEnd time.Duration `json:"faults_end_ns"`
	Restarts  int           `json:"stage_restarts"`
	Crashes   int           `json:"stage_crashes"` // replicas that exited by themselves (restarted)
	Drain     time.Duration `json:"drain_ns"`
	Drained   bool          `json:"drained"`
	MaxLag    int64         `json:"max_lag"`

	Expected      int `json:"expected_articles"` // distinct article IDs the feeds offered (poison excluded)
	Indexed       int `json:"indexed"`           // of those, in ES
	Missing       int `json:"missing"`
	Late          int `json:"late"`          // offered after the load ended, not indexed yet (not a failure)
	Extra         int `json:"extra"`         // ES documents no feed offered under that ID
	WrongContent  int `json:"wrong_content"` // indexed with another title than the farm's newest
	Poison        int `json:"poison_planted"`
	PoisonInDLQ   int `json:"poison_in_dlq"` // with a reason
	PoisonInES    int `json:"poison_in_es"`
	OtherDLQ      int `json:"other_dlq"`           // dead letters that are not planted poison
	Episodes      int `json:"alert_episodes"`      // distinct episodes in the alerts index
	DupEpisodes   int `json:"duplicated_episodes"` // episodes of a (rule, term) opened while an earlier one could not have ended
	BurstPlanted  int `json:"burst_planted"`       // burst stories the farm published (0: no burst check)
	BurstEpisodes int `json:"burst_episodes"`      // episodes of the chaos-burst watch rule: must be exactly 1

	Handled      map[string]float64 `json:"handled"`      // messages handled per stage, all replicas and incarnations
	Inputs       map[string]int64   `json:"inputs"`       // messages on each stage's input subject × its groups
	Redeliveries int64              `json:"redeliveries"` // Σ handled − inputs (at least; scrapes miss the last seconds before a kill)
	// BusRedeliveries (NATS only, else -1): Σ over the durable consumers of deliveries made
	// minus the stream messages delivered — every redelivery, after a crash, an ack timeout or
	// a nack.
	BusRedeliveries int64               `json:"bus_redeliveries"`
	Samples         map[string][]string `json:"samples,omitempty"` // a few IDs/reasons per failure class
	Errors          []string            `json:"errors,omitempty"`
}

// OK is the checker's verdict.
func (r *result) OK() bool {
	return len(r.Errors) == 0 && r.Drained && r.Missing == 0 && r.Extra == 0 && r.WrongContent == 0 &&
		r.PoisonInDLQ == r.Poison && r.PoisonInES == 0 && r.OtherDLQ == 0 && r.DupEpisodes == 0 &&
		(r.BurstPlanted == 0 || r.BurstEpisodes == 1)
}

func (r *result) verdict() string {
	if r.OK() {
		return "PASS"
	}
	return "FAIL"
}

func (r *result) sample(class, s string) {
	if r.Samples == nil {
		r.Samples = map[string][]string{}
	}
	if len(r.Samples[class]) < 8 {
		r.Samples[class] = append(r.Samples[class], s)
	}
}

// esSearch returns the hits of index (at most 10,000) with the given _source fields.
func esSearch(ctx context.Context, esURL, index string, fields []string) ([]map[string]any, error) {
	body, _ := json.Marshal(map[string]any{"size": 10000, "_source": fields, "query": map[string]any{"match_all": map[string]any{}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, esURL+"/"+index+"/_search?ignore_unavailable=true&allow_no_indices=true", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search %s: HTTP %d: %.300s", index, resp.StatusCode, b)
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &sr); err != nil {
		return nil, fmt.Errorf("search %s: %w", index, err)
	}
	out := make([]map[string]any, 0, len(sr.Hits.Hits))
	for _, h := range sr.Hits.Hits {
		h.Source["_id"] = h.ID
		out = append(out, h.Source)
	}
	return out, nil
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// check compares what the farm offered with ES, the DLQ and the alerts index.
func check(ctx context.Context, r *result, farm *newsfarm.Farm, loadEnd time.Time, cl *cluster, backend, indexPrefix string, b bus.Bus, procs []*proc, replicas, burstThreshold int) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// The farm's stories end at its epoch, but a wire story's reprints may appear on other
	// sites later; the site keeps serving them. Everything offered until now counts; what
	// appeared after the load ended and is not indexed yet is "late", not missing.
	want := map[string]string{} // ID → newest title
	late := map[string]bool{}
	poison := map[string]bool{}
	burst := map[string]bool{}
	for _, e := range farm.Manifest(time.Now()) {
		if e.Burst {
			burst[e.Story] = true
		}
		if e.Kind == newsfarm.KindPoison {
			poison[e.ID] = true
			continue
		}
		want[e.ID] = e.Title // oldest first: the last one seen is the newest
		late[e.ID] = e.Published.After(loadEnd)
	}
	r.Expected, r.Poison = len(want), len(poison)

	docs, err := esSearch(ctx, cl.esURL, indexPrefix+"-articles", []string{"title", "url"})
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	seen := map[string]bool{}
	for _, d := range docs {
		id := str(d, "_id")
		seen[id] = true
		switch title, ok := want[id]; {
		case poison[id]:
			r.PoisonInES++
			r.sample("poison_in_es", id+" "+str(d, "url"))
		case !ok:
			r.Extra++
			r.sample("extra", id+" "+str(d, "url"))
		case title != "" && str(d, "title") != title:
			r.WrongContent++
			r.sample("wrong_content", fmt.Sprintf("%s %q != %q", id, str(d, "title"), title))
		default:
			r.Indexed++
		}
	}
	for id := range want {
		if !seen[id] && late[id] {
			r.Late++
		} else if !seen[id] {
			r.Missing++
			r.sample("missing", id)
		}
	}

	tool, err := dlq.Open(ctx, dlq.Config{Bus: backend, NATSURL: cl.natsURL, KafkaBrokers: cl.brokers, KafkaReplicas: 3, ClientName: "newsflow-chaos"})
	if err != nil {
		r.Errors = append(r.Errors, "dlq: "+err.Error())
	} else {
		defer tool.Close()
		entries, err := tool.List(ctx, dlq.Filter{})
		if err != nil {
			r.Errors = append(r.Errors, "dlq list: "+err.Error())
		}
		inDLQ := map[string]bool{}
		for _, e := range entries {
			switch {
			case poison[e.Key] && e.Reason != "":
				if !inDLQ[e.Key] {
					r.PoisonInDLQ++
				}
				inDLQ[e.Key] = true
			default:
				r.OtherDLQ++
				r.sample("other_dlq", fmt.Sprintf("%s %s: %.160s", e.Key, e.Stage, e.Reason))
			}
		}
		for id := range poison {
			if !inDLQ[id] {
				r.sample("poison_not_in_dlq", id)
			}
		}
	}

	alerts, err := esSearch(ctx, cl.esURL, indexPrefix+"-alerts", []string{"rule_id", "term", "term_kind", "episode_id", "episode_start", "status"})
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	if len(burst) >= burstThreshold {
		r.BurstPlanted = len(burst)
	}
	r.Episodes, r.DupEpisodes, r.BurstEpisodes = checkEpisodes(alerts, r.sample)

	r.BusRedeliveries = -1
	if nb, ok := b.(*natsbus.Bus); ok {
		n, err := natsRedeliveries(ctx, nb, "NEWSFLOW")
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
		r.BusRedeliveries = n
	}

	// redeliveries: messages handled beyond one per message and consuming group.
	r.Handled, r.Inputs = map[string]float64{}, map[string]int64{}
	for _, p := range procs {
		if p.stage != "fetcher" {
			r.Handled[p.stage] += p.totalHandled()
		}
	}
	groups := map[string]int{"cleaner": 1, "enricher": 1, "indexer": 1, "alerter": replicas}
	subjects := map[string]string{"cleaner": article.SubjectRaw, "enricher": article.SubjectClean, "indexer": article.SubjectEnriched, "alerter": article.SubjectEnriched}
	for stage, subj := range subjects {
		n, err := messagesOn(ctx, b, subj)
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
			continue
		}
		if stage == "indexer" {
			if na, err := messagesOn(ctx, b, article.SubjectAlerts); err == nil {
				n += na
			}
		}
		r.Inputs[stage] = n * int64(groups[stage])
		if d := int64(r.Handled[stage]) - r.Inputs[stage]; d > 0 {
			r.Redeliveries += d
		}
	}
}

// messagesOn counts the messages stored on subject: NATS stream messages; on Kafka Σ log end −
// log start over partitions (the lag of a group that never consumed).
func messagesOn(ctx context.Context, b bus.Bus, subject string) (int64, error) {
	if nb, ok := b.(*natsbus.Bus); ok {
		s, err := nb.JetStream().Stream(ctx, natsbus.StreamName("NEWSFLOW", subject))
		if err != nil {
			return 0, fmt.Errorf("stream of %s: %w", subject, err)
		}
		return int64(s.CachedInfo().State.Msgs), nil
	}
	l, _, err := b.(bus.LagReporter).Lag(ctx, subject, "newsflow-chaos-never-consumes")
	return l.Backlog(), err
}

// writeTable prints the results, one column per backend.
func writeTable(w io.Writer, rs []*result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(r *result) string) {
		fmt.Fprint(tw, name+"\t")
		for _, r := range rs {
			fmt.Fprint(tw, f(r)+"\t")
		}
		fmt.Fprintln(tw)
	}
	row("backend", func(r *result) string { return r.Backend })
	row("verdict", func(r *result) string { return r.verdict() })
	row("articles expected", func(r *result) string { return fmt.Sprint(r.Expected) })
	row("indexed once, newest content", func(r *result) string { return fmt.Sprint(r.Indexed) })
	row("missing", func(r *result) string { return fmt.Sprint(r.Missing) })
	row("offered after the load, not yet indexed", func(r *result) string { return fmt.Sprint(r.Late) })
	row("extra / duplicated IDs", func(r *result) string { return fmt.Sprint(r.Extra) })
	row("wrong content", func(r *result) string { return fmt.Sprint(r.WrongContent) })
	row("poison planted", func(r *result) string { return fmt.Sprint(r.Poison) })
	row("poison in DLQ with reason", func(r *result) string { return fmt.Sprint(r.PoisonInDLQ) })
	row("poison in ES", func(r *result) string { return fmt.Sprint(r.PoisonInES) })
	row("other dead letters", func(r *result) string { return fmt.Sprint(r.OtherDLQ) })
	row("alert episodes", func(r *result) string { return fmt.Sprint(r.Episodes) })
	row("duplicated episodes", func(r *result) string { return fmt.Sprint(r.DupEpisodes) })
	row("burst stories / burst episodes (want 1)", func(r *result) string {
		if r.BurstPlanted == 0 {
			return "-"
		}
		return fmt.Sprintf("%d / %d", r.BurstPlanted, r.BurstEpisodes)
	})
	row("load and faults over after", func(r *result) string { return r.FaultsEnd.String() })
	row("drain time after that", func(r *result) string {
		if !r.Drained {
			return fmt.Sprintf(">%v (not drained)", r.Drain)
		}
		return r.Drain.String()
	})
	row("redeliveries (≥, handled − stored)", func(r *result) string { return fmt.Sprint(r.Redeliveries) })
	row("redeliveries (NATS consumers)", func(r *result) string {
		if r.BusRedeliveries < 0 {
			return "-"
		}
		return fmt.Sprint(r.BusRedeliveries)
	})
	row("max lag (messages)", func(r *result) string { return fmt.Sprint(r.MaxLag) })
	row("stage kills restarted", func(r *result) string { return fmt.Sprint(r.Restarts) })
	row("stage crashes (self-exit)", func(r *result) string { return fmt.Sprint(r.Crashes) })
	kinds := map[string]bool{}
	for _, r := range rs {
		for k := range r.Faults {
			kinds[k] = true
		}
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		row("fault "+k, func(r *result) string { return fmt.Sprint(r.Faults[k]) })
	}
	tw.Flush()
	for _, r := range rs {
		writeFaultLog(w, r)
	}
	for _, r := range rs {
		for class, ss := range r.Samples {
			fmt.Fprintf(w, "%s %s: %s\n", r.Backend, class, strings.Join(ss, "; "))
		}
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s error: %s\n", r.Backend, e)
		}
	}
}

// episodeGap is the shortest time between the starts of two legitimate episodes of one rule and
// term: an episode resolves after 10 min below its exit level, then cools down for 30 min.
const episodeGap = 40 * time.Minute

// checkEpisodes counts the distinct episodes among alert documents (the indexer keeps one per
// episode, _id = episode_id), the duplicated ones — a second episode of the same rule and term
// starting within episodeGap of another, which only a lost or replayed detector state opens —
// and the episodes of the burst watch rule.
func checkEpisodes(alerts []map[string]any, sample func(class, s string)) (episodes, dups, burst int) {
	type ep struct {
		id    string
		start time.Time
	}
	byTerm := map[string][]ep{}
	seen := map[string]bool{}
	for _, a := range alerts {
		id := str(a, "episode_id")
		if id == "" {
			id = str(a, "_id")
		}
		if seen[id] {
			dups++ // two documents of one episode
			sample("duplicated_episode", id)
			continue
		}
		seen[id] = true
		start, _ := time.Parse(time.RFC3339Nano, str(a, "episode_start"))
		k := str(a, "rule_id") + "|" + str(a, "term_kind") + ":" + str(a, "term")
		byTerm[k] = append(byTerm[k], ep{id, start})
		if str(a, "rule_id") == burstRuleID {
			burst++
		}
	}
	episodes = len(seen)
	for k, eps := range byTerm {
		sort.Slice(eps, func(i, j int) bool { return eps[i].start.Before(eps[j].start) })
		for i := 1; i < len(eps); i++ {
			if eps[i].start.Sub(eps[i-1].start) < episodeGap {
				dups++
				sample("duplicated_episode", fmt.Sprintf("%s: %s and %s %v apart", k, eps[i-1].id, eps[i].id, eps[i].start.Sub(eps[i-1].start)))
			}
		}
	}
	return episodes, dups, burst
}

// writeFaultLog lists every fault of a run: when (since the load began), what, on which node
// or replica, and when the target was back and caught up.
func writeFaultLog(w io.Writer, r *result) {
	if len(r.FaultLog) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s faults (time since the load began; recovered = back and caught up: streams current, ISR full, ES green, replica restarted):\n", r.Backend)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range r.FaultLog {
		rec := "-"
		if f.Recovered > 0 {
			rec = f.Recovered.String()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\trecovered %s\t%s\n", fmtOffset(f.At), f.Kind, f.Target, f.How, rec, f.Note)
	}
	tw.Flush()
}

func fmtOffset(d time.Duration) string {
	d = d.Round(time.Second)
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%d:%02d", sign, int(d/time.Minute), int(d%time.Minute/time.Second))
}

// natsRedeliveries sums, over every durable consumer of the newsflow streams, the deliveries
// it made (consumer sequence) minus the last stream message it delivered: the streams are fresh
// per run and dense, so the difference is the number of redeliveries.
func natsRedeliveries(ctx context.Context, nb *natsbus.Bus, prefix string) (int64, error) {
	js := nb.JetStream()
	var n int64
	names := js.StreamNames(ctx)
	var streams []string
	for s := range names.Name() {
		if strings.HasPrefix(s, prefix+"_") {
			streams = append(streams, s)
		}
	}
	if err := names.Err(); err != nil {
		return n, fmt.Errorf("redeliveries: %w", err)
	}
	for _, name := range streams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return n, fmt.Errorf("redeliveries: %w", err)
		}
		cs := s.ListConsumers(ctx)
		for ci := range cs.Info() {
			if d := int64(ci.Delivered.Consumer) - int64(ci.Delivered.Stream); d > 0 {
				n += d
			}
		}
		if err := cs.Err(); err != nil {
			return n, fmt.Errorf("redeliveries: %w", err)
		}
	}
	return n, nil
}
