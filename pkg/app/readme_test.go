package app

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeCLI checks the README's CLI section against the commands: every command it shows
// exists, and every flag it shows for a command is in that command's --help.
func TestReadmeCLI(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## The all-in-one CLI\n\n```\n")
	if !ok {
		t.Fatal("README has no CLI section")
	}
	section, _, _ = strings.Cut(section, "```")
	flag := regexp.MustCompile(`(?:^|[\s\[])(--?[a-z][a-z-]*)`)
	commands := 0
	for _, line := range strings.Split(section, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "newsflow" {
			continue
		}
		commands++
		var out, errb bytes.Buffer
		cmd := []string{fields[1]}
		if len(fields) > 2 && regexp.MustCompile(`^[a-z]+$`).MatchString(fields[2]) {
			cmd = append(cmd, fields[2]) // a subcommand: `newsflow dlq list ...`
		}
		if code := Main(append(cmd, "--help"), func(string) string { return "" }, nil, &out, &errb); code != 0 {
			t.Errorf("newsflow %s --help: exit %d: %s", strings.Join(cmd, " "), code, errb.String())
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(line, -1) {
			if f := m[1]; f != "-" && !strings.Contains(out.String(), f+" ") && !strings.Contains(out.String(), f+",") {
				t.Errorf("README shows %s for `newsflow %s`; its --help has no such flag:\n%s", f, strings.Join(cmd, " "), out.String())
			}
		}
	}
	if commands < 5 {
		t.Fatalf("found %d commands in the README's CLI section, want 5", commands)
	}
}
