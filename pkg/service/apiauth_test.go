package service

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true}, {"127.0.0.1:0", true}, {"[::1]:8080", true}, {"localhost:8080", true},
		{"127.1.2.3:80", true}, {":8080", false}, {"0.0.0.0:8080", false}, {"[::]:8080", false},
		{"10.0.0.5:8080", false}, {"example.com:8080", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := Loopback(tc.addr); got != tc.want {
				t.Errorf("Loopback(%q) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

// startRuntime runs a Runtime with a write endpoint (POST /v1/urls → 202) until the test ends
// and returns it once it listens; Run's error (nil when it started) is returned too.
func startRuntime(t *testing.T, cfg Config) (*Runtime, error) {
	t.Helper()
	rt := New(cfg, zap.NewNop())
	rt.Handle("/v1/urls", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	for rt.Addr() == "" {
		select {
		case err := <-done:
			cancel()
			return rt, err
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return rt, nil
}

func TestAPIToken(t *testing.T) {
	cfg := DefaultConfig("fetcher")
	cfg.Security.API.Token = "s3cret-api-token"
	rt, err := startRuntime(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, auth string
		want               int
	}{
		{"no token", http.MethodPost, "", http.StatusUnauthorized},
		{"wrong token", http.MethodPost, "Bearer nope", http.StatusUnauthorized},
		{"token as basic", http.MethodPost, "Basic s3cret-api-token", http.StatusUnauthorized},
		{"token prefix", http.MethodPost, "Bearer s3cret-api-toke", http.StatusUnauthorized},
		{"right token", http.MethodPost, "Bearer s3cret-api-token", http.StatusAccepted},
		{"scheme case-insensitive", http.MethodPost, "bearer s3cret-api-token", http.StatusAccepted},
		{"GET needs none", http.MethodGet, "", http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://"+rt.Addr()+"/v1/urls", strings.NewReader(`{"urls":[]}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tc.want, body)
			}
			if strings.Contains(string(body), "s3cret") {
				t.Errorf("response contains the token: %s", body)
			}
		})
	}
	for _, p := range []string{"/metrics", "/healthz"} {
		res, err := http.Get("http://" + rt.Addr() + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d without a token, want 200", p, res.StatusCode)
		}
	}
}

func TestAPIExposure(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		token   string
		allow   bool
		wantErr bool
	}{
		{name: "loopback without token", addr: "127.0.0.1:0"},
		{name: "all interfaces without token", addr: ":0", wantErr: true},
		{name: "all interfaces with token", addr: ":0", token: "t0ken-value"},
		{name: "all interfaces explicitly allowed", addr: "0.0.0.0:0", allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig("fetcher")
			cfg.HTTPAddr = tc.addr
			cfg.Security.API = APISecurity{Token: tc.token, AllowUnauthenticated: tc.allow}
			_, err := startRuntime(t, cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !IsConnError(err) || !strings.Contains(err.Error(), "NEWSFLOW_API_TOKEN") || !strings.Contains(err.Error(), "http :0") {
					t.Errorf("error %q: want a ConnError naming the address and NEWSFLOW_API_TOKEN", err)
				}
			}
		})
	}
	// A service without write endpoints may listen anywhere without a token.
	cfg := DefaultConfig("cleaner")
	cfg.HTTPAddr = ":0"
	rt := New(cfg, zap.NewNop())
	if err := rt.checkExposure(); err != nil {
		t.Errorf("no API endpoints: %v", err)
	}
}

func TestMetricsAddr(t *testing.T) {
	cfg := DefaultConfig("fetcher")
	cfg.Security.API.MetricsAddr = "127.0.0.1:0"
	rt, err := startRuntime(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func(addr, path string) int {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if rt.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}
	for _, tc := range []struct {
		addr, path string
		want       int
	}{
		{rt.MetricsAddr(), "/metrics", 200}, {rt.MetricsAddr(), "/healthz", 200}, {rt.MetricsAddr(), "/v1/urls", 404},
		{rt.Addr(), "/metrics", 404}, {rt.Addr(), "/readyz", 200}, {rt.Addr(), "/healthz", 200}, {rt.Addr(), "/v1/urls", 202},
	} {
		if got := get(tc.addr, tc.path); got != tc.want {
			t.Errorf("GET %s%s = %d, want %d", tc.addr, tc.path, got, tc.want)
		}
	}
}
