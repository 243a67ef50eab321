package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// APISecurity guards a service's HTTP server: the bearer token its write endpoints require
// (POST /v1/urls), whether a non-loopback listener without a token is allowed, and a separate
// address for /metrics, /healthz and /readyz.
type APISecurity struct {
	Token                string // secret: NEWSFLOW_API_TOKEN
	AllowUnauthenticated bool   // NEWSFLOW_API_ALLOW_UNAUTHENTICATED
	MetricsAddr          string // NEWSFLOW_METRICS_ADDR
}

func loadAPISecurity(e *Env) APISecurity {
	return APISecurity{
		Token:                e.String("NEWSFLOW_API_TOKEN", ""),
		AllowUnauthenticated: e.Bool("NEWSFLOW_API_ALLOW_UNAUTHENTICATED", false),
		MetricsAddr:          e.String("NEWSFLOW_METRICS_ADDR", ""),
	}
}

// safeMethod reports whether an HTTP method only reads (no token needed).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// guardAPI wraps a service endpoint: with a token configured, every request that is not a
// GET, HEAD or OPTIONS must carry "Authorization: Bearer <token>" (compared in constant
// time), or gets 401.
func (r *Runtime) guardAPI(h http.Handler) http.Handler {
	r.hasAPI.Store(true)
	token := r.Cfg.Security.API.Token
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if safeMethod(req.Method) {
			h.ServeHTTP(w, req)
			return
		}
		scheme, got, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsflow"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <the NEWSFLOW_API_TOKEN of this service>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// Loopback reports whether addr (host:port) listens on loopback only: 127.0.0.0/8, ::1 or
// localhost. An empty host (":8080") listens everywhere.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkExposure refuses to serve write endpoints beyond loopback without a token, unless
// NEWSFLOW_API_ALLOW_UNAUTHENTICATED is set. The error is a *ConnError (exit 2).
func (r *Runtime) checkExposure() error {
	if !r.hasAPI.Load() {
		return nil
	}
	if err := APIExposureError(r.Cfg); err != nil {
		return err
	}
	if r.Cfg.Security.API.Token == "" && !Loopback(r.Cfg.HTTPAddr) {
		r.Log.Warn("write endpoints (POST /v1/urls) served beyond loopback WITHOUT authentication (NEWSFLOW_API_ALLOW_UNAUTHENTICATED=true)",
			zap.String("http", r.Cfg.HTTPAddr))
	}
	return nil
}

// APIExposureError is the error of a configuration that would serve write endpoints beyond
// loopback without a token and without NEWSFLOW_API_ALLOW_UNAUTHENTICATED (a *ConnError),
// or nil. Binaries that serve /v1/urls check it before they start anything.
func APIExposureError(cfg Config) error {
	api := cfg.Security.API
	if api.Token != "" || api.AllowUnauthenticated || Loopback(cfg.HTTPAddr) {
		return nil
	}
	return &ConnError{Server: "http " + cfg.HTTPAddr, Mechanism: "no NEWSFLOW_API_TOKEN",
		What: "write endpoints (POST /v1/urls) would be reachable beyond loopback without authentication",
		Err:  errors.New("set NEWSFLOW_API_TOKEN (or NEWSFLOW_API_TOKEN_FILE), listen on 127.0.0.1, or set NEWSFLOW_API_ALLOW_UNAUTHENTICATED=true behind an authenticating proxy")}
}

// metricsPaths are served on NEWSFLOW_METRICS_ADDR when it is set (and then /metrics is not
// served on the API listener; the probes stay on both).
var metricsPaths = []string{"/metrics", "/healthz", "/readyz"}

// httpHandler is the handler of the main listener: everything, or all but /metrics when it
// has its own listener.
func (r *Runtime) httpHandler() http.Handler {
	if r.Cfg.Security.API.MetricsAddr == "" {
		return r.mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/metrics" {
			http.Error(w, "served on NEWSFLOW_METRICS_ADDR "+r.Cfg.Security.API.MetricsAddr, http.StatusNotFound)
			return
		}
		r.mux.ServeHTTP(w, req)
	})
}

// startMetrics serves /metrics, /healthz and /readyz on NEWSFLOW_METRICS_ADDR when set; the
// returned function stops that server.
func (r *Runtime) startMetrics() (stop func(), err error) {
	addr := r.Cfg.Security.API.MetricsAddr
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("service: listen %s (NEWSFLOW_METRICS_ADDR): %w", addr, err)
	}
	r.metricsAddr.Store(ln.Addr().String())
	mux := http.NewServeMux()
	for _, p := range metricsPaths {
		mux.Handle(p, r.mux)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	r.Log.Info("metrics and health served separately", zap.String("metrics_http", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// MetricsAddr is the bound address of the NEWSFLOW_METRICS_ADDR listener once Run started it
// ("" when metrics share the main listener).
func (r *Runtime) MetricsAddr() string {
	s, _ := r.metricsAddr.Load().(string)
	return s
}
