package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// profiler takes CPU and allocation profiles of running newsflow processes through their
// /debug/pprof/ endpoints (NEWSFLOW_PPROF=true, set on every process the benchmark starts
// when -pprof is given). Files: <dir>/<run>-<process>.cpu.pb.gz and .allocs.pb.gz; read them
// with `go tool pprof -top FILE` (allocations: -sample_index=alloc_space).
type profiler struct {
	dir     string
	seconds int
	wg      sync.WaitGroup
}

func (o options) profiler() *profiler {
	if o.pprofDir == "" {
		return nil
	}
	return &profiler{dir: o.pprofDir, seconds: int(o.pprofFor.Seconds())}
}

// cpu starts a CPU profile of -pprof-for on the process serving addr (in the background).
func (p *profiler) cpu(run, proc, addr string) {
	if p == nil || addr == "" {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, p.seconds)
		if err := p.save(url, run, proc, "cpu", time.Duration(p.seconds+30)*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "bench-e2e: cpu profile of %s: %v\n", proc, err)
		}
	}()
}

// allocs saves the allocation profile (everything allocated since the process started)
// after waiting for the CPU profiles still running.
func (p *profiler) allocs(run, proc, addr string) {
	if p == nil || addr == "" {
		return
	}
	p.wg.Wait()
	if err := p.save("http://"+addr+"/debug/pprof/allocs", run, proc, "allocs", 30*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "bench-e2e: allocs profile of %s: %v\n", proc, err)
	}
}

func (p *profiler) save(url, run, proc, kind string, timeout time.Duration) error {
	c := http.Client{Timeout: timeout}
	res, err := c.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	name := fmt.Sprintf("%s-%s.%s.pb.gz", slug(run), slug(proc), kind)
	f, err := os.Create(filepath.Join(p.dir, name))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s), "-")
}
