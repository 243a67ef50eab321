package ner

import (
	"bytes"
	"compress/gzip"
	"io"
	"syscall"
	"testing"
	"time"
)

// embeddedModels returns the embedded model files by language.
func embeddedModels(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, lang := range []string{"en", "multi", "zh"} {
		b, err := modelFS.ReadFile("model/" + ModelFile(lang))
		if err != nil {
			t.Fatal(err)
		}
		out[lang] = b
	}
	return out
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEmbeddedModelsRoundTrip checks that reading an embedded model loses
// nothing: writing it back gives the same bytes once decompressed (header,
// gazetteer, clusters, weights, first pass, lexicons); zh is read with
// ReadModel, the others with LoadModelBytes.
func TestEmbeddedModelsRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every embedded model")
	}
	for lang, b := range embeddedModels(t) {
		want := gunzip(t, b)
		load, name := LoadModelBytes, "LoadModelBytes"
		if lang == "zh" {
			load, name = func(b []byte) (*Model, error) { return ReadModel(bytes.NewReader(b)) }, "ReadModel"
		}
		{
			m, err := load(b)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, name, err)
			}
			var out bytes.Buffer
			if _, err := m.WriteTo(&out); err != nil {
				t.Fatal(err)
			}
			if got := gunzip(t, out.Bytes()); !bytes.Equal(got, want) {
				t.Errorf("%s %s: written back, %d bytes differ from the %d embedded", lang, name, len(got), len(want))
			}
			if m.first != nil && m.first.gaz != m.gaz {
				t.Errorf("%s %s: the passes do not share the gazetteer", lang, name)
			}
		}
	}
}

// TestReadModelTruncated checks that every truncation of a model's
// decompressed bytes is an error, not a panic or a silently short model.
func TestReadModelTruncated(t *testing.T) {
	m := tinyStacked(t)
	var out bytes.Buffer
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	d := gunzip(t, out.Bytes())
	for n := 0; n < len(d); n += 1 + n/64 {
		if _, err := decodeModel(d[:n], nil); err == nil {
			t.Fatalf("decoding %d of %d bytes: no error", n, len(d))
		}
	}
	if _, err := decodeModel(append(d[:len(d):len(d)], 0), nil); err == nil {
		t.Fatal("trailing byte: no error")
	}
	if _, err := decodeModel(d, nil); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLoadModel decodes each embedded model (process start-up cost:
// Default loads "en", ForLanguage "multi" and "zh" on first use).
func BenchmarkLoadModel(b *testing.B) {
	for _, lang := range []string{"en", "multi", "zh"} {
		data := embeddedModels(b)[lang]
		b.Run(lang, func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := LoadModelBytes(data); err != nil {
					b.Fatal(err)
				}
			}
			// process CPU time (includes the GC the garbage costs)
			b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU returns the process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
