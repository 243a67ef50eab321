package ner

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// roundTrip writes m and reads it back.
func roundTrip(t testing.TB, m *Model) *Model {
	t.Helper()
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModelBytes([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return m2
}
