package ner

import "testing"

func TestShapeBytes(t *testing.T) {
	tests := []struct{ name, w, full, short string }{
		{"mixed", "McDonald's", "XxXxxx'x", "XxXx'x"},
		{"digits", "2,000", "d,ddd", "d,d"},
		{"non-ASCII symbol", "€5", "*d", "*d"},
		{"empty", "", "", ""},
		{"capped at 25 runes", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "xxx", "x"},
	}
	buf := []byte("junk from an earlier word")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, nf := shapeBytes(tt.w, buf)
			if full, short := string(b[:nf]), string(b[nf:]); full != tt.full || short != tt.short {
				t.Errorf("shapeBytes(%q) = %q, %q; want %q, %q", tt.w, full, short, tt.full, tt.short)
			}
			buf = b
		})
	}
}

func TestInternBounded(t *testing.T) {
	var f featurizer
	for i := 0; i < 3*maxInterned; i++ {
		b := []byte{byte(i), byte(i >> 8), 'x'}
		if s := f.intern(b); s != string(b) {
			t.Fatalf("intern(%q) = %q", b, s)
		}
		if len(f.shapeStr) > maxInterned {
			t.Fatalf("%d interned strings, bound %d", len(f.shapeStr), maxInterned)
		}
	}
}
