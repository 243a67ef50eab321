// Command bench-e2e is newsflow's end-to-end benchmark on the real stack (`make bench-e2e`):
// a news farm (pkg/newsfarm) and Elasticsearch on this machine, newsflow's built binaries, and
// news-please in the same run, printing one table.
//
//   - backfill: a farm's WARC (≥ -pages pages) through `newsflow import` into the all-in-one
//     and into the separate services → articles/s into ES, CPU per article per process (each
//     process's own CPU time from /proc), peak RSS per process;
//   - backlog: a farm whose feeds already list -backlog stories, fetched by the all-in-one and
//     by news-please (RSS crawling) into the same ES → wall time, CPU, the ratios;
//   - live: the farm publishing at each -rates value for -live → p50/p95/p99 of (searchable in
//     ES − appeared in the feed) and (searchable − fetched), and whether the pipeline keeps up.
//
// See README "Benchmarks: end to end".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/newsflow/newsflow/pkg/newsfarm"
)

type options struct {
	bin, es, natsURL, work, python string
	npWARCScript                   string
	esPID, natsPID                 int
	pages, backlog, sites          int
	rates                          []float64
	live, interval                 time.Duration
	only                           map[string]bool
	prefix                         string
	pprofDir                       string
	pprofFor                       time.Duration
	keepIndices                    bool
}

func main() {
	var o options
	var rates, only string
	flag.StringVar(&o.bin, "bin", "bin", "directory with the built binaries (make build)")
	flag.StringVar(&o.es, "es", "http://127.0.0.1:9200", "Elasticsearch URL")
	flag.IntVar(&o.esPID, "es-pid", 0, "Elasticsearch's pid (its CPU is reported)")
	flag.StringVar(&o.natsURL, "nats", "", "a NATS server of the benchmark's own for the separate services (empty: skip them)")
	flag.IntVar(&o.natsPID, "nats-pid", 0, "that NATS server's pid (its CPU is reported)")
	flag.StringVar(&o.work, "work", "data/bench", "work directory")
	flag.StringVar(&o.python, "python", "", "python of a venv with news-please (empty: skip news-please)")
	flag.IntVar(&o.pages, "pages", 10000, "backfill: at least this many pages in the WARC")
	flag.IntVar(&o.backlog, "backlog", 1200, "backlog: stories already in the feeds")
	flag.IntVar(&o.sites, "sites", 4, "farm sites")
	flag.StringVar(&rates, "rates", "20,100", "live: publishing rates (stories/s), comma-separated")
	flag.DurationVar(&o.live, "live", 60*time.Second, "live: how long the farm publishes at each rate")
	flag.DurationVar(&o.interval, "interval", 5*time.Second, "poll interval of the farm's feeds (sources file)")
	flag.StringVar(&o.npWARCScript, "newsplease-warc-script", "scripts/bench/newsplease_warc.py", "news-please's Common Crawl mode on the local WARC (backfill-newsplease)")
	flag.StringVar(&only, "only", "", "comma-separated subset of: backfill-aio,backfill-services,backfill-newsplease,backlog-aio,backlog-newsplease,live")
	flag.StringVar(&o.pprofDir, "pprof", "", "write CPU and allocation profiles of every newsflow process (NEWSFLOW_PPROF) into this directory")
	flag.DurationVar(&o.pprofFor, "pprof-for", 30*time.Second, "length of each CPU profile, from the start of the measured run")
	flag.BoolVar(&o.keepIndices, "keep-indices", false, "keep the run's Elasticsearch indices (default: deleted at the end, so runs do not pile up on a shared ES)")
	flag.Parse()
	if o.pprofDir != "" {
		if err := os.MkdirAll(o.pprofDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench-e2e:", err)
			os.Exit(1)
		}
	}
	for _, r := range strings.Split(rates, ",") {
		if v, err := strconv.ParseFloat(strings.TrimSpace(r), 64); err == nil && v > 0 {
			o.rates = append(o.rates, v)
		}
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.only[s] = true
		}
	}
	o.prefix = fmt.Sprintf("nfbench%d", time.Now().Unix()%1e6)
	if o.python != "" && strings.Contains(o.python, "/") {
		o.python, _ = filepath.Abs(o.python)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-e2e:", err)
		os.Exit(1)
	}
}

func (o options) want(s string) bool { return len(o.only) == 0 || o.only[s] }

// row is one line of the result table.
type row struct {
	run, input           string
	articles             int
	wall                 time.Duration
	sustained            float64 // articles/s between 10% and 90% of the final count
	cpu                  time.Duration
	procs                []procStat // per process (stages for the services)
	esCPU                time.Duration
	p50, p95, p99        time.Duration // live: searchable − appeared
	f50, f95, f99        time.Duration // live: searchable − fetched
	keptUp               string
	note                 string
	load                 string // the box's 1-minute load average at the start and the end
	cpuPerArticleMS      float64
	articlesPerCPUSecond float64
}

type procStat struct {
	name string
	cpu  time.Duration
	hwm  int64
}

func run(o options) error {
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	var rows []row
	add := func(load0 string, r row, err error) error {
		r.load = load0 + "–" + loadavg()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-e2e: %s: %v\n", r.run, err)
			r.note = "FAILED: " + err.Error()
		}
		if r.articles > 0 && r.cpu > 0 {
			r.cpuPerArticleMS = float64(r.cpu.Milliseconds()) / float64(r.articles)
			r.articlesPerCPUSecond = float64(r.articles) / r.cpu.Seconds()
		}
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "bench-e2e: %s done: %d articles in %s\n", r.run, r.articles, r.wall.Round(100*time.Millisecond))
		return nil
	}
	if o.want("backfill-aio") || o.want("backfill-services") || (o.want("backfill-newsplease") && o.python != "") {
		warc, want, err := o.backfillWARC()
		if err != nil {
			return err
		}
		if o.want("backfill-aio") {
			l := loadavg()
			r, err := o.backfillAIO(warc, want)
			_ = add(l, r, err)
		}
		if o.want("backfill-services") && o.natsURL != "" {
			l := loadavg()
			r, err := o.backfillServices(warc, want)
			_ = add(l, r, err)
		}
		if o.want("backfill-newsplease") && o.python != "" {
			l := loadavg()
			r, err := o.backfillNewsPlease(warc)
			_ = add(l, r, err)
		}
	}
	if o.want("backlog-aio") {
		l := loadavg()
		r, err := o.backlogAIO()
		_ = add(l, r, err)
	}
	if o.want("backlog-newsplease") && o.python != "" {
		l := loadavg()
		r, err := o.backlogNewsPlease()
		_ = add(l, r, err)
	}
	if o.want("live") {
		for _, rate := range o.rates {
			l := loadavg()
			r, err := o.liveAIO(rate)
			_ = add(l, r, err)
		}
	}
	printTable(os.Stdout, rows, o.interval)
	if !o.keepIndices {
		if n, err := dropIndices(o.es, o.prefix); err != nil {
			fmt.Fprintf(os.Stderr, "bench-e2e: deleting the run's indices %s*: %v\n", o.prefix, err)
		} else {
			fmt.Fprintf(os.Stderr, "bench-e2e: deleted the run's %d indices %s* (-keep-indices keeps them)\n", n, o.prefix)
		}
	}
	return nil
}

// dropIndices deletes every index whose name starts with prefix, by name (Elasticsearch
// refuses wildcard deletes by default), and returns how many it deleted.
func dropIndices(es, prefix string) (int, error) {
	res, err := http.Get(es + "/_cat/indices/" + prefix + "*?h=index&format=json&expand_wildcards=all")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("listing indices: %s", res.Status)
	}
	var list []struct {
		Index string `json:"index"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		return 0, fmt.Errorf("listing indices: %w", err)
	}
	names := make([]string, 0, len(list))
	for _, l := range list {
		if runIndex(l.Index, prefix) {
			names = append(names, l.Index)
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	req, err := http.NewRequest(http.MethodDelete, es+"/"+strings.Join(names, ","), nil)
	if err != nil {
		return 0, err
	}
	del, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer del.Body.Close()
	if del.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("deleting %d indices: %s", len(names), del.Status)
	}
	return len(names), nil
}

// runIndex reports whether index belongs to the run of prefix: prefix then a non-digit (the
// run's indices are prefix+"a-…"/"s-…"; "nfbench12345" must not take "nfbench123456a-articles"
// of another run).
func runIndex(index, prefix string) bool {
	rest, ok := strings.CutPrefix(index, prefix)
	return ok && rest != "" && (rest[0] < '0' || rest[0] > '9')
}

// farmConfig is the benchmark's farm: realistic mix of reprints, tracking duplicates and poison.
func (o options) farmConfig(backlog int) newsfarm.Config {
	// Every page of the backlog must be in its feed (the first site also carries the
	// reprints): FeedItems covers a whole backlog.
	return newsfarm.Config{Seed: 42, Sites: o.sites, Backlog: backlog, FeedItems: backlog + 50, RSSOnly: true}
}

// expectedIDs is the set of documents a correct pipeline indexes from a manifest.
func expectedIDs(m []newsfarm.Entry) map[string]newsfarm.Entry {
	out := map[string]newsfarm.Entry{}
	for _, e := range m {
		if e.Kind != newsfarm.KindPoison {
			if _, ok := out[e.ID]; !ok {
				out[e.ID] = e
			}
		}
	}
	return out
}

func (o options) backfillWARC() (string, int, error) {
	stories := o.pages * 10 / 11 // reprints add ~10%
	for {
		f, err := newsfarm.New(newsfarm.Config{Seed: 42, Sites: 8, Backlog: stories, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), BacklogSpacing: 5 * time.Second})
		if err != nil {
			return "", 0, err
		}
		m := f.Manifest(f.Epoch())
		pages := 0
		for _, e := range m {
			if e.Kind != newsfarm.KindTracking {
				pages++
			}
		}
		if pages < o.pages {
			stories += o.pages - pages + 10
			continue
		}
		p := filepath.Join(o.work, fmt.Sprintf("farm-%d.warc.gz", pages))
		if _, err := os.Stat(p); err != nil {
			fh, err := os.Create(p)
			if err != nil {
				return "", 0, err
			}
			if _, err := f.WriteWARC(fh, f.Epoch(), newsfarm.WARCOptions{}); err != nil {
				return "", 0, err
			}
			if err := fh.Close(); err != nil {
				return "", 0, err
			}
		}
		fmt.Fprintf(os.Stderr, "bench-e2e: WARC %s: %d pages (%d stories), %d documents expected\n", p, pages, stories, len(expectedIDs(m)))
		return p, len(expectedIDs(m)), nil
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a started child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
}

func (o options) start(name, bin string, args []string, env map[string]string) (*proc, error) {
	logf, err := os.Create(filepath.Join(o.work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(o.bin, bin), args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if o.pprofDir != "" {
		cmd.Env = append(cmd.Env, "NEWSFLOW_PPROF=true")
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &proc{name: name, cmd: cmd, log: logf}, nil
}

// stat reads the process's CPU and peak RSS (while it runs).
func (p *proc) stat() procStat {
	c, _ := procCPU(p.cmd.Process.Pid)
	return procStat{name: p.name, cpu: c, hwm: procHWM(p.cmd.Process.Pid)}
}

// stop sends SIGTERM and waits (SIGKILL after 60 s).
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	_ = p.log.Close()
}

func waitReady(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("not ready on %s after %s", addr, d)
}

func esCount(es, index string) (int, error) {
	res, err := http.Get(es + "/" + index + "/_count")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var v struct {
		Count int `json:"count"`
	}
	if res.StatusCode == 404 {
		return 0, nil
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return 0, err
	}
	return v.Count, nil
}

// waitCount polls the count until it reaches want and holds for 3 s, or stops growing for
// stall. It returns the final count, when the count last grew, and the times it passed
// 10% and 90% of want.
func waitCount(es, index string, want int, t0 time.Time, stall time.Duration) (n int, last, t10, t90 time.Time) {
	last = time.Now()
	for {
		c, err := esCount(es, index)
		now := time.Now()
		if err == nil && c > n {
			n, last = c, now
			if t10.IsZero() && n >= want/10 {
				t10 = now
			}
			if t90.IsZero() && n >= want*9/10 {
				t90 = now
			}
		}
		grace := stall
		if n == 0 {
			grace = 5 * time.Minute // start-up on a loaded box (news-please imports for a minute)
		}
		if (n >= want && now.Sub(last) > 3*time.Second) || now.Sub(last) > grace {
			return n, last, t10, t90
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func sustained(want int, t10, t90 time.Time) float64 {
	if t10.IsZero() || t90.IsZero() || !t90.After(t10) {
		return 0
	}
	return float64(want*9/10-want/10) / t90.Sub(t10).Seconds()
}

// aioEnv is the all-in-one's environment on the shared ES with the run's own index prefix.
func (o options) aioEnv(prefix, sources string) map[string]string {
	return map[string]string{
		"NEWSFLOW_ES_URL": o.es, "NEWSFLOW_INDEX_PREFIX": prefix, "NEWSFLOW_SOURCES": sources,
		"NEWSFLOW_FETCH_ALLOW_ADDRESSES": "127.0.0.1", "NEWSFLOW_FETCH_MIN_INTERVAL": "1s", "NEWSFLOW_FETCH_HOST_INTERVAL": "1ms",
		"NEWSFLOW_LOG_LEVEL": "warn",
	}
}

// startAIO starts `newsflow run` with a fresh data dir; it returns the process, the embedded
// NATS URL and the HTTP address.
func (o options) startAIO(name, prefix, sources string) (*proc, string, string, error) {
	data := filepath.Join(o.work, name+"-data")
	_ = os.RemoveAll(data)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort())
	natsPort := freePort()
	p, err := o.start(name, "newsflow", []string{"run", "--data", data, "--http", httpAddr, "--nats-port", strconv.Itoa(natsPort)}, o.aioEnv(prefix, sources))
	if err != nil {
		return nil, "", "", err
	}
	if err := waitReady(httpAddr, 3*time.Minute); err != nil {
		p.stop()
		return nil, "", "", err
	}
	return p, fmt.Sprintf("nats://127.0.0.1:%d", natsPort), httpAddr, nil
}

// idleSources writes a sources file with one tiny farm feed (backfills fetch nothing else).
func (o options) idleSources(name string) (string, *newsfarm.Farm, error) {
	f2, err := newsfarm.New(newsfarm.Config{Seed: 7, Sites: 1, Backlog: 1, PoisonEvery: -1, ReprintEvery: -1, TrackingEvery: -1})
	if err != nil {
		return "", nil, err
	}
	if err := f2.Start(); err != nil {
		return "", nil, err
	}
	p := filepath.Join(o.work, name+"-sources.yaml")
	return p, f2, os.WriteFile(p, []byte(newsfarm.SourcesYAML(f2.Sites(), "1h")), 0o644)
}

// esCPU is Elasticsearch's CPU time: the -es-pid process and its descendants (ES 8's
// launcher runs the server JVM as a child process).
func (o options) esCPU() time.Duration {
	if o.esPID == 0 {
		return 0
	}
	return treeCPU(o.esPID)
}

// runImport runs `newsflow import` to completion and returns its CPU and peak RSS.
func (o options) runImport(name, natsURL, warc string, extra ...string) (procStat, error) {
	args := append([]string{"import", "--nats", natsURL, "--state", "", "-q", "--no-dead-letter"}, extra...)
	args = append(args, warc)
	p, err := o.start(name, "newsflow", args, map[string]string{"NEWSFLOW_BUS": "nats"})
	if err != nil {
		return procStat{}, err
	}
	err = p.cmd.Wait()
	_ = p.log.Close()
	st := procStat{name: "import"}
	if ps := p.cmd.ProcessState; ps != nil {
		st.cpu = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			st.hwm = ru.Maxrss << 10
		}
	}
	if err != nil {
		return st, fmt.Errorf("import: %w (log %s)", err, p.log.Name())
	}
	return st, nil
}

func (o options) backfillAIO(warc string, want int) (row, error) {
	r := row{run: "backfill, all-in-one", input: fmt.Sprintf("WARC, %d documents", want)}
	prefix := o.prefix + "a"
	sources, idle, err := o.idleSources("backfill-aio")
	if err != nil {
		return r, err
	}
	defer idle.Close()
	p, natsURL, httpAddr, err := o.startAIO("backfill-aio", prefix, sources)
	if err != nil {
		return r, err
	}
	defer p.stop()
	base := p.stat()
	es0 := o.esCPU()
	t0 := time.Now()
	prof := o.profiler()
	prof.cpu(r.run, "newsflow-run", httpAddr)
	imp, err := o.runImport("backfill-aio-import", natsURL, warc)
	if err != nil {
		return r, err
	}
	n, last, t10, t90 := waitCount(o.es, prefix+"-articles", want, t0, 90*time.Second)
	st := p.stat()
	prof.allocs(r.run, "newsflow-run", httpAddr)
	st.cpu -= base.cpu
	st.name = "newsflow run"
	r.articles, r.wall, r.sustained = n, last.Sub(t0), sustained(want, t10, t90)
	r.procs = []procStat{st, imp}
	r.cpu = st.cpu + imp.cpu
	r.note = fmt.Sprintf("start-up (%.1f CPU-s) not counted", base.cpu.Seconds())
	r.esCPU = o.esCPU() - es0
	return r, nil
}

func (o options) backfillServices(warc string, want int) (row, error) {
	r := row{run: "backfill, separate services", input: fmt.Sprintf("WARC, %d documents", want)}
	prefix := o.prefix + "s"
	var ps []*proc
	addrs := map[string]string{}
	defer func() {
		for _, p := range ps {
			p.stop()
		}
	}()
	for _, svc := range []string{"indexer", "alerter", "enricher", "cleaner"} {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort())
		p, err := o.start("backfill-"+svc, svc, nil, map[string]string{
			"NEWSFLOW_BUS": "nats", "NEWSFLOW_NATS_URL": o.natsURL, "NEWSFLOW_ES_URL": o.es, "NEWSFLOW_INDEX_PREFIX": prefix,
			"NEWSFLOW_HTTP_ADDR": addr, "NEWSFLOW_STATE_DIR": filepath.Join(o.work, "backfill-"+svc+"-state"), "NEWSFLOW_LOG_LEVEL": "warn",
		})
		if err != nil {
			return r, err
		}
		ps = append(ps, p)
		addrs[p.name] = addr
		if err := waitReady(addr, 3*time.Minute); err != nil {
			return r, fmt.Errorf("%s: %w", svc, err)
		}
	}
	base := map[string]time.Duration{}
	for _, p := range ps {
		base[p.name] = p.stat().cpu
	}
	nats0, _ := procCPU(o.natsPID)
	es0 := o.esCPU()
	t0 := time.Now()
	prof := o.profiler()
	for _, p := range ps {
		prof.cpu(r.run, p.name, addrs[p.name])
	}
	imp, err := o.runImport("backfill-services-import", o.natsURL, warc)
	if err != nil {
		return r, err
	}
	n, last, t10, t90 := waitCount(o.es, prefix+"-articles", want, t0, 90*time.Second)
	for _, p := range ps {
		prof.allocs(r.run, p.name, addrs[p.name])
	}
	r.articles, r.wall, r.sustained = n, last.Sub(t0), sustained(want, t10, t90)
	r.procs = append(r.procs, imp)
	r.cpu = imp.cpu
	for i := len(ps) - 1; i >= 0; i-- {
		st := ps[i].stat()
		st.cpu -= base[ps[i].name]
		st.name = strings.TrimPrefix(st.name, "backfill-")
		r.procs = append(r.procs, st)
		r.cpu += st.cpu
	}
	if o.natsPID != 0 {
		c, _ := procCPU(o.natsPID)
		r.procs = append(r.procs, procStat{name: "nats-server", cpu: c - nats0, hwm: procHWM(o.natsPID)})
		r.cpu += c - nats0
	}
	r.esCPU = o.esCPU() - es0
	return r, nil
}

// backlogFarm starts the backlog farm and writes its sources file.
func (o options) backlogFarm(name string) (*newsfarm.Farm, string, int, error) {
	f, err := newsfarm.New(o.farmConfig(o.backlog))
	if err != nil {
		return nil, "", 0, err
	}
	if err := f.Start(); err != nil {
		return nil, "", 0, err
	}
	p := filepath.Join(o.work, name+"-sources.yaml")
	if err := os.WriteFile(p, []byte(newsfarm.SourcesYAML(f.Sites(), o.interval.String())), 0o644); err != nil {
		f.Close()
		return nil, "", 0, err
	}
	return f, p, len(expectedIDs(f.Manifest(time.Now()))), nil
}

func (o options) backlogAIO() (row, error) {
	r := row{run: "backlog, all-in-one"}
	f, sources, want, err := o.backlogFarm("backlog-aio")
	if err != nil {
		return r, err
	}
	defer f.Close()
	r.input = fmt.Sprintf("%d feeds, %d documents", o.sites, want)
	prefix := o.prefix + "b"
	es0 := o.esCPU()
	t0 := time.Now()
	p, _, httpAddr, err := o.startAIO("backlog-aio", prefix, sources)
	if err != nil {
		return r, err
	}
	defer p.stop()
	ready := p.stat()
	prof := o.profiler()
	prof.cpu(r.run, "newsflow-run", httpAddr)
	n, last, t10, t90 := waitCount(o.es, prefix+"-articles", want, t0, 90*time.Second)
	st := p.stat()
	prof.allocs(r.run, "newsflow-run", httpAddr)
	st.name = "newsflow run"
	r.articles, r.wall, r.sustained = n, last.Sub(t0), sustained(want, t10, t90)
	r.procs, r.cpu, r.esCPU = []procStat{st}, st.cpu, o.esCPU()-es0
	r.note = fmt.Sprintf("wall and CPU include start-up (%.1f CPU-s until ready, while already fetching)", ready.cpu.Seconds())
	return r, nil
}

// liveAIO: the farm publishes at rate for o.live; every document's latency is measured.
func (o options) liveAIO(rate float64) (row, error) {
	r := row{run: fmt.Sprintf("live %g/s, all-in-one", rate)}
	prefix := fmt.Sprintf("%sl%d", o.prefix, int(rate))
	cfg := o.farmConfig(0)
	cfg.Rate, cfg.FeedItems = rate, int(rate*o.interval.Seconds()*3)+50
	sources := filepath.Join(o.work, "live-sources.yaml")
	// The farm's URLs go into the sources file before newsflow starts, so its clock starts
	// 90 s ahead: publishing begins once newsflow is surely ready. Backlog -1 would be
	// invalid; a backlog of 0 defaults to 1,200, so one old story is the backlog.
	cfg.Backlog = 1
	startAt := time.Now().Add(90 * time.Second)
	cfg.Start = startAt
	f, err := newsfarm.New(cfg)
	if err != nil {
		return r, err
	}
	if err := f.Start(); err != nil {
		return r, err
	}
	defer f.Close()
	if err := os.WriteFile(sources, []byte(newsfarm.SourcesYAML(f.Sites(), o.interval.String())), 0o644); err != nil {
		return r, err
	}
	p, _, _, err := o.startAIO(fmt.Sprintf("live-%g", rate), prefix, sources)
	if err != nil {
		return r, err
	}
	defer p.stop()
	if time.Until(startAt) < 0 {
		return r, errors.New("newsflow took longer than 90 s to start")
	}
	time.Sleep(time.Until(startAt))
	base := p.stat()
	es0 := o.esCPU()
	end := startAt.Add(o.live)
	found := map[string]time.Time{} // id → first seen searchable
	fetched := map[string]docTimes{}
	var maxPending int
	for {
		now := time.Now()
		m := liveIDs(f.Manifest(minTime(now, end)), startAt)
		var pending []string
		for id := range m {
			if _, ok := found[id]; !ok {
				pending = append(pending, id)
			}
		}
		if now.Before(end) {
			maxPending = max(maxPending, len(pending))
		}
		if len(pending) == 0 && now.After(end) {
			break
		}
		if now.After(end.Add(60 * time.Second)) {
			break
		}
		got, err := esIDs(o.es, prefix+"-articles", pending)
		if err == nil {
			// The time the answer came back: an upper bound, at most one poll period and a
			// search late (the article became searchable after the previous poll's search).
			t := time.Now()
			for id, dt := range got {
				found[id], fetched[id] = t, dt
			}
		}
		time.Sleep(livePoll)
	}
	st := p.stat()
	st.cpu -= base.cpu
	st.name = "newsflow run"
	m := liveIDs(f.Manifest(end), startAt)
	var appeared, sinceFetch, toEnriched, sinceEnriched []time.Duration
	for id, e := range m {
		if t, ok := found[id]; ok {
			appeared = append(appeared, t.Sub(e.Published))
			if dt := fetched[id]; !dt.fetched.IsZero() {
				sinceFetch = append(sinceFetch, t.Sub(dt.fetched))
				if !dt.enriched.IsZero() {
					toEnriched = append(toEnriched, dt.enriched.Sub(dt.fetched))
					sinceEnriched = append(sinceEnriched, t.Sub(dt.enriched))
				}
			}
		}
	}
	r.input = fmt.Sprintf("%d feeds, %d documents in %s", o.sites, len(m), o.live)
	r.articles, r.wall = len(found), o.live
	r.procs, r.cpu, r.esCPU = []procStat{st}, st.cpu, o.esCPU()-es0
	r.p50, r.p95, r.p99 = pct(appeared, 50), pct(appeared, 95), pct(appeared, 99)
	r.f50, r.f95, r.f99 = pct(sinceFetch, 50), pct(sinceFetch, 95), pct(sinceFetch, 99)
	r.keptUp = fmt.Sprintf("%d/%d searchable, max %d waiting", len(found), len(m), maxPending)
	// Where the time goes: the fetcher, cleaner and enricher (fetched → enriched), then the
	// bus, the indexer's bulk, Elasticsearch's refresh and this poll (enriched → searchable).
	r.note = fmt.Sprintf("fetched→enriched p50/p95 %s / %s; enriched→searchable p50/p95 %s / %s (polled every %s)",
		secMS(pct(toEnriched, 50)), secMS(pct(toEnriched, 95)), secMS(pct(sinceEnriched, 50)), secMS(pct(sinceEnriched, 95)), livePoll)
	return r, nil
}

// liveIDs is expectedIDs of the stories published from start on.
func liveIDs(m []newsfarm.Entry, start time.Time) map[string]newsfarm.Entry {
	out := expectedIDs(m)
	for id, e := range out {
		if e.Published.Before(start) {
			delete(out, id)
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)]
}

// livePoll is how often the live runs search for the articles not yet seen.
const livePoll = 100 * time.Millisecond

// docTimes are an indexed article's fetched_at and enriched_at.
type docTimes struct{ fetched, enriched time.Time }

// esIDs returns which of ids are searchable, with their fetched_at and enriched_at.
func esIDs(es, index string, ids []string) (map[string]docTimes, error) {
	out := map[string]docTimes{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 1000)]
		ids = ids[len(chunk):]
		q, _ := json.Marshal(map[string]any{"query": map[string]any{"ids": map[string]any{"values": chunk}}, "_source": []string{"fetched_at", "enriched_at"}, "size": len(chunk)})
		res, err := http.Post(es+"/"+index+"/_search", "application/json", bytes.NewReader(q))
		if err != nil {
			return out, err
		}
		var v struct {
			Hits struct {
				Hits []struct {
					ID     string `json:"_id"`
					Source struct {
						FetchedAt  time.Time `json:"fetched_at"`
						EnrichedAt time.Time `json:"enriched_at"`
					} `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err = json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		if err != nil {
			return out, err
		}
		for _, h := range v.Hits.Hits {
			out[h.ID] = docTimes{h.Source.FetchedAt, h.Source.EnrichedAt}
		}
	}
	return out, nil
}

// secMS is d in seconds with two decimals.
func secMS(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mb(b int64) string { return fmt.Sprintf("%d MB", b>>20) }

func sec(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// printTable prints the result table (markdown) and the news-please ratios.
func printTable(w io.Writer, rows []row, interval time.Duration) {
	fmt.Fprintln(w, "| run | input | in ES | wall | articles/s (sustained) | CPU-s | CPU-ms/article | articles/CPU-s | ES CPU-s | per process: CPU-ms/article, peak RSS | latency appeared→searchable p50/p95/p99 | fetched→searchable p50/p95/p99 | kept up | load (1-min avg, start–end) | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		var procs []string
		for _, p := range r.procs {
			per := 0.0
			if r.articles > 0 {
				per = float64(p.cpu.Milliseconds()) / float64(r.articles)
			}
			procs = append(procs, fmt.Sprintf("%s %.1f, %s", p.name, per, mb(p.hwm)))
		}
		rate := "–"
		if r.wall > 0 && r.articles > 0 && r.p50 == 0 {
			rate = fmt.Sprintf("%.0f (%.0f)", float64(r.articles)/r.wall.Seconds(), r.sustained)
			if r.sustained == 0 { // not followed (news-please's WARC run is timed as one process)
				rate = fmt.Sprintf("%.0f (–)", float64(r.articles)/r.wall.Seconds())
			}
		}
		lat, flat := "–", "–"
		if r.p50 > 0 {
			lat = fmt.Sprintf("%s / %s / %s", sec(r.p50), sec(r.p95), sec(r.p99))
			flat = fmt.Sprintf("%s / %s / %s", sec(r.f50), sec(r.f95), sec(r.f99))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %.1f | %.1f | %.0f | %.1f | %s | %s | %s | %s | %s | %s |\n",
			r.run, r.input, r.articles, sec(r.wall), rate, r.cpu.Seconds(), r.cpuPerArticleMS, r.articlesPerCPUSecond, r.esCPU.Seconds(),
			strings.Join(procs, "; "), lat, flat, orDash(r.keptUp), orDash(r.load), orDash(r.note))
	}
	var aio, np *row
	for i := range rows {
		switch rows[i].run {
		case "backlog, all-in-one":
			aio = &rows[i]
		case "backlog, news-please":
			np = &rows[i]
		}
	}
	if aio != nil && np != nil && np.articlesPerCPUSecond > 0 && aio.wall > 0 {
		fmt.Fprintf(w, "\nSame farm, same Elasticsearch, same run: newsflow all-in-one / news-please = %.1f× articles per CPU-second, %.2f× wall time.\n",
			aio.articlesPerCPUSecond/np.articlesPerCPUSecond, aio.wall.Seconds()/np.wall.Seconds())
	}
	printTargets(w, rows, interval)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// printTargets checks issue 18's targets against the rows present.
func printTargets(w io.Writer, rows []row, interval time.Duration) {
	ok := func(b bool) string {
		if b {
			return "met"
		}
		return "NOT met"
	}
	var lines []string
	by := map[string]*row{}
	for i := range rows {
		by[rows[i].run] = &rows[i]
	}
	if a, n := by["backlog, all-in-one"], by["backlog, news-please"]; a != nil && n != nil && n.articlesPerCPUSecond > 0 && n.wall > 0 {
		x := a.articlesPerCPUSecond / n.articlesPerCPUSecond
		lines = append(lines, fmt.Sprintf("≥ 5× news-please's articles per CPU-second: %.1f× — %s", x, ok(x >= 5)),
			fmt.Sprintf("backlog searchable sooner than news-please gets it there: %s vs %s — %s", sec(a.wall), sec(n.wall), ok(a.wall < n.wall)))
	}
	for _, name := range []string{"backfill, all-in-one", "backfill, separate services"} {
		if b, n := by[name], by["backfill, news-please (Common Crawl mode)"]; b != nil && n != nil && n.articlesPerCPUSecond > 0 {
			x := b.articlesPerCPUSecond / n.articlesPerCPUSecond
			lines = append(lines, fmt.Sprintf("%s ≥ 5× news-please's articles per CPU-second on the same WARC: %.1f× — %s", name, x, ok(x >= 5)))
		}
		if b := by[name]; b != nil && b.wall > 0 {
			v := float64(b.articles) / b.wall.Seconds()
			lines = append(lines, fmt.Sprintf("%s ≥ 150 articles/s into ES: %.0f/s overall, %.0f/s sustained — %s", name, v, b.sustained, ok(b.sustained >= 150)))
		}
	}
	if l := by["live 20/s, all-in-one"]; l != nil && l.p95 > 0 {
		lines = append(lines, fmt.Sprintf("live 20/s: p95 searchable−fetched %s ≤ 2 s — %s; p95 searchable−appeared %s ≤ poll interval + 2 s = %s — %s",
			sec(l.f95), ok(l.f95 <= 2*time.Second), sec(l.p95), sec(interval+2*time.Second), ok(l.p95 <= interval+2*time.Second)))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "\nTargets (issue 18):")
	for _, l := range lines {
		fmt.Fprintln(w, "- "+l)
	}
}
