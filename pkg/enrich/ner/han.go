package ner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isHan reports whether r is a Han (CJK ideograph) rune.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// SplitHan splits every word containing Han characters into one token per
// Han character (other runs in the word, such as Latin letters or digits,
// stay whole), expanding IOB2 tags to match: the first piece of a B- word
// keeps B-, the rest get I-. tags may be nil. It is how the Chinese
// character model's training and test data are tokenised, and what Extract
// does to a FeatHanChars model's tokens.
func SplitHan(words, tags []string) ([]string, []string) {
	var ow, ot []string
	for i, w := range words {
		pieces := hanPieces(w)
		for k, p := range pieces {
			ow = append(ow, w[p[0]:p[1]])
			if tags == nil {
				continue
			}
			t := tags[i]
			if k > 0 && len(t) > 2 && t[0] == 'B' {
				t = "I" + t[1:]
			}
			ot = append(ot, t)
		}
	}
	return ow, ot
}

// hanPieces returns the byte ranges of w's pieces: each Han rune alone,
// maximal runs of other runes together.
func hanPieces(w string) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i < len(w); {
		r, sz := utf8.DecodeRuneInString(w[i:])
		if isHan(r) {
			if start >= 0 {
				out = append(out, [2]int{start, i})
				start = -1
			}
			out = append(out, [2]int{i, i + sz})
		} else if start < 0 {
			start = i
		}
		i += sz
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(w)})
	}
	return out
}

// splitHanTokens is SplitHan over tokens with offsets.
func splitHanTokens(toks []Token) []Token {
	has := false
	for _, t := range toks {
		for _, r := range t.Text {
			if isHan(r) {
				has = true
				break
			}
		}
		if has {
			break
		}
	}
	if !has {
		return toks
	}
	out := make([]Token, 0, len(toks)*2)
	for _, t := range toks {
		for _, p := range hanPieces(t.Text) {
			out = append(out, Token{Text: t.Text[p[0]:p[1]], Start: t.Start + p[0], End: t.Start + p[1]})
		}
	}
	return out
}

// addHan inserts a name written in Han characters as one token per
// character (names longer than gazMaxLen characters or not wholly Han are
// skipped).
func (g *Gazetteer) addHan(name string, cat int) {
	n := 0
	for _, r := range name {
		if !isHan(r) {
			return
		}
		n++
	}
	if n == 0 || n > gazMaxLen {
		return
	}
	h := uint64(gazSeed)
	k := 0
	for _, r := range name {
		h = gazStep(h, string(r))
		k++
		if k < n {
			g.m[h] |= gazPrefix
		}
	}
	g.m[h] |= 1 << cat
}

// hanPlaceSuffixes are administrative suffixes; a city name is also stored
// without them ("玉溪镇" -> "玉溪").
var hanPlaceSuffixes = []string{"市", "县", "縣", "镇", "鎮", "区", "區", "乡", "鄉"}

// CompileHanGazetteer builds the Chinese character model's gazetteer from
// the files in dir (shared/ml/gazetteers): Han names of GeoNames cities
// (GazCityBig from 500k people, else GazCity; also without an
// administrative suffix), countries' Chinese names (GazCountry) and with
// 人 (GazDemonym), and the Han surnames and forenames of the sigpwned lists
// (GazSurname, GazFirst). Missing files are skipped and reported in notes.
func CompileHanGazetteer(dir string) (*Gazetteer, []string, error) {
	g := NewGazetteer()
	var notes []string
	note := noter(&notes)
	n, err := eachCity(dir, func(c []string, cat, _ int) {
		for _, a := range strings.Split(c[3], ",") {
			g.addHan(a, cat)
			for _, suf := range hanPlaceSuffixes {
				if b, ok := strings.CutSuffix(a, suf); ok && utf8.RuneCountInString(b) >= 2 {
					g.addHan(b, cat)
				}
			}
		}
	})
	note("cities15000.txt", n, err)
	if b, err := os.ReadFile(filepath.Join(dir, "countries.json")); err == nil {
		var cs []struct {
			Name struct {
				Native map[string]struct{ Official, Common string }
			}
			Translations map[string]struct{ Official, Common string }
		}
		if err := json.Unmarshal(b, &cs); err != nil {
			note("countries.json", 0, err)
		} else {
			for _, c := range cs {
				for _, t := range []struct{ Official, Common string }{c.Translations["zho"], c.Name.Native["zho"]} {
					for _, s := range []string{t.Common, t.Official} {
						g.addHan(s, GazCountry)
						if s != "" {
							g.addHan(s+"人", GazDemonym)
						}
					}
				}
			}
			note("countries.json", len(cs), nil)
		}
	} else {
		note("countries.json", 0, err)
	}
	for _, f := range []struct {
		file string
		cat  int
	}{{"sigpwned_common-forenames-by-country.csv", GazFirst}, {"sigpwned_common-surnames-by-country.csv", GazSurname}} {
		n, err := eachCSV(filepath.Join(dir, f.file), func(h map[string]int, rec []string) {
			if i, ok := h["Localized Name"]; ok && i < len(rec) {
				g.addHan(rec[i], f.cat)
			}
		})
		note(f.file, n, err)
	}
	return g, notes, nil
}

// hanKeywords are organisation and place heads and person titles that
// follow (or, for titles, surround) a name.
var hanKeywords = []struct {
	cat   int
	words []string
}{
	{GazOrgKey, []string{"公司", "集团", "大学", "学院", "中学", "小学", "银行", "委员会", "协会", "联盟", "组织", "政府", "部", "局", "院", "队", "俱乐部", "党", "军", "医院", "电视台", "报", "社", "基金会", "研究所", "研究院", "法院", "议会", "国会", "乐团", "乐队", "航空", "铁路", "企业", "中心", "军", "军团", "司令部", "学校", "公会", "工会", "联合会", "总会", "实验室", "教廷", "机构", "电台", "出版社", "酒店", "商会", "交易所", "保险", "足协", "乐园"}},
	{GazLocKey, []string{"省", "市", "县", "区", "镇", "乡", "村", "河", "江", "湖", "山", "岛", "海", "洋", "州", "路", "街", "湾", "峡", "港", "站", "国", "城", "郡", "半岛", "群岛", "山脉", "平原", "盆地", "沙漠", "机场", "广场", "公园", "寺", "宫"}},
	{GazPerTitle, []string{"先生", "女士", "小姐", "总统", "主席", "总理", "首相", "部长", "教授", "博士", "国王", "皇帝", "王子", "公主", "将军", "市长", "州长", "议员", "教练", "导演", "作家", "歌手", "演员", "球员"}},
}

// AddHanKeywords adds hanKeywords to g.
func (g *Gazetteer) AddHanKeywords() {
	for _, k := range hanKeywords {
		for _, w := range k.words {
			g.addHan(w, k.cat)
		}
	}
}
