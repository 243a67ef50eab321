// Package service is the runtime every newsflow service shares: typed configuration from
// NEWSFLOW_* environment variables, a zap logger, a Prometheus registry with /metrics,
// /healthz and /readyz, one oklog/run group with signal handling and graceful drain, and the
// stage handler middleware (decode, process, publish, retry/dead-letter, metrics).
package service

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration shared by all services. Service-specific settings are read by
// each main with an Env.
type Config struct {
	Service         string        // service name, used in logs and consumer group names
	Bus             string        // "nats" or "kafka"
	NATSURL         string        // NEWSFLOW_NATS_URL
	KafkaBrokers    []string      // NEWSFLOW_KAFKA_BROKERS, comma separated
	ESURL           string        // NEWSFLOW_ES_URL
	HTTPAddr        string        // NEWSFLOW_HTTP_ADDR: metrics, health, service endpoints
	LogLevel        string        // NEWSFLOW_LOG_LEVEL: debug, info, warn, error
	LogFormat       string        // NEWSFLOW_LOG_FORMAT: json or console
	Concurrency     int           // NEWSFLOW_CONCURRENCY: messages handled at once
	MaxDeliver      int           // NEWSFLOW_MAX_DELIVER: attempts before dead-lettering
	AckWait         time.Duration // NEWSFLOW_ACK_WAIT
	ShutdownTimeout time.Duration // NEWSFLOW_SHUTDOWN_TIMEOUT: drain budget on SIGTERM
	NATSReplicas    int           // NEWSFLOW_NATS_STREAM_REPLICAS: JetStream stream replicas (1..5)
	KafkaPartitions int           // NEWSFLOW_KAFKA_PARTITIONS: partitions of topics newsflow creates
	KafkaReplicas   int           // NEWSFLOW_KAFKA_REPLICATION_FACTOR: replication of topics newsflow creates
	Security        Security      // credentials, TLS and the HTTP API token (auth.go, docs/security.md)
	PProf           bool          // NEWSFLOW_PPROF: serve /debug/pprof/ on the HTTP listener (pprof.go)
}

// DefaultConfig returns the defaults for service name.
func DefaultConfig(name string) Config {
	return Config{
		Service:         name,
		Bus:             "nats",
		NATSURL:         "nats://127.0.0.1:4222",
		KafkaBrokers:    []string{"127.0.0.1:9092"},
		ESURL:           "http://127.0.0.1:9200",
		HTTPAddr:        "127.0.0.1:0",
		LogLevel:        "info",
		LogFormat:       "json",
		Concurrency:     4,
		MaxDeliver:      5,
		AckWait:         60 * time.Second,
		ShutdownTimeout: 25 * time.Second,
		NATSReplicas:    1,
		KafkaPartitions: 3,
		KafkaReplicas:   1,
	}
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Service == "" {
		errs = append(errs, errors.New("service name is empty"))
	}
	switch c.Bus {
	case "nats":
		if c.NATSURL == "" {
			errs = append(errs, errors.New("NEWSFLOW_NATS_URL is empty with NEWSFLOW_BUS=nats"))
		}
	case "kafka":
		if len(c.KafkaBrokers) == 0 {
			errs = append(errs, errors.New("NEWSFLOW_KAFKA_BROKERS is empty with NEWSFLOW_BUS=kafka"))
		}
	default:
		errs = append(errs, fmt.Errorf("NEWSFLOW_BUS=%q: want nats or kafka", c.Bus))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("NEWSFLOW_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		errs = append(errs, fmt.Errorf("NEWSFLOW_LOG_FORMAT=%q: want json or console", c.LogFormat))
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("NEWSFLOW_CONCURRENCY=%d: want 1..1024", c.Concurrency))
	}
	if c.MaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("NEWSFLOW_MAX_DELIVER=%d: want >= 1", c.MaxDeliver))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("NEWSFLOW_ACK_WAIT=%s: want >= 1s", c.AckWait))
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		errs = append(errs, fmt.Errorf("NEWSFLOW_NATS_STREAM_REPLICAS=%d: want 1..5", c.NATSReplicas))
	}
	if c.KafkaPartitions < 1 || c.KafkaReplicas < 1 {
		errs = append(errs, fmt.Errorf("NEWSFLOW_KAFKA_PARTITIONS=%d, NEWSFLOW_KAFKA_REPLICATION_FACTOR=%d: want >= 1", c.KafkaPartitions, c.KafkaReplicas))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("NEWSFLOW_SHUTDOWN_TIMEOUT=%s: want > 0", c.ShutdownTimeout))
	}
	if err := c.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config for %s: %w", c.Service, errors.Join(errs...))
	}
	return nil
}

// Env reads typed values of declared variables (registry.go) from a getenv function
// (os.Getenv in mains, a map in tests) and collects errors; call Err after reading. Reading an
// undeclared name, or a declared one with another type, is recorded as an error; a secret's
// NEWSFLOW_X_FILE is resolved.
type Env struct {
	Get  func(string) string
	errs []error
}

// raw returns the trimmed value of key read as type t ("" when unset).
func (e *Env) raw(key string, t Type) string {
	v, err := lookup(e.Get, key, t)
	e.Fail(err)
	return v
}

// parsed reads key as type t and parses it with parse, or returns def when unset or invalid.
func parsed[T any](e *Env, key string, t Type, def T, parse func(string) (T, error)) T {
	s := e.raw(key, t)
	if s == "" {
		return def
	}
	v, err := parse(s)
	if err != nil {
		vr, _ := LookupVar(key)
		vr.Name, vr.Type = key, t
		e.Fail(vr.Check(s))
		return def
	}
	return v
}

// String returns the variable or def when unset.
func (e *Env) String(key, def string) string {
	if v := e.raw(key, String); v != "" {
		return v
	}
	return def
}

// Int returns the variable as an int or def.
func (e *Env) Int(key string, def int) int { return parsed(e, key, Int, def, strconv.Atoi) }

// Float returns the variable as a float64 or def.
func (e *Env) Float(key string, def float64) float64 {
	return parsed(e, key, Float, def, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// Bool returns the variable as a bool or def.
func (e *Env) Bool(key string, def bool) bool { return parsed(e, key, Bool, def, strconv.ParseBool) }

// Duration returns the variable as a time.Duration ("30s") or def.
func (e *Env) Duration(key string, def time.Duration) time.Duration {
	return parsed(e, key, Duration, def, time.ParseDuration)
}

// List returns the variable split on commas, or def.
func (e *Env) List(key string, def []string) []string {
	v := e.raw(key, List)
	if v == "" {
		return def
	}
	return SplitList(v)
}

// SplitList splits a comma-separated list, trimming spaces and dropping empty items (how
// every NEWSFLOW_* list variable and list flag is read).
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Fail records an error found by a component's own env reader.
func (e *Env) Fail(err error) {
	if err != nil {
		e.errs = append(e.errs, err)
	}
}

// Err returns all parse errors joined, or nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// LoadConfig reads the shared NEWSFLOW_* variables over DefaultConfig(name) and validates.
func LoadConfig(name string, getenv func(string) string) (Config, error) {
	c := DefaultConfig(name)
	e := &Env{Get: getenv}
	c.Bus = strings.ToLower(e.String("NEWSFLOW_BUS", c.Bus))
	c.NATSURL = e.String("NEWSFLOW_NATS_URL", c.NATSURL)
	c.KafkaBrokers = e.List("NEWSFLOW_KAFKA_BROKERS", c.KafkaBrokers)
	c.ESURL = e.String("NEWSFLOW_ES_URL", c.ESURL)
	c.HTTPAddr = e.String("NEWSFLOW_HTTP_ADDR", c.HTTPAddr)
	c.LogLevel = strings.ToLower(e.String("NEWSFLOW_LOG_LEVEL", c.LogLevel))
	c.LogFormat = strings.ToLower(e.String("NEWSFLOW_LOG_FORMAT", c.LogFormat))
	c.Concurrency = e.Int("NEWSFLOW_CONCURRENCY", c.Concurrency)
	c.MaxDeliver = e.Int("NEWSFLOW_MAX_DELIVER", c.MaxDeliver)
	c.AckWait = e.Duration("NEWSFLOW_ACK_WAIT", c.AckWait)
	c.ShutdownTimeout = e.Duration("NEWSFLOW_SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	c.NATSReplicas = e.Int("NEWSFLOW_NATS_STREAM_REPLICAS", c.NATSReplicas)
	c.KafkaPartitions = e.Int("NEWSFLOW_KAFKA_PARTITIONS", c.KafkaPartitions)
	c.KafkaReplicas = e.Int("NEWSFLOW_KAFKA_REPLICATION_FACTOR", c.KafkaReplicas)
	c.Security = LoadSecurity(e)
	c.PProf = e.Bool("NEWSFLOW_PPROF", false)
	// Report parse errors and validation errors together, so one run lists every problem.
	if perr := e.Err(); perr != nil {
		return c, errors.Join(fmt.Errorf("config for %s: %w", name, perr), c.Validate())
	}
	return c, c.Validate()
}
