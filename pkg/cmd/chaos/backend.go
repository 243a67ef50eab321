package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/newsflow/newsflow/pkg/bus/kafkabus"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

// event is one line of the run's history (events.jsonl).
type event struct {
	T      time.Time `json:"t"`
	Kind   string    `json:"kind"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// history appends events to a file and keeps them for the report.
type history struct {
	mu     sync.Mutex
	f      *os.File
	events []event
}

func (h *history) add(kind, target, detail string) {
	e := event{T: time.Now().UTC(), Kind: kind, Target: target, Detail: detail}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	b, _ := json.Marshal(e)
	_, _ = h.f.Write(append(b, '\n'))
	fmt.Fprintf(os.Stderr, "chaos: %s %-22s %-10s %s\n", e.T.Format("15:04:05"), kind, target, detail)
}

// watched consumer groups: subject, group, consumers of each message.
type watch struct {
	subject, group string
}

func watches(replicas int) []watch {
	ws := []watch{{article.SubjectRaw, "newsflow-cleaner"}, {article.SubjectClean, "newsflow-enricher"},
		{article.SubjectEnriched, "newsflow-indexer"}, {article.SubjectAlerts, "newsflow-indexer-alerts"}}
	if replicas > 1 {
		for i := range replicas {
			ws = append(ws, watch{article.SubjectEnriched, fmt.Sprintf("newsflow-alerter-shard-%d-of-%d", i, replicas)})
		}
	} else {
		ws = append(ws, watch{article.SubjectEnriched, "newsflow-alerter"})
	}
	return ws
}

func openBus(ctx context.Context, backend string, cl *cluster) (bus.Bus, error) {
	if backend == "kafka" {
		return kafkabus.New(ctx, kafkabus.Config{Brokers: cl.brokers, ClientID: "newsflow-chaos", ReplicationFactor: 3}, zap.NewNop())
	}
	return natsbus.New(ctx, natsbus.Config{URL: cl.natsURL, ConnectName: "newsflow-chaos", Replicas: 3}, zap.NewNop())
}

func runBackend(ctx context.Context, o options, cl *cluster, backend string) (*result, error) {
	dir := filepath.Join(o.Out, backend)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ef, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	h := &history{f: ef}
	res := &result{Backend: backend, Seed: o.Seed, Replicas: o.Replicas}

	h.add("cluster-up", backend, "")
	if err := cl.up(ctx, backend); err != nil {
		return nil, err
	}
	if err := cl.reset(ctx, backend); err != nil {
		return nil, err
	}
	indexPrefix := fmt.Sprintf("chaos-%s-%d", backend, time.Now().Unix())

	// The farm publishes story i at t0 + i·spacing and nothing after t0+Duration (its epoch).
	lead := 20 * time.Second // the services start and join their groups meanwhile
	t0 := time.Now().Add(lead).UTC().Truncate(time.Second)
	farm, err := newsfarm.New(newsfarm.Config{
		Seed: o.Seed, Sites: o.Sites, Backlog: o.Articles, BacklogSpacing: o.Duration / time.Duration(o.Articles),
		Start: t0.Add(o.Duration), FeedItems: o.FeedItems, SitemapItems: 10, PoisonEvery: o.PoisonEvery,
		Burst: newsfarm.Burst{Term: burstTerm, Count: o.Burst, At: -o.Duration / 2, Over: o.Duration / 4},
	})
	if err != nil {
		return nil, err
	}
	if err := farm.Start(); err != nil {
		return nil, err
	}
	defer farm.Close()
	sources := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(sources, []byte(newsfarm.SourcesYAML(farm.Sites(), "2s")), 0o644); err != nil {
		return nil, err
	}

	rules := filepath.Join(dir, "alert-rules.yaml")
	if err := os.WriteFile(rules, []byte(alertRules(o.burstThreshold())), 0o644); err != nil {
		return nil, err
	}
	procs, err := services(o, backend, cl, dir, sources, rules, indexPrefix)
	if err != nil {
		return nil, err
	}
	for _, p := range procs {
		if err := p.start(); err != nil {
			return nil, err
		}
		h.add("start", p.name(), "")
	}
	defer func() {
		for _, p := range procs {
			p.stop(15 * time.Second)
		}
	}()
	time.Sleep(8 * time.Second)
	for _, p := range procs {
		if p.exited() {
			return nil, fmt.Errorf("%s exited at start:\n%s", p.name(), p.tail())
		}
	}

	b, err := openBus(ctx, backend, cl)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	lr := b.(bus.LagReporter)
	ws := watches(o.Replicas)

	// monitor: metrics of every replica and the groups' lag, every 2s.
	mctx, mstop := context.WithCancel(ctx)
	var lagMu sync.Mutex
	lastLag := map[string]int64{}
	var mwg sync.WaitGroup
	mwg.Add(1)
	go func() {
		defer mwg.Done()
		hc := &http.Client{Timeout: 2 * time.Second}
		for {
			for _, p := range procs {
				// a replica that exits by itself is a finding (logged) and is restarted, as
				// an orchestrator would
				if p.exited() && !p.expectDown.Load() && mctx.Err() == nil {
					lines := strings.Split(strings.TrimSpace(p.tail()), "\n")
					h.add("crashed", p.name(), lines[len(lines)-1])
					lagMu.Lock()
					res.Crashes++
					lagMu.Unlock()
					if err := p.start(); err != nil {
						h.add("error", p.name(), err.Error())
					}
					continue
				}
				p.scrape(hc)
			}
			var total int64
			cur := map[string]int64{}
			for _, w := range ws {
				lctx, cancel := context.WithTimeout(mctx, 3*time.Second)
				l, found, err := lr.Lag(lctx, w.subject, w.group)
				cancel()
				if err != nil || !found {
					cur[w.group] = -1 // unknown
					continue
				}
				cur[w.group] = l.Backlog()
				total += l.Backlog()
			}
			lagMu.Lock()
			lastLag = cur
			if total > res.MaxLag {
				res.MaxLag = total
			}
			lagMu.Unlock()
			select {
			case <-mctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	defer func() { mstop(); mwg.Wait() }()

	// faults: the stage lane until the farm's last story is out, every cluster lane until its
	// faults are done (recovery on a loaded box can outlast the load).
	h.add("load-start", backend, fmt.Sprintf("%d stories from %s to %s", o.Articles, t0.Format("15:04:05"), t0.Add(o.Duration).Format("15:04:05")))
	fz := &faulter{o: o, cl: cl, h: h, procs: procs, backend: backend, rng: rand.New(rand.NewPCG(o.Seed, 7)), loadStart: t0}
	end := t0.Add(o.Duration)
	if !o.NoFaults {
		lanes := plan(backend, o.Seed, o.Faults, cl.ownES)
		for _, l := range lanes {
			h.add("plan", l.name, strings.Join(l.kinds, ", "))
		}
		var stages []string
		for _, k := range []string{faultKillStage, faultRestartStages} {
			if len(o.Faults) == 0 || slices.Contains(o.Faults, k) {
				stages = append(stages, k)
			}
		}
		sleepUntil(ctx, t0) // the services start meanwhile; faults begin with the load
		fz.run(ctx, end, end.Add(o.DrainLimit), lanes, stages)
	}
	sleepUntil(ctx, end)
	h.add("load-end", backend, "")
	loadEnd := time.Now()
	res.FaultsEnd = loadEnd.Sub(t0).Round(time.Second)

	// drain: every group's backlog 0 on 5 polls in a row (10s), at least 15s after the load.
	zeroes := 0
	for time.Since(loadEnd) < o.DrainLimit && ctx.Err() == nil {
		time.Sleep(2 * time.Second)
		lagMu.Lock()
		all := len(lastLag) > 0
		for _, v := range lastLag {
			all = all && v == 0
		}
		lagMu.Unlock()
		if all {
			zeroes++
		} else {
			zeroes = 0
		}
		if zeroes >= 5 && time.Since(loadEnd) > 15*time.Second {
			break
		}
	}
	res.Drain = time.Since(loadEnd).Round(time.Second) - 10*time.Second
	res.Drained = zeroes >= 5
	h.add("drained", backend, fmt.Sprintf("%v after the load (ok=%v)", res.Drain, res.Drained))
	time.Sleep(3 * time.Second) // a last ES refresh

	for _, p := range procs {
		p.scrape(&http.Client{Timeout: 2 * time.Second})
	}
	res.Faults = fz.counts
	res.Restarts = fz.restarts
	res.FaultLog = fz.sortedRecords()
	check(ctx, res, farm, loadEnd, cl, backend, indexPrefix, b, procs, o.Replicas, o.burstThreshold())
	h.add("checked", backend, res.verdict())
	if o.Cleanup {
		if err := cl.dropIndices(ctx, indexPrefix); err != nil {
			h.add("error", "cleanup", err.Error())
		}
	}
	var sb strings.Builder
	writeTable(&sb, []*result{res})
	fmt.Fprint(os.Stderr, sb.String())
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), []byte(sb.String()), 0o644); err != nil {
		return res, err
	}
	return res, nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// burstTerm is the news burst's phrase; the chaos-burst watch rule counts the stories with it.
const burstTerm = "Vostok Bay earthquake"

// alertRules are the alerter's rules in a chaos run: the shipped spike rule and a watch rule
// on the farm's burst, which must open exactly one episode however often the alerters die.
func alertRules(threshold int) string {
	return fmt.Sprintf(`rules:
  - id: entity-spikes
    type: spike
    kinds: [PER, ORG, LOC, MISC, keyword]
    min_count: 3
    min_ratio: 2.5
    min_score: 6.5
    cooldown: 30m
    still_every: 15m
    new_terms: true
    new_term_min_count: 5
  - id: %s
    type: watch
    phrases: [%q]
    threshold: %d
    window: 10m
    cooldown: 30m
`, burstRuleID, burstTerm, threshold)
}

const burstRuleID = "chaos-burst"
