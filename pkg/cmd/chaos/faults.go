package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus/natsbus"
)

// Fault kinds. Broker and Elasticsearch faults go through deploy/local/cluster.sh.
const (
	faultKillStage       = "kill-stage"             // kill -9 of a random stage replica, restarted 1–5 s later
	faultRestartStages   = "restart-stages"         // every stage replica in turn: SIGTERM (drain), start
	faultNATSMeta        = "nats-meta-leader"       // kill -9 of the JetStream meta leader
	faultNATSStream      = "nats-stream-leader"     // kill -9 of the leader of the news.raw stream
	faultHangNATS        = "hang-nats"              // SIGSTOP of a NATS node for 10 s, then SIGCONT
	faultRestartNATS     = "restart-nats"           // every NATS node in turn: SIGTERM, start, caught up
	faultKafkaPartition  = "kafka-partition-leader" // kill -9 of the leader of news.raw partition 0
	faultKafkaController = "kafka-controller"       // kill -9 of the active KRaft controller
	faultHangKafka       = "hang-kafka"             // SIGSTOP of a broker for 10 s, then SIGCONT
	faultRestartKafka    = "restart-kafka"          // every broker in turn: SIGTERM, start, ISR full
	faultESDataNode      = "es-data-node"           // kill -9 of the data node es2
	faultRestartES       = "restart-es"             // es2 then es1 (the master): SIGTERM, start, green
)

// allFaults are the kinds --faults accepts.
var allFaults = []string{faultKillStage, faultRestartStages, faultNATSMeta, faultNATSStream, faultHangNATS, faultRestartNATS,
	faultKafkaPartition, faultKafkaController, faultHangKafka, faultRestartKafka, faultESDataNode, faultRestartES}

// faultRecord is one injected fault as the report lists it.
type faultRecord struct {
	At        time.Duration `json:"at_ns"` // since the load began
	Kind      string        `json:"kind"`
	Target    string        `json:"target"`
	How       string        `json:"how"`
	Recovered time.Duration `json:"recovered_ns,omitempty"` // until the target was back and caught up
	Note      string        `json:"note,omitempty"`
}

// lane is a sequence of faults on one cluster (or the stages): one at a time, so a quorum
// always survives; lanes on different clusters run side by side.
type lane struct {
	name  string
	kinds []string
}

// plan is the fault schedule for a backend: the kinds of each lane in an order drawn from the
// seed. Kinds not in enabled are left out; es says whether the ES cluster is ours to attack.
func plan(backend string, seed uint64, enabled []string, es bool) []lane {
	on := func(k string) bool { return len(enabled) == 0 || slices.Contains(enabled, k) }
	var ls []lane
	add := func(name string, kinds ...string) {
		var ks []string
		for _, k := range kinds {
			if on(k) {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			return
		}
		h := fnv.New64a()
		h.Write([]byte(backend + "/" + name))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		r.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
		ls = append(ls, lane{name: name, kinds: ks})
	}
	if backend == "nats" {
		add("nats", faultNATSMeta, faultNATSStream, faultHangNATS, faultRestartNATS)
	} else {
		add("kafka", faultKafkaPartition, faultKafkaController, faultHangKafka, faultRestartKafka)
		// no NATS lane: with the Kafka bus the fetcher keeps its state in Elasticsearch
	}
	if es {
		add("es", faultESDataNode, faultRestartES)
	}
	return ls
}

// faulter injects the fault schedule.
type faulter struct {
	o         options
	cl        *cluster
	h         *history
	procs     []*proc
	backend   string
	rng       *rand.Rand // stage lane
	loadStart time.Time

	wg       sync.WaitGroup // stage restarts in flight
	mu       sync.Mutex
	counts   map[string]int
	restarts int
	records  []faultRecord
}

func (f *faulter) record(r faultRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	f.counts[r.Kind]++
	f.records = append(f.records, r)
}

// fault logs and records a fault injected at t.
func (f *faulter) fault(t time.Time, kind, target, how string) *faultRecord {
	f.h.add(kind, target, how)
	return &faultRecord{At: t.Sub(f.loadStart).Round(time.Second), Kind: kind, Target: target, How: how}
}

func (f *faulter) done(r *faultRecord, began time.Time, note string) {
	r.Recovered = time.Since(began).Round(time.Second)
	if r.Recovered == 0 {
		r.Recovered = time.Since(began).Round(100 * time.Millisecond)
	}
	r.Note = note
	f.record(*r)
}

func (f *faulter) errorf(kind, format string, args ...any) {
	f.h.add("error", kind, fmt.Sprintf(format, args...))
}

// run injects the schedule: the stage lane until end (its rolling restart at a seeded point),
// every other lane until its kinds are done, however long recovery takes (bounded by limit).
// It returns when every lane is done.
func (f *faulter) run(ctx context.Context, end, limit time.Time, lanes []lane, stages []string) {
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// stagger the lanes so their first faults do not coincide
			if !sleepCtx(ctx, f.o.FaultEvery*time.Duration(i+1)+f.o.FaultEvery/2) {
				return
			}
			h := fnv.New64a()
			h.Write([]byte(l.name))
			rng := rand.New(rand.NewPCG(f.o.Seed, h.Sum64()+1)) // this lane's choices
			for _, k := range l.kinds {
				if ctx.Err() != nil || time.Now().After(limit) {
					f.errorf(k, "not injected: the run's time is up")
					continue
				}
				f.inject(ctx, k, rng)
				if !sleepCtx(ctx, f.o.FaultEvery) {
					return
				}
			}
			f.h.add("lane-done", l.name, "")
		}()
	}
	if len(stages) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.stageLane(ctx, end, stages)
		}()
	}
	wg.Wait()
	f.wg.Wait()
}

// stageLane kills a random replica every FaultEvery until end; the rolling restart of every
// replica happens once, at a point between 30% and 60% of the load drawn from the seed.
func (f *faulter) stageLane(ctx context.Context, end time.Time, kinds []string) {
	kill, rolling := slices.Contains(kinds, faultKillStage), slices.Contains(kinds, faultRestartStages)
	load := end.Sub(f.loadStart)
	rollAt := f.loadStart.Add(load * time.Duration(30+f.rng.IntN(31)) / 100)
	for {
		if !sleepCtx(ctx, f.o.FaultEvery) {
			return
		}
		now := time.Now()
		switch {
		case rolling && !now.Before(rollAt):
			rolling = false
			f.restartStages(ctx)
		case now.After(end) && !rolling:
			return
		case kill:
			f.killStage()
		}
	}
}

func (f *faulter) killStage() {
	p := f.procs[f.rng.IntN(len(f.procs))]
	down := time.Duration(1+f.rng.IntN(5)) * time.Second
	if !p.expectDown.CompareAndSwap(false, true) {
		f.h.add("skip", p.name(), "already down")
		return
	}
	p.scrape(&http.Client{Timeout: 2 * time.Second}) // what it handled until now counts
	t := time.Now()
	if !p.signal(syscall.SIGKILL) {
		p.expectDown.Store(false)
		f.h.add("skip", p.name(), "not running")
		return
	}
	r := f.fault(t, faultKillStage, p.name(), "kill -9")
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		p.wait(5 * time.Second)
		time.Sleep(down)
		err := p.start()
		p.expectDown.Store(false)
		if err != nil {
			f.errorf(p.name(), "%v", err)
			f.done(r, t, "restart failed")
			return
		}
		f.mu.Lock()
		f.restarts++
		f.mu.Unlock()
		f.h.add("restart", p.name(), fmt.Sprintf("after %v down", down))
		f.done(r, t, fmt.Sprintf("restarted after %v", down))
	}()
}

// restartStages stops (SIGTERM: the replica drains) and starts every replica in turn.
func (f *faulter) restartStages(ctx context.Context) {
	for _, p := range f.procs {
		deadline := time.Now().Add(30 * time.Second)
		for !p.expectDown.CompareAndSwap(false, true) { // a kill's restart is pending
			if time.Now().After(deadline) || !sleepCtx(ctx, time.Second) {
				break
			}
		}
		t := time.Now()
		r := f.fault(t, faultRestartStages, p.name(), "SIGTERM, start")
		p.scrape(&http.Client{Timeout: 2 * time.Second})
		p.stop(15 * time.Second)
		err := p.start()
		p.expectDown.Store(false)
		note := ""
		if err != nil {
			note = "start failed: " + err.Error()
		}
		f.done(r, t, note)
		if !sleepCtx(ctx, 2*time.Second) {
			return
		}
	}
}

// inject applies one broker or ES fault and waits until the cluster has recovered from it.
func (f *faulter) inject(ctx context.Context, kind string, rng *rand.Rand) {
	var node string
	var err error
	switch kind {
	case faultRestartNATS, faultRestartKafka, faultRestartES:
		f.rolling(ctx, kind)
		return
	case faultNATSMeta:
		node, err = f.cl.sh(ctx, "leader", "nats")
	case faultNATSStream:
		node, err = f.cl.streamLeader(ctx, natsbus.StreamName("NEWSFLOW", article.SubjectRaw))
		for i := 0; err != nil && i < 10 && sleepCtx(ctx, 2*time.Second); i++ { // an election may be running
			node, err = f.cl.streamLeader(ctx, natsbus.StreamName("NEWSFLOW", article.SubjectRaw))
		}
	case faultKafkaPartition:
		node, err = f.cl.partitionLeader(ctx, article.SubjectRaw)
	case faultKafkaController:
		node, err = f.cl.sh(ctx, "leader", "kafka")
	case faultESDataNode:
		node = "es2"
	case faultHangNATS:
		node = fmt.Sprintf("nats%d", 1+rng.IntN(3))
	case faultHangKafka:
		node = fmt.Sprintf("kafka%d", 1+rng.IntN(3))
	}
	if err != nil {
		f.errorf(kind, "no target: %v", err)
		return
	}
	hang := kind == faultHangNATS || kind == faultHangKafka
	how := "kill"
	if hang {
		how = "stop"
	}
	t := time.Now()
	if _, err := f.cl.sh(ctx, how, node); err != nil {
		f.errorf(kind, "%v", err)
		return
	}
	r := f.fault(t, kind, node, map[string]string{"kill": "kill -9", "stop": "SIGSTOP 10s, SIGCONT"}[how])
	if hang {
		time.Sleep(10 * time.Second)
		if _, err := f.cl.sh(context.Background(), "cont", node); err != nil {
			f.errorf(node, "%v", err)
		}
		f.h.add("cont", node, "SIGCONT after 10s")
	} else {
		time.Sleep(5 * time.Second)
		if _, err := f.cl.sh(context.Background(), "restart", node); err != nil {
			f.errorf(node, "%v", err)
			f.done(r, t, "restart failed")
			return
		}
		f.h.add("restart", node, fmt.Sprintf("healthy %v after the fault", time.Since(t).Round(time.Second)))
	}
	note := f.caughtUp(ctx, node)
	f.h.add("recovered", node, fmt.Sprintf("%v after the fault %s", time.Since(t).Round(time.Second), note))
	f.done(r, t, note)
}

// rolling restarts every node of a cluster in turn, each caught up before the next.
func (f *faulter) rolling(ctx context.Context, kind string) {
	nodes := map[string][]string{faultRestartNATS: {"nats1", "nats2", "nats3"}, faultRestartKafka: {"kafka1", "kafka2", "kafka3"},
		faultRestartES: {"es2", "es1"}}[kind]
	for _, n := range nodes {
		if ctx.Err() != nil {
			return
		}
		t := time.Now()
		r := f.fault(t, kind, n, "SIGTERM, start")
		if _, err := f.cl.sh(context.Background(), "restart", n); err != nil {
			f.errorf(n, "%v", err)
			f.done(r, t, "restart failed")
			continue
		}
		note := f.caughtUp(ctx, n)
		f.h.add("recovered", n, fmt.Sprintf("%v after the restart began %s", time.Since(t).Round(time.Second), note))
		f.done(r, t, note)
	}
}

// caughtUp waits until the node's cluster is whole again: every stream replica current (NATS),
// every partition's ISR full (Kafka), the ES cluster green. It returns a note when it gave up.
func (f *faulter) caughtUp(ctx context.Context, node string) string {
	wctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	var err error
	switch {
	case strings.HasPrefix(node, "nats"):
		err = f.cl.waitNATSCurrent(wctx)
	case strings.HasPrefix(node, "kafka"):
		err = f.cl.waitKafkaISR(wctx)
	case strings.HasPrefix(node, "es"):
		err = f.cl.waitESGreen(wctx)
	}
	if err != nil {
		return "(not caught up: " + err.Error() + ")"
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// sortedRecords returns the fault log in time order.
func (f *faulter) sortedRecords() []faultRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := append([]faultRecord(nil), f.records...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].At < rs[j].At })
	return rs
}
