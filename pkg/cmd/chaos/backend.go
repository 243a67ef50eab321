package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
		Start: t0.Add(o.Duration), FeedItems: 1000, SitemapItems: 10, PoisonEvery: o.PoisonEvery,
		Burst: newsfarm.Burst{Count: o.Burst, At: -o.Duration / 2, Over: o.Duration / 4},
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

	procs, err := services(o, backend, cl, dir, sources, indexPrefix)
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

	// faults until the farm's last story is out.
	h.add("load-start", backend, fmt.Sprintf("%d stories from %s to %s", o.Articles, t0.Format("15:04:05"), t0.Add(o.Duration).Format("15:04:05")))
	fz := &faulter{o: o, cl: cl, h: h, procs: procs, backend: backend, rng: rand.New(rand.NewPCG(o.Seed, 7))}
	end := t0.Add(o.Duration)
	if !o.NoFaults {
		fz.loop(ctx, end)
	} else {
		sleepUntil(ctx, end)
	}
	fz.wait() // restarts in flight
	h.add("load-end", backend, "")
	loadEnd := time.Now()

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
	check(ctx, res, farm, loadEnd, cl, backend, indexPrefix, b, procs, o.Replicas)
	h.add("checked", backend, res.verdict())
	var sb strings.Builder
	writeTable(&sb, []*result{res})
	fmt.Fprint(os.Stderr, sb.String())
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), []byte(sb.String()), 0o644); err != nil {
		return res, err
	}
	fz.esWG.Wait() // leave the ES cluster whole for the next backend
	return res, nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// faulter injects the fault schedule.
type faulter struct {
	o        options
	cl       *cluster
	h        *history
	procs    []*proc
	backend  string
	rng      *rand.Rand
	wg       sync.WaitGroup
	mu       sync.Mutex
	counts   map[string]int
	restarts int
	infra    sync.Mutex // one infrastructure fault at a time: a quorum must survive
	esBusy   atomic.Bool
	esWG     sync.WaitGroup // the ES node restart, waited for after the check
}

// kinds is the fault rotation for the backend; the schedule shuffles it per round.
func (f *faulter) kinds() []string {
	k := []string{"kill-stage", "kill-stage", "es-data-node"}
	if f.backend == "nats" {
		k = append(k, "nats-meta-leader", "nats-stream-leader", "hang-nats")
	} else {
		k = append(k, "kafka-partition-leader", "kafka-controller", "hang-kafka", "nats-meta-leader")
	}
	return k
}

func (f *faulter) loop(ctx context.Context, end time.Time) {
	f.counts = map[string]int{}
	var queue []string
	for {
		next := time.Now().Add(f.o.FaultEvery)
		if next.After(end) {
			sleepUntil(ctx, end)
			return
		}
		sleepUntil(ctx, next)
		if ctx.Err() != nil {
			return
		}
		if len(queue) == 0 {
			queue = f.kinds()
			f.rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
		}
		kind := queue[0]
		queue = queue[1:]
		f.inject(ctx, kind)
	}
}

func (f *faulter) wait() { f.wg.Wait() }

func (f *faulter) count(kind string) {
	f.mu.Lock()
	f.counts[kind]++
	f.mu.Unlock()
}

func (f *faulter) inject(ctx context.Context, kind string) {
	switch kind {
	case "kill-stage":
		p := f.procs[f.rng.IntN(len(f.procs))]
		if !p.expectDown.CompareAndSwap(false, true) {
			f.h.add("skip", p.name(), "already down")
			return
		}
		if !p.signal(syscall.SIGKILL) {
			p.expectDown.Store(false)
			f.h.add("skip", p.name(), "not running")
			return
		}
		f.count(kind)
		f.h.add(kind, p.name(), "kill -9")
		down := time.Duration(1+f.rng.IntN(5)) * time.Second
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			p.wait(5 * time.Second)
			time.Sleep(down)
			err := p.start()
			p.expectDown.Store(false)
			if err != nil {
				f.h.add("error", p.name(), err.Error())
				return
			}
			f.mu.Lock()
			f.restarts++
			f.mu.Unlock()
			f.h.add("restart", p.name(), fmt.Sprintf("after %v down", down))
		}()
		return
	}
	if !f.infra.TryLock() {
		f.h.add("skip", kind, "an infrastructure fault is still recovering")
		return
	}
	var node, how string
	var err error
	switch kind {
	case "nats-meta-leader":
		node, err = f.cl.sh(ctx, "leader", "nats")
		how = "kill"
	case "nats-stream-leader":
		node, err = f.cl.streamLeader(ctx, natsbus.StreamName("NEWSFLOW", article.SubjectRaw))
		how = "kill"
	case "kafka-partition-leader":
		node, err = f.cl.partitionLeader(ctx, article.SubjectRaw)
		how = "kill"
	case "kafka-controller":
		node, err = f.cl.sh(ctx, "leader", "kafka")
		how = "kill"
	case "es-data-node":
		if !f.esBusy.CompareAndSwap(false, true) {
			f.infra.Unlock()
			f.h.add("skip", kind, "es2 is still restarting")
			return
		}
		node, how = "es2", "kill"
	case "hang-nats":
		node, how = fmt.Sprintf("nats%d", 1+f.rng.IntN(3)), "stop"
	case "hang-kafka":
		node, how = fmt.Sprintf("kafka%d", 1+f.rng.IntN(3)), "stop"
	}
	if err == nil {
		_, err = f.cl.sh(ctx, how, node)
	}
	if err != nil {
		f.infra.Unlock()
		if kind == "es-data-node" {
			f.esBusy.Store(false)
		}
		f.h.add("error", kind, err.Error())
		return
	}
	f.count(kind)
	f.h.add(kind, node, map[string]string{"kill": "kill -9", "stop": "SIGSTOP"}[how])
	// An ES data node takes minutes to come back on a busy box and the brokers do not depend
	// on it: it restarts in the background while the broker faults go on.
	unlock := func() { f.infra.Unlock() }
	if kind == "es-data-node" {
		unlock()
		unlock = func() { f.esBusy.Store(false) }
	}
	wg := &f.wg
	if kind == "es-data-node" {
		wg = &f.esWG
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer unlock()
		if how == "stop" {
			time.Sleep(10 * time.Second)
			if _, err := f.cl.sh(context.Background(), "cont", node); err != nil {
				f.h.add("error", node, err.Error())
			}
			f.h.add("cont", node, "SIGCONT after 10s")
			return
		}
		time.Sleep(5 * time.Second)
		t := time.Now()
		if _, err := f.cl.sh(context.Background(), "restart", node); err != nil {
			f.h.add("error", node, err.Error())
			return
		}
		f.h.add("restart", node, fmt.Sprintf("healthy %v after the restart began", time.Since(t).Round(time.Second)))
	}()
}
