package article

import (
	"errors"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "utm stripped and query sorted", in: "HTTPS://WWW.Example.COM:443/News/a?utm_source=tw&b=2&a=1&utm_medium=social#comments", want: "https://www.example.com/News/a?a=1&b=2"},
		{name: "facebook click id", in: "https://news.example.org/story?fbclid=IwAR0abc", want: "https://news.example.org/story"},
		{name: "google ads and mailchimp", in: "http://example.com/x?gclid=1&mc_cid=2&mc_eid=3&id=7", want: "http://example.com/x?id=7"},
		{name: "default http port", in: "http://example.com:80", want: "http://example.com/"},
		{name: "non-default port kept", in: "http://example.com:8080/a", want: "http://example.com:8080/a"},
		{name: "IDN host to punycode", in: "https://bücher.example/artikel", want: "https://xn--bcher-kva.example/artikel"},
		{name: "dot segments", in: "https://example.com/a/./b/../c", want: "https://example.com/a/c"},
		{name: "protocol relative", in: "//example.com/p", want: "https://example.com/p"},
		{name: "trailing dot host", in: "https://example.com./p", want: "https://example.com/p"},
		{name: "userinfo dropped", in: "https://user:pw@example.com/p", want: "https://example.com/p"},
		{name: "empty query marker dropped", in: "https://example.com/p?", want: "https://example.com/p"},
		{name: "matomo and hubspot", in: "https://example.com/p?pk_campaign=x&_hsenc=y&page=2", want: "https://example.com/p?page=2"},
		{name: "repeated keys keep order", in: "https://example.com/p?tag=b&tag=a", want: "https://example.com/p?tag=b&tag=a"},
		{name: "ipv6 literal", in: "http://[::1]:80/x", want: "http://[::1]/x"},
		{name: "relative url rejected", in: "/news/a", wantErr: true},
		{name: "mailto rejected", in: "mailto:a@example.com", wantErr: true},
		{name: "empty rejected", in: "  ", wantErr: true},
		{name: "javascript rejected", in: "javascript:alert(1)", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadURL) {
					t.Fatalf("Canonicalize(%q) err = %v, want ErrBadURL", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Canonicalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Canonicalize(got)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %q -> %q (%v)", got, again, err)
			}
		})
	}
}

func TestIDStableAndShaped(t *testing.T) {
	a, ca, err := ID("https://Example.com/a?utm_source=x")
	if err != nil {
		t.Fatal(err)
	}
	b, cb, _ := ID("https://example.com/a")
	if a != b || ca != cb {
		t.Fatalf("same article, different IDs: %s %s", a, b)
	}
	if len(a) != 32 {
		t.Fatalf("ID length %d, want 32 hex chars", len(a))
	}
	// SHA-256("https://example.com/a")[:16]
	if want := IDFromCanonical("https://example.com/a"); a != want {
		t.Fatalf("ID %s != %s", a, want)
	}
}

func TestChooseCanonical(t *testing.T) {
	tests := []struct {
		name     string
		fetched  string
		declared []string
		want     string
	}{
		{name: "same-site canonical wins", fetched: "https://m.example.com/a?utm_source=x", declared: []string{"https://www.example.com/a"}, want: "https://www.example.com/a"},
		{name: "relative canonical resolved", fetched: "https://example.com/x/y", declared: []string{"/story/1"}, want: "https://example.com/story/1"},
		{name: "cross-site canonical ignored", fetched: "https://example.com/a", declared: []string{"https://evil.test/a"}, want: "https://example.com/a"},
		{name: "og:url used when canonical empty", fetched: "https://example.co.uk/a?ref=1", declared: []string{"", "https://www.example.co.uk/a"}, want: "https://www.example.co.uk/a"},
		{name: "no declared", fetched: "https://example.com/a#top", want: "https://example.com/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, got, err := ChooseCanonical(tt.fetched, tt.declared...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || id != IDFromCanonical(tt.want) {
				t.Fatalf("got %q (%s), want %q", got, id, tt.want)
			}
		})
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{"https://example.com/a?utm_source=x&b=1#f", "http://[::1]:80/", "//x.y/z", "https://bücher.example/", "http://a/../../b?%zz=1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonicalize(s)
		if err != nil {
			return
		}
		c2, err := Canonicalize(c)
		if err != nil {
			t.Fatalf("canonical %q of %q does not re-parse: %v", c, s, err)
		}
		if c2 != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, c2)
		}
	})
}
