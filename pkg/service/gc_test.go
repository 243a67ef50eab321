package service

import (
	"errors"
	"testing"
)

func TestTuneGC(t *testing.T) {
	for _, tt := range []struct {
		name      string
		env       map[string]string
		memoryMax string // "" = no file
		percent   int    // want: -1 untouched
		limit     int64  // want: -1 untouched
	}{
		{name: "no env, no cgroup limit", memoryMax: "max\n", percent: 200, limit: -1},
		{name: "no env, no cgroup file", percent: 200, limit: -1},
		{name: "no env, container limit", memoryMax: "1073741824\n", percent: 200, limit: 1073741824 / 10 * 8},
		{name: "garbage memory.max", memoryMax: "lots", percent: 200, limit: -1},
		{name: "GOGC set", env: map[string]string{"GOGC": "100"}, memoryMax: "1073741824", percent: -1, limit: -1},
		{name: "GOMEMLIMIT set", env: map[string]string{"GOMEMLIMIT": "2GiB"}, memoryMax: "1073741824", percent: 200, limit: -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			percent, limit := -1, int64(-1)
			read := func(p string) ([]byte, error) {
				if p != "/sys/fs/cgroup/memory.max" || tt.memoryMax == "" {
					return nil, errors.New("no such file")
				}
				return []byte(tt.memoryMax), nil
			}
			tuneGC(func(k string) string { return tt.env[k] }, 200, read,
				func(p int) int { percent = p; return 100 }, func(l int64) int64 { limit = l; return 0 })
			if percent != tt.percent || limit != tt.limit {
				t.Errorf("percent %d limit %d, want %d %d", percent, limit, tt.percent, tt.limit)
			}
		})
	}
}
