package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestFetchPinned(t *testing.T) {
	body := []byte("wheel bytes")
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		path     string
		sha      string
		cached   []byte // cache content before the call (nil: none)
		wantErr  bool
		wantHits int
	}{
		{"fresh download", "/w", want, nil, false, 1},
		{"cache hit", "/w", want, body, false, 0},
		{"corrupt cache downloaded again", "/w", want, []byte("truncated"), false, 1},
		{"hash mismatch", "/w", "00", nil, true, 1},
		{"not found", "/missing", want, nil, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.cached != nil {
				if err := os.WriteFile(filepath.Join(dir, "x.whl"), tc.cached, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			hits = 0
			p, err := fetchPinned(dir, srv.URL+tc.path, "x.whl", tc.sha)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if hits != tc.wantHits {
				t.Errorf("%d downloads, want %d", hits, tc.wantHits)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "x.whl.*"))
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if tc.wantErr {
				return
			}
			if got, _ := os.ReadFile(p); string(got) != string(body) {
				t.Errorf("cached file = %q", got)
			}
		})
	}
}
