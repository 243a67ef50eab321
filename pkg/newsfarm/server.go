package newsfarm

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// server serves the farm's sites, one loopback listener each.
type server struct {
	srvs   []*http.Server
	mu     sync.Mutex
	served map[string]int // URL → requests answered
}

// Start serves every site on its own 127.0.0.1 listener (a free port each) and rewrites the
// sites' base URLs to them. It returns once all listeners are bound.
func (f *Farm) Start() error {
	if f.srv != nil {
		return errors.New("newsfarm: already started")
	}
	srv := &server{served: map[string]int{}}
	var lns []net.Listener
	for i := range f.sites {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return fmt.Errorf("newsfarm: listen: %w", err)
		}
		lns = append(lns, ln)
		f.sites[i].BaseURL = "http://" + ln.Addr().String()
	}
	for i, ln := range lns {
		hs := &http.Server{Handler: f.handler(i, srv), ReadHeaderTimeout: 5 * time.Second}
		srv.srvs = append(srv.srvs, hs)
		go func() { _ = hs.Serve(ln) }()
	}
	f.srv = srv
	return nil
}

// Close stops the listeners.
func (f *Farm) Close() error {
	if f.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, s := range f.srv.srvs {
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Served returns how many times each URL (without query) was answered with 200.
func (f *Farm) Served() map[string]int {
	out := map[string]int{}
	if f.srv == nil {
		return out
	}
	f.srv.mu.Lock()
	defer f.srv.mu.Unlock()
	for k, v := range f.srv.served {
		out[k] = v
	}
	return out
}

func (f *Farm) handler(i int, srv *server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var body string
		ctype := "text/html; charset=utf-8"
		switch r.URL.Path {
		case "/robots.txt":
			ctype, body = "text/plain", "User-agent: *\nAllow: /\nSitemap: "+f.sites[i].SitemapURL()+"\n"
		case "/feed.xml":
			ctype = "application/rss+xml; charset=utf-8"
			if f.sites[i].FeedKind == "atom" {
				ctype = "application/atom+xml; charset=utf-8"
			}
			body = f.renderFeed(i, now)
		case "/sitemap.xml":
			ctype, body = "application/xml; charset=utf-8", f.renderSitemap(i, now)
		case "/", "/index.html":
			body = f.renderHome(i, now)
		default:
			key := keyOfPath(r.URL.Path)
			p, ok := page{}, false
			if key != "" {
				p, ok = f.pageFor(key, i)
			}
			if !ok || p.published.After(now) {
				http.NotFound(w, r)
				return
			}
			st := f.story(p)
			if f.path(p, &st) != r.URL.Path {
				http.NotFound(w, r)
				return
			}
			if p.kind == KindPoison {
				srv.count(f.sites[i].BaseURL + r.URL.Path)
				writePoison(w, p)
				return
			}
			body = f.renderPage(p, &st)
		}
		srv.count(f.sites[i].BaseURL + r.URL.Path)
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write([]byte(body))
	})
}

func (s *server) count(u string) {
	s.mu.Lock()
	s.served[u]++
	s.mu.Unlock()
}

// poisonBody returns the bytes and Content-Encoding of a poison page.
func poisonBody(p page) (body []byte, encoding string) {
	switch p.poison {
	case PoisonBinary:
		r := rand.New(rand.NewPCG(uint64(len(p.key)), uint64(p.published.Unix())))
		b := make([]byte, 16<<10)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b, ""
	case PoisonGzipBomb:
		return gzipBomb(), "gzip"
	}
	return nil, ""
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is 32 MiB of "A" gzipped (about 32 KiB).
func gzipBomb() []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		chunk := []byte(strings.Repeat("A", 1<<20))
		for i := 0; i < 32; i++ {
			_, _ = zw.Write(chunk)
		}
		_ = zw.Close()
		bomb = buf.Bytes()
	})
	return bomb
}

func writePoison(w http.ResponseWriter, p page) {
	body, enc := poisonBody(p)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if enc != "" {
		w.Header().Set("Content-Encoding", enc)
	}
	_, _ = w.Write(body)
}
