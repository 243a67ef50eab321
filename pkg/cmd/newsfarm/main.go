// Command newsfarm serves a local news farm (pkg/newsfarm) on loopback or writes it as a WARC
// file, for benchmarks and chaos tests.
//
//	newsfarm serve --sites 4 --backlog 1200 --rate 20 --sources /tmp/farm.yaml --control 127.0.0.1:8089
//	newsfarm warc --backlog 10000 --out /tmp/farm.warc.gz --manifest /tmp/farm.jsonl
//
// serve prints one JSON line with the sites and the control URL on stdout, then serves until
// SIGINT/SIGTERM or --duration; the control listener answers /manifest (JSON lines: every URL
// the feeds offered so far, with the article ID newsflow must give it), /served (requests per
// URL) and /sites. --manifest writes the manifest on exit.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/newsflow/newsflow/pkg/cli"
	"github.com/newsflow/newsflow/pkg/newsfarm"
)

func main() {
	os.Exit(cliRun(os.Args[1:], os.Stdout, os.Stderr))
}

func cliRun(args []string, stdout, stderr io.Writer) int {
	return cli.Execute(root(), args, stdout, stderr)
}

func farmFlags(cmd *cobra.Command, c *newsfarm.Config) {
	fl := cmd.Flags()
	fl.Uint64Var(&c.Seed, "seed", 1, "random seed (same seed, same farm)")
	fl.IntVar(&c.Sites, "sites", 4, "number of sites")
	fl.IntVar(&c.Backlog, "backlog", 1200, "stories published before the start")
	fl.DurationVar(&c.BacklogSpacing, "spacing", 30*time.Second, "time between backlog stories")
	fl.Float64Var(&c.Rate, "rate", 0, "stories per second published after the start")
	fl.IntVar(&c.FeedItems, "feed-items", 100, "newest items per feed")
	fl.IntVar(&c.ReprintEvery, "reprint-every", 10, "every Nth story is a wire story reprinted by the sites of its language (-1: none)")
	fl.IntVar(&c.TrackingEvery, "tracking-every", 25, "every Nth story is listed again with utm_* parameters (-1: none)")
	fl.IntVar(&c.PoisonEvery, "poison-every", 100, "every Nth story is a poison page: binary, gzip bomb, empty in turn (-1: none)")
	fl.IntVar(&c.Burst.Count, "burst", 0, "stories in the news burst (0: none)")
	fl.StringVar(&c.Burst.Term, "burst-term", "Vostok Bay earthquake", "the burst's term")
	fl.DurationVar(&c.Burst.At, "burst-at", 20*time.Second, "when the burst starts, after the start")
	fl.DurationVar(&c.Burst.Over, "burst-over", 3*time.Minute, "how long the burst lasts")
}

func root() *cobra.Command {
	r := &cobra.Command{Use: "newsfarm", Short: "A local news farm: sites with feeds, sitemaps and article pages, or their WARC"}
	r.AddCommand(serveCmd(), warcCmd())
	return r
}

func warcCmd() *cobra.Command {
	var c newsfarm.Config
	var out, manifest, start string
	var plain bool
	cmd := &cobra.Command{
		Use:   "warc",
		Short: "Write the farm's backlog as a WARC file (and its manifest)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return cli.UsageError("--out is required")
			}
			t, err := time.Parse(time.RFC3339, start)
			if err != nil {
				return cli.UsageError("--start: %v", err)
			}
			c.Start = t
			f, err := newsfarm.New(c)
			if err != nil {
				return cli.ConfigError(err)
			}
			st, err := writeWARC(f, out, plain)
			if err != nil {
				return err
			}
			if manifest != "" {
				if err := writeManifest(manifest, f.Manifest(f.Epoch())); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "newsfarm: wrote %s: %d response records, %d records, %d bytes\n", out, st.Responses, st.Records, st.Bytes)
			return nil
		},
	}
	farmFlags(cmd, &c)
	cmd.Flags().StringVar(&out, "out", "", "WARC file to write (.warc.gz unless --plain)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "also write the manifest (JSON lines) here")
	cmd.Flags().StringVar(&start, "start", "2026-01-01T00:00:00Z", "the farm's time zero (the backlog ends there)")
	cmd.Flags().BoolVar(&plain, "plain", false, "uncompressed WARC")
	return cmd
}

func writeWARC(f *newsfarm.Farm, path string, plain bool) (newsfarm.WARCStats, error) {
	fh, err := os.Create(path)
	if err != nil {
		return newsfarm.WARCStats{}, fmt.Errorf("newsfarm: %w", err)
	}
	st, err := f.WriteWARC(fh, f.Epoch(), newsfarm.WARCOptions{Plain: plain})
	if cerr := fh.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("newsfarm: close %s: %w", path, cerr)
	}
	return st, err
}

func writeManifest(path string, es []newsfarm.Entry) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("newsfarm: %w", err)
	}
	w := bufio.NewWriter(fh)
	if err := encodeManifest(w, es); err != nil {
		_ = fh.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		_ = fh.Close()
		return fmt.Errorf("newsfarm: write %s: %w", path, err)
	}
	return fh.Close()
}

func encodeManifest(w io.Writer, es []newsfarm.Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range es {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("newsfarm: manifest: %w", err)
		}
	}
	return nil
}

// banner is the JSON line serve prints once it listens.
type banner struct {
	Start   time.Time    `json:"start"`
	Control string       `json:"control,omitempty"`
	Sites   []siteBanner `json:"sites"`
}

type siteBanner struct {
	Name    string `json:"name"`
	Lang    string `json:"lang"`
	URL     string `json:"url"`
	Feed    string `json:"feed"`
	Sitemap string `json:"sitemap"`
}

func serveCmd() *cobra.Command {
	var c newsfarm.Config
	var sources, control, manifest, interval string
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the farm on loopback until SIGINT/SIGTERM (or --duration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := newsfarm.New(c)
			if err != nil {
				return cli.ConfigError(err)
			}
			if err := f.Start(); err != nil {
				return err
			}
			defer func() { _ = f.Close() }()
			b := banner{Start: f.Epoch()}
			for _, s := range f.Sites() {
				b.Sites = append(b.Sites, siteBanner{Name: s.Name, Lang: s.Lang, URL: s.BaseURL, Feed: s.FeedURL(), Sitemap: s.SitemapURL()})
			}
			var ctl *http.Server
			if control != "" {
				ln, err := net.Listen("tcp", control)
				if err != nil {
					return fmt.Errorf("newsfarm: control listener: %w", err)
				}
				ctl = &http.Server{Handler: controlHandler(f, b), ReadHeaderTimeout: 5 * time.Second}
				go func() { _ = ctl.Serve(ln) }()
				b.Control = "http://" + ln.Addr().String()
			}
			if sources != "" {
				if err := os.WriteFile(sources, []byte(newsfarm.SourcesYAML(f.Sites(), interval)), 0o644); err != nil {
					return fmt.Errorf("newsfarm: sources: %w", err)
				}
			}
			line, _ := json.Marshal(b)
			fmt.Fprintln(cmd.OutOrStdout(), string(line))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			<-ctx.Done()
			if ctl != nil {
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = ctl.Shutdown(sctx)
				cancel()
			}
			if manifest != "" {
				return writeManifest(manifest, f.Manifest(time.Now()))
			}
			return nil
		},
	}
	farmFlags(cmd, &c)
	cmd.Flags().StringVar(&sources, "sources", "", "write a newsflow sources file (YAML) for the farm's feeds here")
	cmd.Flags().StringVar(&interval, "interval", "5s", "poll interval written into the sources file")
	cmd.Flags().StringVar(&control, "control", "", "address of the control listener (/manifest, /served, /sites), e.g. 127.0.0.1:0")
	cmd.Flags().StringVar(&manifest, "manifest", "", "write the manifest (JSON lines) here on exit")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after this long (0: until a signal)")
	return cmd
}

func controlHandler(f *newsfarm.Farm, b banner) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/manifest", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriter(w)
		if err := encodeManifest(bw, f.Manifest(time.Now())); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return
		}
		_ = bw.Flush()
	})
	mux.HandleFunc("/served", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.Served())
	})
	mux.HandleFunc("/sites", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b)
	})
	return mux
}
