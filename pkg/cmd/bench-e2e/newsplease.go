package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// newsPleaseConfig writes a news-please config directory: its own default config.cfg with
// Elasticsearch storage (prefix index on our ES), RSS crawling, politeness off (no
// robots.txt, no delays, 16 concurrent requests per domain), and the farm's sites.
func (o options) newsPleaseConfig(dir, index string, sites []string) error {
	out, err := exec.Command(o.python, "-c", "import newsplease, os; print(os.path.dirname(newsplease.__file__))").Output()
	if err != nil {
		return fmt.Errorf("news-please not importable with %s: %w", o.python, err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "config", "config.cfg"))
	if err != nil {
		return err
	}
	cfg := string(b)
	esHost, esPort := "127.0.0.1", "9200"
	if m := regexp.MustCompile(`^https?://([^:/]+):(\d+)`).FindStringSubmatch(o.es); m != nil {
		esHost, esPort = m[1], m[2]
	}
	set := func(key, val string) {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `\s*=.*$`)
		if !re.MatchString(cfg) {
			panic("news-please config has no " + key)
		}
		cfg = re.ReplaceAllLiteralString(cfg, key+" = "+val)
	}
	set("default", "RssCrawler")
	set("host", esHost) // the first host = is [MySQL]'s; Elasticsearch's is set below
	cfg = regexp.MustCompile(`(?s)(\[Elasticsearch\].*?)host = localhost\nport = 9200`).ReplaceAllString(cfg, "${1}host = "+esHost+"\nport = "+esPort)
	set("index_current", "'"+index+"'")
	set("index_archive", "'"+index+"-archive'")
	set("working_path", dir)
	set("ROBOTSTXT_OBEY", "False")
	set("CONCURRENT_REQUESTS_PER_DOMAIN", "16")
	set("LOG_LEVEL", "WARNING")
	cfg = regexp.MustCompile(`(?s)ITEM_PIPELINES = \{.*?\}`).ReplaceAllString(cfg,
		"ITEM_PIPELINES = {'newsplease.pipeline.pipelines.ArticleMasterExtractor':100,\n                  'newsplease.pipeline.pipelines.ElasticsearchStorage':350\n                  }\nDOWNLOAD_DELAY = 0\nAUTOTHROTTLE_ENABLED = False")
	if err := os.WriteFile(filepath.Join(dir, "config.cfg"), []byte(cfg), 0o644); err != nil {
		return err
	}
	var sl strings.Builder
	sl.WriteString("{\n  \"base_urls\": [\n")
	for i, s := range sites {
		sep := ","
		if i == len(sites)-1 {
			sep = ""
		}
		fmt.Fprintf(&sl, "    {\"url\": %q, \"crawler\": \"RssCrawler\"}%s\n", s, sep)
	}
	sl.WriteString("  ]\n}\n")
	return os.WriteFile(filepath.Join(dir, "sitelist.hjson"), []byte(sl.String()), 0o644)
}

// backlogNewsPlease runs news-please's RSS crawling on the backlog farm into the same ES.
func (o options) backlogNewsPlease() (row, error) {
	r := row{run: "backlog, news-please"}
	f, _, want, err := o.backlogFarm("backlog-np")
	if err != nil {
		return r, err
	}
	defer f.Close()
	r.input = fmt.Sprintf("%d feeds, %d documents", o.sites, want)
	dir, _ := filepath.Abs(filepath.Join(o.work, "newsplease"))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	index := o.prefix + "-newsplease"
	var sites []string
	for _, s := range f.Sites() {
		sites = append(sites, s.BaseURL+"/")
	}
	if err := o.newsPleaseConfig(dir, index, sites); err != nil {
		return r, err
	}
	logf, err := os.Create(filepath.Join(o.work, "newsplease.log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.Command(o.python, "-m", "newsplease", "-c", dir, "-no-confirm")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	es0 := o.esCPU()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	tr := watchTree(cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	n, last, t10, t90 := waitCount(o.es, index, want, t0, 90*time.Second)
	cpu, hwm := tr.Snapshot(), int64(0)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	_, hwm = tr.Stop()
	r.articles, r.wall, r.sustained = n, last.Sub(t0), sustained(want, t10, t90)
	r.procs = []procStat{{name: "news-please (all processes)", cpu: cpu, hwm: hwm}}
	r.cpu, r.esCPU = cpu, o.esCPU()-es0
	r.note = "news-please 1.6.16, RSS crawler, politeness off; wall and CPU include start-up"
	return r, nil
}
