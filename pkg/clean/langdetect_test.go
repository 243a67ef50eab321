package clean

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/RadhiFadlillah/whatlanggo"
	"go.uber.org/zap"
)

// sameAsWhatlanggo reports whether got (analyzeLang + info) is what
// whatlanggo.DetectWithOptions returned (want), allowing only the order of two languages at
// exactly the same distance, which whatlanggo takes from Go's random map order.
func sameAsWhatlanggo(sc langScores, got, want whatlanggo.Info) bool {
	if (got.Script == nil) != (want.Script == nil) || got.Confidence != want.Confidence {
		return false
	}
	if got.Lang == want.Lang {
		return true
	}
	if sc.ix == nil || got.Lang < 0 || want.Lang < 0 {
		return false
	}
	dist := func(l whatlanggo.Lang) int {
		for i, x := range sc.ix.langs {
			if x == l {
				return sc.dist[i]
			}
		}
		return -1
	}
	return dist(got.Lang) == dist(want.Lang)
}

// whitelists: the ones detect and plausible pass (the default set, and the declared language
// with the detected one), and none.
func detectWhitelists(t testing.TB) []map[whatlanggo.Lang]bool {
	ls, err := langWhitelist(DefaultConfig().Languages)
	if err != nil {
		t.Fatal(err)
	}
	return []map[whatlanggo.Lang]bool{
		ls.opts.Whitelist, nil,
		{whatlanggo.Eng: true, whatlanggo.Fra: true}, {whatlanggo.Spa: true, whatlanggo.Por: true},
		{whatlanggo.Rus: true, whatlanggo.Ukr: true}, {whatlanggo.Deu: true}, {whatlanggo.Eng: true, whatlanggo.Rus: true},
		{whatlanggo.Ita: true, whatlanggo.Spa: true}, {whatlanggo.Arb: true, whatlanggo.Pes: true},
		{whatlanggo.Nld: true, whatlanggo.Afr: true}, {whatlanggo.Hin: true, whatlanggo.Mar: true},
		{whatlanggo.Swe: true, whatlanggo.Dan: true}, {whatlanggo.Pol: true, whatlanggo.Ces: true},
	}
}

func checkAgainstWhatlanggo(t *testing.T, name, sample string, wls []map[whatlanggo.Lang]bool) bool {
	t.Helper()
	sc := analyzeLang(sample)
	ok := true
	for _, wl := range wls {
		got := sc.info(wl)
		want := whatlanggo.DetectWithOptions(sample, whatlanggo.Options{Whitelist: wl})
		if !sameAsWhatlanggo(sc, got, want) {
			t.Errorf("%s whitelist %v: got %v %.2f script %v, whatlanggo %v %.2f script %v", name, wl,
				got.Lang, got.Confidence, got.Script != nil, want.Lang, want.Confidence, want.Script != nil)
			ok = false
		}
	}
	return ok
}

// TestFastDetectMatchesWhatlanggo: on the texts the cleaner classifies for every document of
// the shared eval sets (627 pages and the feed items), the sample detect reads gives the
// language and confidence whatlanggo.DetectWithOptions gives, for the whitelists detect and
// plausible use. It also compares the raw bodies (markup, entities, mixed scripts).
func TestFastDetectMatchesWhatlanggo(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DisableDedup = true
	c, err := New(cfg, zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wls := detectWhitelists(t)
	n := 0
	for _, d := range sharedEvalDocs(t) {
		body := d.raw.Body
		if out, err := c.Clean(t.Context(), d.id, d.raw); err == nil {
			checkAgainstWhatlanggo(t, d.set+" "+d.id+" text", firstRunes(out.Text, 2000), wls)
			checkAgainstWhatlanggo(t, d.set+" "+d.id+" title", out.Title, wls)
			n++
		}
		checkAgainstWhatlanggo(t, d.set+" "+d.id+" body", firstRunes(body, 3000), wls)
	}
	if n < 600 {
		t.Fatalf("only %d documents cleaned", n)
	}
	t.Logf("%d documents compared", n)
}

func firstRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// TestFastDetectTable pins cases of whatlanggo's own that the fast path has to reproduce:
// the script majority and its tie order, Japanese kana among Han, no letters, invalid UTF-8,
// one rune, a one-language whitelist, a whitelist of another script.
func TestFastDetectTable(t *testing.T) {
	wls := append(detectWhitelists(t), map[whatlanggo.Lang]bool{whatlanggo.Cmn: true},
		map[whatlanggo.Lang]bool{whatlanggo.Eng: false})
	for _, s := range []string{
		"", " ", "1234 ,.;", "a", "é", "The quick brown fox jumps over the lazy dog.",
		"Le renard brun saute par-dessus le chien paresseux.",
		"Der schnelle braune Fuchs springt über den faulen Hund.",
		"Быстрая коричневая лиса прыгает через ленивую собаку.",
		"Швидка бура лисиця стрибає через лінивого собаку.",
		"東京は日本の首都です", "これは日本語の文章です。", "漢字漢字かな", "中文新闻报道",
		"ab абв", "абв ab", "ab αβ", "αβ ab", "a\x00b\x01c", "\xff\xfe\xfd", "abc\xffdef",
		"मुंबई में बारिश", "مرحبا بكم في الأخبار", "שלום עולם", "ሰላም ዓለም",
		"Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ", "ǅemal Ǉubljana", "İstanbul'da ŞEHİR", "ΑΘΗΝΑ αθηνα",
		strings.Repeat("zzq ", 50), strings.Repeat("ab cd ", 3) + strings.Repeat("αβ ", 4),
	} {
		checkAgainstWhatlanggo(t, "", s, wls)
	}
}

// FuzzFastDetect compares the fast detection with whatlanggo on arbitrary text and a
// whitelist picked by the fuzzer.
func FuzzFastDetect(f *testing.F) {
	for _, s := range []string{"The quick brown fox", "Быстрая лиса", "東京かな", "ab αβ", "\xff a", "der die das und"} {
		f.Add(s, uint16(0))
		f.Add(s, uint16(1))
	}
	wls := detectWhitelists(f)
	f.Fuzz(func(t *testing.T, s string, w uint16) {
		if utf8.RuneCountInString(s) > 3000 {
			return
		}
		checkAgainstWhatlanggo(t, "", s, []map[whatlanggo.Lang]bool{wls[int(w)%len(wls)]})
	})
}
