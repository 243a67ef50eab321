package fetch

import "testing"

func TestFallbackText(t *testing.T) {
	tests := []struct {
		name, content, description, want string
	}{
		{"content only", "<p>The full story.</p>", "", "<p>The full story.</p>"},
		{"description only", "", "A summary.", "A summary."},
		{"content richer", "<p>The full story, with every paragraph of it.</p>", "The full story.", "<p>The full story, with every paragraph of it.</p>"},
		// Placeholders seen in real feeds (../shared/eval/feeds: relurl_1, example_6, xml_base).
		{"ellipsis placeholder", "\n                ...\n            ", "Everyone wants good compression. But what exactly <em>is</em> good compression?",
			"Everyone wants good compression. But what exactly <em>is</em> good compression?"},
		{"title in a span", `<span style="font-size: 16px; font-weight: 900;">Vitalina Varela - Trailer</span>`,
			"A film of deeply concentrated beauty, acclaimed filmmaker Pedro Costa's VITALINA VARELA stars nonprofessional actor Vitalina Varela.",
			"A film of deeply concentrated beauty, acclaimed filmmaker Pedro Costa's VITALINA VARELA stars nonprofessional actor Vitalina Varela."},
		{"markup does not count", `<p><img src="a-very-long-file-name-for-the-picture.jpeg" alt=""/></p><p>Short.</p>`, "Longer text.", "Longer text."},
		{"entities count once", "&lt;b&gt;", "ab", "ab"},
		{"tie keeps content", "<p>Same words</p>", "Same words", "<p>Same words</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fallbackText(&Item{Content: tc.content, Description: tc.description}); got != tc.want {
				t.Errorf("fallbackText = %q, want %q", got, tc.want)
			}
		})
	}
}
