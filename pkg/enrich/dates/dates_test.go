package dates

import (
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	// Wednesday 29 December 2021
	ref := time.Date(2021, 12, 29, 15, 4, 0, 0, time.UTC)
	d := func(y, m, dd int) string {
		return time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	tests := []struct {
		name, text, wantText, want string
	}{
		{"past weekday", "A senior official said on Wednesday.", "Wednesday", d(2021, 12, 29)},
		{"future weekday", "Biden and Putin will speak by phone on Thursday.", "Thursday", d(2021, 12, 30)},
		{"past weekday default", "The minister resigned on Monday.", "Monday", d(2021, 12, 27)},
		{"last weekday", "He spoke last Wednesday.", "last Wednesday", d(2021, 12, 22)},
		{"next weekday", "They meet next Friday.", "next Friday", d(2021, 12, 31)},
		{"month day next year", "talks scheduled for January 10 in Geneva", "January 10", d(2022, 1, 10)},
		{"month day year", "on March 3, 2020 the market fell", "March 3, 2020", d(2020, 3, 3)},
		{"day month", "signed on 5 December", "5 December", d(2021, 12, 5)},
		{"iso", "published 2021-11-02 by the agency", "2021-11-02", d(2021, 11, 2)},
		{"yesterday", "Officials said yesterday that", "yesterday", d(2021, 12, 28)},
		{"tomorrow", "The vote is tomorrow.", "tomorrow", d(2021, 12, 30)},
		{"last year", "sales fell last year", "last year", d(2020, 12, 29)},
		{"weeks ago", "three weeks ago the army moved", "three weeks ago", d(2021, 12, 8)},
		{"in n days", "a decision in 10 days", "in 10 days", d(2022, 1, 8)},
		{"before anchored", "Two weeks before the negotiations scheduled for January 10.", "Two weeks before", d(2021, 12, 27)},
		{"beginning of month", "At the beginning of December, he warned", "December", d(2021, 12, 1)},
		{"in year", "annexed in 2014 by Russia", "2014", d(2014, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Find(tt.text, ref)
			for _, g := range got {
				if g.Text == tt.wantText {
					if g.Resolved.Format("2006-01-02") != tt.want {
						t.Fatalf("%q resolved to %s, want %s", g.Text, g.Resolved.Format("2006-01-02"), tt.want)
					}
					if tt.text[g.Offset:g.Offset+len(g.Text)] != g.Text {
						t.Fatalf("offset %d does not point at %q", g.Offset, g.Text)
					}
					return
				}
			}
			t.Fatalf("no %q in %+v", tt.wantText, got)
		})
	}
}

func TestFindNoFalseMonths(t *testing.T) {
	ref := time.Date(2021, 12, 29, 0, 0, 0, 0, time.UTC)
	if got := Find("They may 5 times march in protest; the sun will rise.", ref); len(got) != 0 {
		t.Fatalf("got %+v", got)
	}
	if got := Find("Thursday", time.Time{}); got != nil {
		t.Fatalf("zero ref: %+v", got)
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{"January 10", "two weeks before January 10", "on Thursday", "2021-02-30", "in 99999999999 days", "last weekend", "\xff\xfe March"} {
		f.Add(s)
	}
	ref := time.Date(2021, 12, 29, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range Find(s, ref) {
			if d.Offset < 0 || d.Offset+len(d.Text) > len(s) || s[d.Offset:d.Offset+len(d.Text)] != d.Text {
				t.Fatalf("bad offset %+v", d)
			}
		}
	})
}
