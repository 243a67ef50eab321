package ner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitHan(t *testing.T) {
	tests := []struct {
		name         string
		words, tags  []string
		wantW, wantT string
	}{
		{"han name", []string{"王小明", "说"}, []string{"B-PER", "O"}, "王 小 明 说", "B-PER I-PER I-PER O"},
		{"continuation keeps I", []string{"北京", "大学"}, []string{"B-ORG", "I-ORG"}, "北 京 大 学", "B-ORG I-ORG I-ORG I-ORG"},
		{"latin and digits stay whole", []string{"iPhone15", "在", "2024年"}, []string{"B-MISC", "O", "O"}, "iPhone15 在 2024 年", "B-MISC O O O"},
		{"mixed inside a word", []string{"A股市场"}, []string{"O"}, "A 股 市 场", "O O O O"},
		{"no han", []string{"Joe", "Biden"}, []string{"B-PER", "I-PER"}, "Joe Biden", "B-PER I-PER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, tg := SplitHan(tc.words, tc.tags)
			if got := strings.Join(w, " "); got != tc.wantW {
				t.Errorf("words %q, want %q", got, tc.wantW)
			}
			if got := strings.Join(tg, " "); got != tc.wantT {
				t.Errorf("tags %q, want %q", got, tc.wantT)
			}
			if w2, t2 := SplitHan(tc.words, nil); strings.Join(w2, " ") != tc.wantW || t2 != nil {
				t.Errorf("without tags: %q %v", w2, t2)
			}
		})
	}
}

func TestSentencesCJKFullStop(t *testing.T) {
	text := "阿里巴巴集团总部位于杭州。俄罗斯总统普京没有来！他说：“好。”然后走了"
	toks := splitHanTokens(Tokenize(text))
	var got []string
	for _, s := range Sentences(text, toks) {
		got = append(got, text[s[0].Start:s[len(s)-1].End])
	}
	want := []string{"阿里巴巴集团总部位于杭州。", "俄罗斯总统普京没有来！", "他说：“好。”", "然后走了"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences %q, want %q", got, want)
	}
}

func TestExtractChinese(t *testing.T) {
	m := ForLanguage("zh")
	if m == nil {
		t.Fatal("no embedded zh model")
	}
	text := "我今天在北京见到了王小明。阿里巴巴集团总部位于杭州市。"
	got := map[string]string{}
	for _, sp := range m.Extract(text) {
		if text[sp.Start:sp.End] != sp.Text {
			t.Errorf("span %+v: offsets do not match its text", sp)
		}
		got[sp.Text] = sp.Type
	}
	for name, typ := range map[string]string{"北京": "LOC", "杭州市": "LOC", "王小明": "PER"} {
		if got[name] != typ {
			t.Errorf("%s: got %q, want %s (all: %v)", name, got[name], typ, got)
		}
	}
}

func TestCompileHanGazetteer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	city := func(alt string, pop string) string {
		c := make([]string, 19)
		c[1], c[2], c[3], c[14] = "X", "X", alt, pop
		return strings.Join(c, "\t") + "\n"
	}
	write("cities15000.txt", city("Hangzhou,杭州市,Hang-chou", "7000000")+city("玉溪镇", "20000"))
	write("countries.json", `[{"name":{"native":{}},"translations":{"zho":{"official":"德意志联邦共和国","common":"德国"}}}]`)
	write("sigpwned_common-surnames-by-country.csv", "Country,Localized Name,Romanized Name\nCN,王,Wang\n")
	write("sigpwned_common-forenames-by-country.csv", "Country,Localized Name,Romanized Name\n")
	g, notes, err := CompileHanGazetteer(dir)
	if err != nil {
		t.Fatal(err)
	}
	g.AddHanKeywords()
	han := func(s string) []string {
		var out []string
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
	tests := []struct {
		name string
		cat  int
		want bool
	}{
		{"杭州市", GazCityBig, true},
		{"杭州", GazCityBig, true},
		{"玉溪", GazCity, true},
		{"德国", GazCountry, true},
		{"德国人", GazDemonym, true},
		{"德意志联邦共和国", GazCountry, false}, // longer than gazMaxLen characters
		{"王", GazSurname, true},
		{"大学", GazOrgKey, true},
		{"Hangzhou", GazCityBig, false}, // Latin names are not in the Han gazetteer
	}
	for _, tc := range tests {
		if got := g.lookupWords(han(tc.name))&(1<<tc.cat) != 0; got != tc.want {
			t.Errorf("%s in category %d: %v, want %v (notes %v)", tc.name, tc.cat, got, tc.want, notes)
		}
	}
}

func FuzzSplitHan(f *testing.F) {
	for _, s := range []string{"王小明", "A股市场", "iPhone15在2024年", "", "\xff汉", "𠀀字"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		words, tags := SplitHan([]string{w}, []string{"B-PER"})
		if strings.Join(words, "") != w {
			t.Fatalf("pieces %q do not rebuild %q", words, w)
		}
		if len(words) != len(tags) {
			t.Fatalf("%d pieces, %d tags", len(words), len(tags))
		}
		for i, tg := range tags {
			if (i == 0) != (tg == "B-PER") {
				t.Fatalf("tags %q", tags)
			}
		}
	})
}

func TestForLanguageRouting(t *testing.T) {
	tests := []struct{ lang, want string }{
		{"en", "en"}, {"zh", "zh"}, {"pt", "multi"}, {"de", "multi"},
		{"id", "multi"}, // no model of its own: the multi model generalises better
		{"", ""}, {"ja", ""}, {"th", ""},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			m := ForLanguage(tc.lang)
			got := ""
			if m != nil {
				got = m.Lang
			}
			if got != tc.want {
				t.Errorf("ForLanguage(%q) = %q, want %q", tc.lang, got, tc.want)
			}
		})
	}
}

func TestDocConsistencyPropagation(t *testing.T) {
	chars := func(s string) []string { w, _ := SplitHan([]string{s}, nil); return w }
	tests := []struct {
		name  string
		words [][]string
		labs  [][]int
		want  string // spans of the second sentence after consistency
	}{
		{"han name tagged again", [][]string{chars("王小明说"), chars("我见到王小明")},
			[][]int{{lBPER, lIPER, lIPER, lO}, {lO, lO, lO, lO, lO, lO}}, "3-6PER"},
		{"single han character is not propagated", [][]string{chars("王说"), chars("王见到他")},
			[][]int{{lBPER, lO}, {lO, lO, lO, lO}}, ""},
		{"capitalised name tagged again", [][]string{{"Acme", "Corp", "grew"}, {"Acme", "Corp", "fell"}},
			[][]int{{lBORG, lIORG, lO}, {lO, lO, lO}}, "0-2ORG"},
		{"lower-case occurrence left alone", [][]string{{"Apple", "rose"}, {"an", "apple", "fell"}},
			[][]int{{lBORG, lO}, {lO, lO, lO}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docConsistency(tc.words, tc.labs, nil)
			var got []string
			for _, sp := range spansOf(tc.labs[1]) {
				got = append(got, itoa(sp.Start)+"-"+itoa(sp.End)+sp.Type)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("second sentence spans %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestDocConsistencyScoresPropagatedSpans(t *testing.T) {
	words := [][]string{{"Acme", "Corp", "grew"}, {"Acme", "Corp", "grew"}, {"Acme", "Corp", "fell"}}
	labs := [][]int{{lBORG, lIORG, lO}, {lBORG, lIORG, lO}, {lO, lO, lO}}
	conf := make([][]float32, len(words))
	for i := range conf {
		conf[i] = make([]float32, len(words[i])*numTypes) // the model gave ORG no probability
	}
	docConsistency(words, labs, conf)
	if got := spansOf(labs[2]); len(got) != 1 || got[0].Type != "ORG" {
		t.Fatalf("third sentence spans %v, want Acme Corp ORG", got)
	}
	for j := 0; j < 2; j++ {
		if c := conf[2][j*numTypes+typeIndex("ORG")]; c != 1 {
			t.Errorf("token %d ORG score %v, want the vote share 1", j, c)
		}
	}
	if c := conf[2][2*numTypes+typeIndex("ORG")]; c != 0 {
		t.Errorf("untouched token got score %v", c)
	}
}

func TestChunkSentences(t *testing.T) {
	mk := func(n, comma int) []Token {
		toks := make([]Token, n)
		for i := range toks {
			toks[i] = Token{Text: "w"}
			if i == comma {
				toks[i].Text = "，"
			}
		}
		return toks
	}
	tests := []struct {
		name  string
		sents [][]Token
		want  []int // chunk lengths
	}{
		{"short stays whole", [][]Token{mk(10, -1)}, []int{10}},
		{"cut after punctuation near the limit", [][]Token{mk(450, 380)}, []int{381, 69}},
		{"hard cut without punctuation", [][]Token{mk(900, -1)}, []int{400, 400, 100}},
		{"punctuation too early is ignored", [][]Token{mk(450, 100)}, []int{400, 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, s := range chunkSentences(tc.sents, maxSentence) {
				got = append(got, len(s))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("chunks %v, want %v", got, tc.want)
			}
		})
	}
}
