package geo

import (
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/enrich/internal/textutil"
)

func TestLookupCountry(t *testing.T) {
	g := Default()
	tests := []struct{ in, want string }{
		{"Ukraine", "UA"}, {"Ukrainian", "UA"}, {"Russians", "RU"}, {"Russian Federation", "RU"},
		{"United States", "US"}, {"U.S.", "US"}, {"US", "US"}, {"Britain", "GB"}, {"Deutschland", "DE"},
		{"Côte d'Ivoire", "CI"}, {"French", "FR"}, {"American", "US"}, {"Americans", "US"},
		{"日本", "JP"}, {"美国", "US"}, {"中国", "CN"}, // Chinese names (the zh entity model's LOC spans)
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, ok := g.LookupCountry(tt.in)
			if !ok || c.Code != tt.want {
				t.Fatalf("LookupCountry(%q) = %v, %v; want %s", tt.in, c, ok, tt.want)
			}
		})
	}
	if _, ok := g.LookupCountry("us"); ok {
		t.Error("lower-case pronoun 'us' matched a country")
	}
}

func TestResolveCity(t *testing.T) {
	g := Default()
	tests := []struct {
		name    string
		city    string
		ctx     map[string]float64
		wantCC  string
		wantHit bool
	}{
		{"moscow no context", "Moscow", nil, "RU", true},
		{"donetsk ukraine context", "Donetsk", map[string]float64{"UA": 5}, "UA", true},
		{"paris default", "Paris", nil, "FR", true},
		{"paris texas context", "Paris", map[string]float64{"US": 10}, "FR", true},
		{"london ontario context", "London", map[string]float64{"CA": 10}, "CA", true},
		{"unknown", "Xyzzyville", nil, "", false},
		{"chinese name", "北京", nil, "CN", true},
		{"chinese name with suffix", "杭州市", nil, "CN", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := g.ResolveCity(tt.city, tt.ctx, 0)
			if ok != tt.wantHit {
				t.Fatalf("hit = %v, want %v", ok, tt.wantHit)
			}
			if ok && c.Country != tt.wantCC {
				t.Fatalf("country = %s (%s pop %d), want %s", c.Country, c.Name, c.Population, tt.wantCC)
			}
		})
	}
}

func TestFindCountries(t *testing.T) {
	g := Default()
	text := "The Ukrainian president thanked the United States’ allies; us and U.S. officials met in Russia."
	ms := g.FindCountries(textutil.Tokenize(text))
	var got []string
	for _, m := range ms {
		got = append(got, m.Country.Code+":"+text[m.Start:m.End])
	}
	want := []string{"UA:Ukrainian", "US:United States", "US:U.S.", "RU:Russia"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// BenchmarkLoad measures Default's start-up cost; cpu-ms/op is process CPU time (with the GC
// the garbage costs).
func BenchmarkLoad(b *testing.B) {
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

// processCPU returns the process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
