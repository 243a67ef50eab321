package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// proc is one service replica (a bin/<stage> process), restartable after a kill.
type proc struct {
	stage string
	index int
	bin   string
	env   []string
	log   string
	addr  string // NEWSFLOW_HTTP_ADDR: /metrics
	dir   string // working directory and state

	expectDown atomic.Bool // killed by the schedule, restart pending

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	starts   int
	lastSeen map[string]float64 // last /metrics sample of this incarnation
	handled  float64            // messages handled by earlier incarnations
}

func (p *proc) name() string { return fmt.Sprintf("%s-%d", p.stage, p.index) }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the binary with its environment, output appended to its log file.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "\n===== %s start %d =====\n", time.Now().UTC().Format(time.RFC3339), p.starts+1)
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name(), err)
	}
	p.starts++
	p.handled += p.lastHandled()
	p.lastSeen = nil
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	return nil
}

// signal sends sig to the running process (false when it is not running).
func (p *proc) signal(sig syscall.Signal) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
	}
	_ = cmd.Process.Signal(sig)
	return true
}

// exited reports whether the current incarnation has exited.
func (p *proc) exited() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// tail is the end of the replica's log.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(b)
}

// wait blocks until the current incarnation exits or timeout passes.
func (p *proc) wait(timeout time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop ends the replica: SIGTERM (graceful drain), SIGKILL after timeout.
func (p *proc) stop(timeout time.Duration) {
	if p.signal(syscall.SIGTERM) && !p.wait(timeout) {
		p.signal(syscall.SIGKILL)
		p.wait(5 * time.Second)
	}
}

func (p *proc) lastHandled() float64 {
	var n float64
	for k, v := range p.lastSeen {
		if strings.HasPrefix(k, "newsflow_stage_messages_total{") && strings.Contains(k, `stage="`+p.stage+`"`) {
			n += v
		}
	}
	return n
}

// scrape reads the replica's /metrics into lastSeen (errors: the process is down or busy).
func (p *proc) scrape(cl *http.Client) {
	resp, err := cl.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "newsflow_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	p.mu.Lock()
	p.lastSeen = m
	p.mu.Unlock()
}

// totalHandled is what every incarnation of the replica handled, as far as scraped.
func (p *proc) totalHandled() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handled + p.lastHandled()
}

// services builds the replicas of every stage for a backend.
func services(o options, backend string, cl *cluster, dir, sources, rules, indexPrefix string) ([]*proc, error) {
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return nil, err
	}
	common := []string{
		"NEWSFLOW_BUS=" + backend,
		"NEWSFLOW_KAFKA_BROKERS=" + strings.Join(cl.brokers, ","),
		"NEWSFLOW_ES_URL=" + cl.esURL,
		"NEWSFLOW_NATS_STREAM_REPLICAS=3",
		"NEWSFLOW_KAFKA_REPLICATION_FACTOR=3",
		"NEWSFLOW_KAFKA_PARTITIONS=6",
		"NEWSFLOW_INDEX_REPLICAS=1",
		"NEWSFLOW_INDEX_PREFIX=" + indexPrefix,
		"NEWSFLOW_FETCH_STATE_INDEX=" + indexPrefix + "-fetch", // fetcher state on the Kafka bus: fresh per run
		"NEWSFLOW_LOG_LEVEL=info",
		"NEWSFLOW_ACK_WAIT=20s",
		"NEWSFLOW_SHUTDOWN_TIMEOUT=10s",
		"NEWSFLOW_SOURCES=" + sources,
		"NEWSFLOW_FETCH_MIN_INTERVAL=1s",
		"NEWSFLOW_FETCH_DEFAULT_INTERVAL=2s",
		"NEWSFLOW_FETCH_HOST_INTERVAL=10ms",
		"NEWSFLOW_FETCH_ALLOW_ADDRESSES=127.0.0.1", // the farm is on loopback
		"NEWSFLOW_FETCH_LEASE_TTL=20s",
		"NEWSFLOW_FETCH_REQUEST_TIMEOUT=10s",
		"NEWSFLOW_FETCH_MAX_ITEMS_PER_POLL=500",
		"NEWSFLOW_ALERT_CHECKPOINT_INTERVAL=2s",
		"NEWSFLOW_ALERT_RULES=" + rules,
		"NEWSFLOW_ALERT_WARMUP=" + o.warmup().String(),
	}
	// with Kafka no service may need NATS: an address nothing listens on (not the dev stack's
	// default) makes any use of it fail
	natsURL := "nats://127.0.0.1:1"
	if backend == "nats" {
		natsURL = cl.natsURL
	}
	common = append(common, "NEWSFLOW_NATS_URL="+natsURL)
	var ps []*proc
	for _, stage := range []string{"fetcher", "cleaner", "enricher", "indexer", "alerter"} {
		for i := range o.Replicas {
			addr, err := freeAddr()
			if err != nil {
				return nil, err
			}
			data := filepath.Join(dir, fmt.Sprintf("%s-%d", stage, i))
			if err := os.MkdirAll(data, 0o755); err != nil {
				return nil, err
			}
			// each replica its own state (cleaner templates and dedup, the alerter's delta
			// log) and working directory: the default data/<service> would be shared
			env := append([]string{"NEWSFLOW_HTTP_ADDR=" + addr, "NEWSFLOW_DATA_DIR=" + data, "NEWSFLOW_STATE_DIR=" + data}, common...)
			if stage == "alerter" && o.Replicas > 1 {
				env = append(env, fmt.Sprintf("NEWSFLOW_ALERT_SHARD_INDEX=%d", i), fmt.Sprintf("NEWSFLOW_ALERT_SHARD_COUNT=%d", o.Replicas))
			}
			ps = append(ps, &proc{stage: stage, index: i, bin: filepath.Join(bin, stage), env: env, addr: addr, dir: data,
				log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", stage, i))})
		}
	}
	return ps, nil
}
