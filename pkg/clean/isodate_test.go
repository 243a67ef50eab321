package clean

import (
	"testing"
	"time"

	"github.com/markusmobius/go-dateparser"
)

// TestISOLayoutsMatchDateparser checks that the ISO layouts parseDate gained read the same
// instant and offset as go-dateparser, which parseLooseDate used for them before.
func TestISOLayoutsMatchDateparser(t *testing.T) {
	ref := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := &dateparser.Configuration{CurrentTime: ref, DefaultTimezone: time.UTC, StrictParsing: true}
	for _, s := range []string{
		"2023-11-05T14:30+01:00", "2023-11-05T14:30Z", "2023-11-05T14:30-0500", "2023-11-05T14:30+0530",
		"2023-11-05 14:30:15+0100", "2023-11-05 14:30:15-0800", "2023-1-5T04:03:02", "2023-11-5T14:30:15", "2023-1-05",
	} {
		got, ok := parseDate(s)
		if !ok {
			t.Errorf("%s: parseDate failed", s)
			continue
		}
		want, err := dateparser.Parse(cfg, s)
		if err != nil {
			t.Errorf("%s: dateparser: %v", s, err)
			continue
		}
		_, gotOff := got.Zone()
		_, wantOff := want.Time.Zone()
		if !got.Equal(want.Time) || gotOff != wantOff {
			t.Errorf("%s: parseDate %v, dateparser %v", s, got, want.Time)
		}
	}
}

func TestLoneYearRejectedQuickly(t *testing.T) {
	for _, s := range []string{"1988", " 2019 ", "2019."} {
		if _, ok := parseLooseDate(s, time.Now()); ok {
			t.Errorf("%q parsed as a date", s)
		}
	}
	for s, want := range map[string]int{"1988": 1, "19 Nov 2019": 3, "1Jan1988": 3, "2019年5月4日": 6, "": 0} {
		if got := alnumRuns(s); got != want {
			t.Errorf("alnumRuns(%q) = %d, want %d", s, got, want)
		}
	}
}
