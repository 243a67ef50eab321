package ner

import (
	"bytes"
	"math"
	"testing"
)

func TestAddTypeBias(t *testing.T) {
	// a private copy of the embedded model's first pass (single-pass)
	var b bytes.Buffer
	if _, err := Default().first.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	words := []string{"the", "cat", "sat", "on", "the", "mat", "."}
	emit := func(m *Model) []float32 {
		ws := m.ws()
		ws.f.extract(words)
		m.emissions(ws, len(words))
		return append([]float32(nil), ws.emit...)
	}
	tests := []struct {
		name    string
		typ     string
		bias    float32
		wantErr bool
	}{
		{"zero bias", "ORG", 0, false},
		{"positive ORG bias", "ORG", 3, false},
		{"negative PER bias", "PER", -2, false},
		{"unknown type", "FOO", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := LoadModelBytes(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			before := emit(m)
			err = m.AddTypeBias(tc.typ, tc.bias, true)
			if (err != nil) != tc.wantErr {
				t.Fatalf("AddTypeBias err = %v, wantErr %v", err, tc.wantErr)
			}
			after := emit(m)
			ti := typeIndex(tc.typ)
			for i := range words {
				for l := 0; l < numLabels; l++ {
					want := before[i*numLabels+l]
					if !tc.wantErr && ti > 0 && (l == 2*ti-1 || l == 2*ti) {
						want += tc.bias
					}
					if got := after[i*numLabels+l]; math.Abs(float64(got-want)) > float64(m.scale) {
						t.Errorf("token %d label %s: emission %.4f, want %.4f", i, labelNames[l], got, want)
					}
				}
			}
		})
	}
}
