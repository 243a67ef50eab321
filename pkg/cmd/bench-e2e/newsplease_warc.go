package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// backfillNewsPlease runs news-please's Common Crawl mode on the same WARC as the newsflow
// backfill rows (scripts/bench/newsplease_warc.py: CommonCrawlExtractor reading the local file,
// every article indexed into the same Elasticsearch). The peer is one Python process; its CPU
// is its own user+system time from the kernel after it exits.
func (o options) backfillNewsPlease(warc string) (row, error) {
	r := row{run: "backfill, news-please (Common Crawl mode)", input: "WARC (same file)"}
	script, err := filepath.Abs(o.npWARCScript)
	if err != nil {
		return r, err
	}
	index := o.prefix + "-newsplease-warc"
	logf, err := os.Create(filepath.Join(o.work, "newsplease-warc.log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.Command(o.python, script, "--warc", warc, "--es", o.es, "--index", index)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	es0 := o.esCPU()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	tr := watchTree(cmd.Process.Pid)
	werr := cmd.Wait()
	out := bytes.TrimSpace(stdout.Bytes())
	wall := time.Since(t0)
	_, hwm := tr.Stop()
	if werr != nil {
		return r, fmt.Errorf("news-please WARC run: %w (log %s)", werr, logf.Name())
	}
	var sum struct {
		Passed, Discarded, Errors, Total, Indexed, Failed int
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		return r, fmt.Errorf("news-please WARC run: summary %q: %w", out, err)
	}
	// The script indexes without refresh: make its last second of documents countable.
	if res, err := http.Post(o.es+"/"+index+"/_refresh", "application/json", nil); err == nil {
		res.Body.Close()
	}
	n, err := esCount(o.es, index)
	if err != nil {
		return r, fmt.Errorf("news-please WARC run: count %s: %w", index, err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.articles, r.wall = n, wall
	r.procs = []procStat{{name: "news-please", cpu: cpu, hwm: hwm}}
	r.cpu, r.esCPU = cpu, o.esCPU()-es0
	r.note = fmt.Sprintf("news-please 1.6.16 CommonCrawlExtractor on the local WARC: %d response records, %d extracted, %d discarded, %d errors; wall and CPU include start-up",
		sum.Total, sum.Passed, sum.Discarded, sum.Errors)
	return r, nil
}
