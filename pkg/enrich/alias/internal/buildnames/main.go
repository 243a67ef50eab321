// Command buildnames compiles the forename lists under the gazetteer directory (US census 1990
// first names, public domain; sigpwned common forenames by country, CC0) into
// data/forenames.txt.gz: one capitalised Latin-script forename per line, sorted. Run via
// `go generate ./enrich/alias` from pkg.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"flag"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

func main() {
	dir := flag.String("data", "../../../../shared/ml/gazetteers", "gazetteer directory")
	out := flag.String("out", "data/forenames.txt.gz", "output file")
	flag.Parse()
	names := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if len([]rune(s)) < 3 || strings.ContainsAny(s, " .-'") {
			return
		}
		rs := []rune(strings.ToLower(s))
		for _, r := range rs {
			if !unicode.Is(unicode.Latin, r) {
				return
			}
		}
		rs[0] = unicode.ToUpper(rs[0])
		names[string(rs)] = true
	}
	for _, f := range []string{"census1990_dist.male.first", "census1990_dist.female.first"} {
		fh, err := os.Open(filepath.Join(*dir, f))
		if err != nil {
			log.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) > 0 {
				add(fs[0])
			}
		}
		fh.Close()
	}
	fh, err := os.Open(filepath.Join(*dir, "sigpwned_common-forenames-by-country.csv"))
	if err != nil {
		log.Fatal(err)
	}
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if len(rec) >= 12 {
			add(rec[11])
		}
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	o, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(o, gzip.BestCompression)
	zw.Write([]byte(strings.Join(list, "\n") + "\n"))
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := o.Close(); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d forenames", len(list))
}
