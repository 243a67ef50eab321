package service

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

// TestPProfOnlyWhenAsked: /debug/pprof/ is served with NEWSFLOW_PPROF set, and not without.
func TestPProfOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{name: "off by default", env: map[string]string{}, want: http.StatusNotFound},
		{name: "NEWSFLOW_PPROF=true", env: map[string]string{"NEWSFLOW_PPROF": "true"}, want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig("pp", func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			rt := New(cfg, zap.NewNop())
			for _, p := range []string{"/debug/pprof/", "/debug/pprof/allocs?debug=1"} {
				rec := httptest.NewRecorder()
				rt.httpHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
				if rec.Code != tt.want {
					t.Errorf("GET %s: %d, want %d", p, rec.Code, tt.want)
				}
			}
		})
	}
}
