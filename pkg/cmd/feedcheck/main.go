// Command feedcheck runs the fetcher's feed/sitemap parser over every file under a directory
// and prints each file's outcome (ok with item count and format, or the error) and a summary.
// It is the robustness check for real-world and ill-formed feeds: a parser panic is reported
// as such and makes the exit status 2; parse errors are expected outcomes (exit 0).
//
//	go run ./cmd/feedcheck -dir ../../shared/eval/feeds
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/fetch"
)

type summary struct {
	Files, OK, Empty, Errors, Panics, Items int
	Elapsed                                 time.Duration
}

func main() {
	dir := flag.String("dir", "../../shared/eval/feeds", "directory to scan recursively")
	quiet := flag.Bool("q", false, "print the summary only")
	flag.Parse()
	out := io.Writer(os.Stdout)
	if *quiet {
		out = io.Discard
	}
	s, err := run(*dir, out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "feedcheck:", err)
		os.Exit(1)
	}
	fmt.Printf("\nfiles %d  ok %d (of which 0 items: %d)  errors %d  panics %d  items %d  in %s\n",
		s.Files, s.OK, s.Empty, s.Errors, s.Panics, s.Items, s.Elapsed.Round(time.Millisecond))
	if s.Panics > 0 {
		os.Exit(2)
	}
}

// run parses every regular file under dir and writes one line per file to w.
func run(dir string, w io.Writer) (summary, error) {
	var s summary
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	sort.Strings(paths)
	t0 := time.Now()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return s, err
		}
		s.Files++
		rel, _ := filepath.Rel(dir, p)
		items, format, title, perr, panicked := check(b)
		switch {
		case panicked:
			s.Panics++
			fmt.Fprintf(w, "PANIC  %-60s %v\n", rel, perr)
		case perr != nil:
			s.Errors++
			fmt.Fprintf(w, "error  %-60s %v\n", rel, perr)
		default:
			s.OK++
			s.Items += items
			if items == 0 {
				s.Empty++
			}
			fmt.Fprintf(w, "ok     %-60s %-12s items=%-4d %q\n", rel, format, items, title)
		}
	}
	s.Elapsed = time.Since(t0)
	return s, nil
}

func check(b []byte) (items int, format, title string, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, panicked = fmt.Errorf("%v", r), true
		}
	}()
	// No HTTP headers here: the body's own declarations and detection decide the charset.
	p, err := fetch.ParseFeed(b, "https://feedcheck.invalid/feed", "", fetch.ParseLimits{})
	if p != nil && err == nil {
		title = p.Title
		if len(p.Items) > 0 && p.Items[0].Title != "" {
			title = p.Items[0].Title
		}
		if len(title) > 40 {
			title = title[:40]
		}
		format = p.Format
		if p.Repaired {
			format += "(repaired)"
		}
		return len(p.Items) + len(p.Children), format, title, nil, false
	}
	return 0, "", "", err, false
}
