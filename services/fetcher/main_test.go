package main

import (
	"testing"

	"github.com/newsflow/newsflow/pkg/cli/clitest"
)

// TestCommandLine builds the binary and checks that help and version start nothing, and that
// bad flags, arguments and configuration exit 2.
func TestCommandLine(t *testing.T) {
	clitest.Check(t, clitest.Binary{Name: "fetcher"})
}
