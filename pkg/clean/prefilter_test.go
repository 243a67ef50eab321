package clean

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// prefilterCases are lines the literal prefilters must let through to their regexps.
var prefilterCases = []string{
	"A man walks by (Photo: Reuters)", "Caption [Image / AFP] .", "Caption (Getty Images)  ", "x (a / b)\t.",
	"Write to jane@example.com", "Follow @newsdesk on X", "Click to Tweet", "great quote CLICK TO TWEET ",
	"no match here", "", "(", "]", "tweet", "@",
	// reCommentForm, one per alternative, and case/fold variants.
	"Your email address will not be published.", "Required fields are marked *", "Save my name, email, and website",
	"You must be logged in to post a comment.", "Notify me of follow-up comments", "This site uses Akismet to reduce spam.",
	"Comments are closed.", "Be the first to comment", "Join the conversation", "12 Comments", "3 responses", "Leave a Reply",
	"Keine Kommentare sind geschlossen", "Kommentare sind geschlossen", "Kommentar schreiben", "5 Antworten zu x",
	"Sie müssen eingeloggt sein", "Um zu kommentieren müssen Sie angemeldet sein.", "Eingeloggt sein, um Kommentare",
	"Ihre E-Mail-Adresse wird nicht veröffentlicht.", "%d Bloggern gefällt das", "7 bloggern gefällt das", " bloggern gefällt das",
	"Laisser un commentaire", "Votre adresse e-mail ne sera pas publiée.", "2 réponses", "Deja un comentario",
	"Tu dirección de correo electrónico no será publicada.", "4 comentários", "3 reacties", "\u212aommentare sind geschlossen",
	"Thi\u017f site uses akismet", "THIS SITE USES AKISMET", "leave a comment", "10 commenti",
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
		if reCommentForm.MatchString(s) && !maybeCommentForm(s) {
			t.Fatalf("maybeCommentForm rejects %q", s)
		}
		if reClickToTweet.MatchString(s) && !containsFoldASCII(s, "tweet") {
			t.Fatalf("containsFoldASCII rejects %q", s)
		}
	})
}

// TestCommentFormPrefilter: the prefilter lets every seed that reCommentForm matches through
// (each alternative has one), and the only ASCII letters with a non-ASCII case fold under
// (?i) are k and s, the two maybeCommentForm sends to the regexp.
func TestCommentFormPrefilter(t *testing.T) {
	matched := 0
	for _, s := range prefilterCases {
		if reCommentForm.MatchString(s) {
			matched++
			if !maybeCommentForm(s) {
				t.Errorf("maybeCommentForm rejects %q", s)
			}
		}
	}
	if matched < 30 {
		t.Errorf("only %d seeds match reCommentForm", matched)
	}
	for c := rune(0); c < utf8.RuneSelf; c++ {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf && c != 'k' && c != 'K' && c != 's' && c != 'S' {
				t.Errorf("%q folds to %U", c, f)
			}
		}
	}
	for _, s := range []string{"The minister said on Tuesday.", "Comments", "A long paragraph of article text about something."} {
		if maybeCommentForm(s) {
			t.Errorf("maybeCommentForm passes %q", s)
		}
	}
}
