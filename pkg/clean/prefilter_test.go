package clean

import (
	"strings"
	"testing"
)

// prefilterCases are lines the literal prefilters must let through to their regexps.
var prefilterCases = []string{
	"A man walks by (Photo: Reuters)", "Caption [Image / AFP] .", "Caption (Getty Images)  ", "x (a / b)\t.",
	"Write to jane@example.com", "Follow @newsdesk on X", "Click to Tweet", "great quote CLICK TO TWEET ",
	"no match here", "", "(", "]", "tweet", "@",
}

// FuzzPrefilters checks that the literal prefilters never reject a line their regexp matches.
func FuzzPrefilters(f *testing.F) {
	for _, s := range prefilterCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if reCaptionTail.MatchString(s) && !endsWithBracket(s) {
			t.Fatalf("endsWithBracket rejects caption %q", s)
		}
		if reContact.MatchString(s) && !strings.Contains(s, "@") {
			t.Fatalf("reContact matches without '@': %q", s)
		}
		if reClickToTweet.MatchString(s) && !containsFoldASCII(s, "tweet") {
			t.Fatalf("containsFoldASCII rejects %q", s)
		}
	})
}
