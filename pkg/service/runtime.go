package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/newsflow/newsflow/pkg/bus"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the zap logger cfg asks for (JSON by default), tagged with the service.
func NewLogger(cfg Config) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("service: log level: %w", err)
	}
	var zc zap.Config
	if cfg.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
	} else {
		zc = zap.NewProductionConfig()
		zc.EncoderConfig.TimeKey = "ts"
		zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil
	l, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("service: logger: %w", err)
	}
	return l.With(zap.String("service", cfg.Service)), nil
}

// Runtime holds what every service wires: logger, metrics registry, readiness and one run
// group. Components get Log and Reg injected; nothing here is global.
type Runtime struct {
	Cfg Config
	Log *zap.Logger
	Reg *prometheus.Registry

	mux      *http.ServeMux
	ready    atomic.Bool
	checks   []func(context.Context) error
	group    run.Group
	mu       sync.Mutex
	addr     string
	onStop   []func()
	onForce  []func()
	stopOnce sync.Once
	// hasAPI, metricsAddr: the endpoints' guard and the metrics listener (apiauth.go)
	hasAPI      atomic.Bool
	metricsAddr atomic.Value
	// lag exports the backlog of every watched consumer group (one collector per runtime,
	// over the first bus that can report lag); lagBus is that bus.
	lag    *bus.LagCollector
	lagBus bus.Bus
}

// New builds a Runtime with a fresh registry (Go and process collectors and
// newsflow_build_info included) and the /metrics, /healthz and /readyz endpoints. It does
// not start anything.
func New(cfg Config, log *zap.Logger) *Runtime {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), NewBuildInfo())
	r := &Runtime{Cfg: cfg, Log: log, Reg: reg, mux: http.NewServeMux()}
	r.mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	r.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	r.mux.HandleFunc("/readyz", r.serveReady)
	if cfg.PProf {
		servePProf(r.mux)
	}
	return r
}

// Handle registers an extra HTTP handler on the service's server (e.g. POST /v1/urls).
// Write requests need the API token when one is set (apiauth.go).
func (r *Runtime) Handle(pattern string, h http.Handler) { r.mux.Handle(pattern, r.guardAPI(h)) }

// AddReadyCheck adds a check that /readyz runs (e.g. bus connected, ES reachable).
func (r *Runtime) AddReadyCheck(check func(context.Context) error) {
	r.mu.Lock()
	r.checks = append(r.checks, check)
	r.mu.Unlock()
}

// WatchConsumer makes readiness depend on the consumer group of subject: /readyz answers 503
// until the bus reports the group's stream/topic and consumer (set up by Consume), and
// whenever the bus does not answer. Backends without bus.LagReporter are not checked.
// Runtime.Consume calls it; stages that call Bus.Consume themselves call it too.
func (r *Runtime) WatchConsumer(b bus.Bus, subject, group string) {
	lr, ok := b.(bus.LagReporter)
	if !ok {
		return
	}
	r.watchLag(b, subject, group)
	r.AddReadyCheck(func(ctx context.Context) error {
		_, found, err := lr.Lag(ctx, subject, group)
		if err != nil {
			return fmt.Errorf("bus: %w", err)
		}
		if !found {
			return fmt.Errorf("consumer %s of %s is not set up yet", group, subject)
		}
		return nil
	})
}

// watchLag adds the group to newsflow_bus_consumer_lag_messages (registered on first use).
// Groups of a second bus instance are not exported: one collector per registry.
func (r *Runtime) watchLag(b bus.Bus, subject, group string) {
	r.mu.Lock()
	if r.lag == nil {
		if c := bus.NewLagCollector(b, r.Log, 0); c != nil {
			if err := r.Reg.Register(c); err != nil {
				r.Log.Warn("consumer lag metric not registered", zap.Error(err))
			} else {
				r.lag, r.lagBus = c, b
			}
		}
	}
	c, same := r.lag, r.lagBus == b
	r.mu.Unlock()
	if same {
		c.Watch(strings.TrimPrefix(group, "newsflow-"), subject, group)
	}
}

// Abort runs the OnStop hooks of a runtime whose Run was never called or failed to start:
// a set-up that fails half way stops what the stages wired so far had started (bulk workers,
// alert publishing, connections). It is a no-op after Run's own stop.
func (r *Runtime) Abort() { r.stop() }

// SetReady flips readiness; Run sets it once every actor has started and clears it on stop.
func (r *Runtime) SetReady(v bool) { r.ready.Store(v) }

// OnStop registers fn to run once after all actors have stopped (close bus, flush, ...), in
// reverse order of registration.
func (r *Runtime) OnStop(fn func()) {
	r.mu.Lock()
	r.onStop = append(r.onStop, fn)
	r.mu.Unlock()
}

// Addr is the HTTP server's bound address once Run has started it.
func (r *Runtime) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

func (r *Runtime) serveReady(w http.ResponseWriter, req *http.Request) {
	if !r.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	r.mu.Lock()
	checks := append([]func(context.Context) error(nil), r.checks...)
	r.mu.Unlock()
	for _, c := range checks {
		if err := c(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// Go adds a context-driven actor: fn runs until ctx is cancelled (on SIGTERM or when another
// actor ends) and must return promptly after draining. name is for logs.
func (r *Runtime) Go(name string, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	r.group.Add(func() error {
		err := fn(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			r.Log.Error("actor stopped with error", zap.String("actor", name), zap.Error(err))
			return fmt.Errorf("%s: %w", name, err)
		}
		r.Log.Info("actor stopped", zap.String("actor", name))
		return nil
	}, func(error) {
		r.ready.Store(false)
		cancel()
	})
}

// OnForce registers fn to run when a stop exceeds Cfg.ShutdownTimeout (e.g. close the bus, which
// cancels handlers still running), so a stuck handler cannot hang SIGTERM forever.
func (r *Runtime) OnForce(fn func()) {
	r.mu.Lock()
	r.onForce = append(r.onForce, fn)
	r.mu.Unlock()
}

// ErrDrainTimeout is returned by Run when draining took longer than Cfg.ShutdownTimeout and
// in-flight work was cut off (it will be redelivered).
var ErrDrainTimeout = errors.New("service: drain exceeded the shutdown timeout")

// Run starts the HTTP server and every actor, marks the service ready, and blocks until
// SIGINT/SIGTERM (or ctx is cancelled, or the first actor returns); then it clears readiness
// (/readyz answers 503 while the server stays up), interrupts all actors (they drain within
// Cfg.ShutdownTimeout, after which the OnForce hooks cut them off), runs the OnStop hooks and
// finally stops the HTTP server. A signal- or ctx-initiated clean stop returns nil, so the
// process exits 0.
func (r *Runtime) Run(ctx context.Context) error {
	if err := r.checkExposure(); err != nil {
		return err
	}
	stopMetrics, err := r.startMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", r.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("service: listen %s: %w", r.Cfg.HTTPAddr, err)
	}
	r.mu.Lock()
	r.addr = ln.Addr().String()
	r.mu.Unlock()
	srv := &http.Server{Handler: r.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx) // Serve returns at once after this; nothing else waits on it
	}()
	var forced atomic.Bool
	var budget *time.Timer
	var budgetOnce sync.Once
	startBudget := func() {
		budgetOnce.Do(func() {
			r.ready.Store(false)
			budget = time.AfterFunc(r.Cfg.ShutdownTimeout, func() {
				forced.Store(true)
				r.Log.Error("drain exceeded the shutdown timeout, cutting off in-flight work (it will be redelivered)",
					zap.Duration("timeout", r.Cfg.ShutdownTimeout))
				r.mu.Lock()
				fns := append([]func(){}, r.onForce...)
				r.mu.Unlock()
				for _, fn := range fns {
					fn()
				}
			})
		})
	}
	sigCtx, sigCancel := context.WithCancel(ctx)
	execute, interrupt := run.SignalHandler(sigCtx, os.Interrupt, syscall.SIGTERM)
	r.group.Add(execute, func(err error) { startBudget(); interrupt(err); sigCancel() })
	httpStop := make(chan struct{}) // the server itself stops after the drain (deferred above)
	r.group.Add(func() error {
		select {
		case err := <-served:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
		case <-httpStop:
		}
		return nil
	}, func(error) { startBudget(); close(httpStop) })
	r.Log.Info("service started", zap.String("http", r.addr), zap.String("bus", r.Cfg.Bus))
	r.ready.Store(true)
	err = r.group.Run()
	r.ready.Store(false)
	if budget != nil {
		budget.Stop()
	}
	r.stop()
	if forced.Load() {
		return ErrDrainTimeout
	}
	var sig run.SignalError
	if err == nil || errors.As(err, &sig) || errors.Is(err, context.Canceled) {
		r.Log.Info("service stopped cleanly")
		return nil
	}
	return err
}

func (r *Runtime) stop() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		fns := append([]func(){}, r.onStop...)
		r.mu.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			fns[i]()
		}
		_ = r.Log.Sync()
	})
}
