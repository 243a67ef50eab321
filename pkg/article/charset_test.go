package article

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

const (
	russianText  = "Президент России подписал закон о бюджете на следующий год. Документ предусматривает рост расходов на образование и здравоохранение, а также снижение дефицита. Эксперты считают, что экономика страны продолжит расти, несмотря на внешние ограничения и падение цен на нефть. Правительство обещает поддержать малый бизнес и увеличить пенсии."
	japaneseText = "東京都は新しい感染症対策を発表しました。都内の飲食店には営業時間の短縮が要請され、知事は記者会見で協力を呼びかけました。専門家は今後の感染拡大に警戒が必要だと指摘しています。"
	frenchText   = "Le gouvernement a présenté mercredi un projet de loi très attendu sur l'été, les congés et la sécurité des élèves. Les députés débattront du texte à l'Assemblée nationale dès la semaine prochaine, a précisé la ministre, qui espère une adoption rapide malgré les réserves exprimées par l'opposition."
)

// encode turns UTF-8 text into the named legacy charset.
func encode(t *testing.T, name, s string) []byte {
	t.Helper()
	enc, _ := charset.Lookup(name)
	if enc == nil {
		t.Fatalf("no encoding %q", name)
	}
	b, _, err := transform.Bytes(enc.NewEncoder(), []byte(s))
	if err != nil {
		t.Fatalf("encode %s: %v", name, err)
	}
	return b
}

func page(head string, body []byte) []byte {
	return append(append([]byte("<!doctype html><html><head>"+head+"<title>t</title></head><body><article><p>"), body...), "</p></article></body></html>"...)
}

func TestDecodeHTML(t *testing.T) {
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantText    string // must appear in the output
		wantCharset string
		wantSource  string
	}{
		{"undeclared cp1251 is detected, not read as windows-1252", page("", encode(t, "windows-1251", russianText)), "text/html", russianText, "windows-1251", CharsetDetected},
		{"cp1251 declared as UTF-8 over HTTP is detected", page("", encode(t, "windows-1251", russianText)), "text/html; charset=utf-8", russianText, "windows-1251", CharsetDetected},
		{"cp1251 declared as UTF-8 in meta is detected", page(`<meta charset="utf-8">`, encode(t, "windows-1251", russianText)), "text/html", russianText, "windows-1251", CharsetDetected},
		{"cp1251 declared as iso-8859-1 (implausible) is detected", page(`<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">`, encode(t, "windows-1251", russianText)), "", russianText, "windows-1251", CharsetDetected},
		{"cp1251 declared as cp1251", page(`<meta charset="windows-1251">`, encode(t, "windows-1251", russianText)), "", russianText, "windows-1251", CharsetMeta},
		{"KOI8-R declared over HTTP", page("", encode(t, "koi8-r", russianText)), "text/html; charset=KOI8-R", russianText, "koi8-r", CharsetHTTP},
		{"UTF-8 bytes under meta shift_jis stay UTF-8", page(`<meta charset=shift_jis>`, []byte(japaneseText)), "text/html", japaneseText, "utf-8", CharsetBytes},
		{"UTF-8 bytes under HTTP windows-1252 stay UTF-8", page("", []byte(frenchText)), "text/html; charset=windows-1252", frenchText, "utf-8", CharsetBytes},
		{"real Shift_JIS under meta shift_jis", page(`<meta charset="Shift_JIS">`, encode(t, "shift_jis", japaneseText)), "", japaneseText, "shift_jis", CharsetMeta},
		{"undeclared Shift_JIS is detected", page("", encode(t, "shift_jis", japaneseText)), "", japaneseText, "shift_jis", CharsetDetected},
		{"undeclared EUC-JP is detected", page("", encode(t, "euc-jp", japaneseText)), "", japaneseText, "euc-jp", CharsetDetected},
		{"Latin-1 declared as iso-8859-1", page(`<meta charset="iso-8859-1">`, encode(t, "windows-1252", frenchText)), "", frenchText, "windows-1252", CharsetMeta},
		{"Latin-1 declared as cp1251 (implausible) is detected", page(`<meta charset="windows-1251">`, encode(t, "windows-1252", frenchText)), "", frenchText, "windows-1252", CharsetDetected},
		{"undeclared Latin-1", page("", encode(t, "windows-1252", frenchText)), "", frenchText, "windows-1252", CharsetDetected},
		{"UTF-8 truncated mid-character", []byte(frenchText + "é")[:len(frenchText)+1], "", frenchText, "utf-8", CharsetBytes},
		{"UTF-8 with a few stray Latin-1 bytes", append([]byte(frenchText+frenchText), 0xe9, ' ', 0xe8), "text/html; charset=utf-8", frenchText, "utf-8", CharsetHTTP},
		{"UTF-16LE with a BOM", append([]byte{0xff, 0xfe}, encode(t, "utf-16le", "<p>"+frenchText+"</p>")...), "", frenchText, "utf-16le", CharsetBOM},
		{"UTF-8 BOM is stripped", append([]byte{0xef, 0xbb, 0xbf}, frenchText...), "text/html; charset=iso-8859-1", frenchText, "utf-8", CharsetBOM},
		{"ASCII with a declaration", []byte("<meta charset=windows-1251><p>plain ascii</p>"), "", "plain ascii", "windows-1251", CharsetMeta},
		{"ASCII undeclared", []byte("<p>plain ascii</p>"), "", "plain ascii", "utf-8", CharsetBytes},
		{"unknown declared label", page(`<meta charset="x-unheard-of">`, []byte(frenchText)), "", frenchText, "utf-8", CharsetBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, d := DecodeHTML(tt.body, tt.contentType)
			if !utf8.Valid(out) {
				t.Fatalf("output is not valid UTF-8")
			}
			if !bytes.Contains(out, []byte(tt.wantText)) {
				t.Errorf("text not recovered: %.200q", out)
			}
			if d.Charset != tt.wantCharset || d.Source != tt.wantSource {
				t.Errorf("decoding = %+v, want charset %q source %q", d, tt.wantCharset, tt.wantSource)
			}
		})
	}
}

func TestPlausible(t *testing.T) {
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"ascii", "plain text", true},
		{"french", frenchText, true},
		{"russian", russianText, true},
		{"japanese", japaneseText, true},
		{"german", "Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für Elektroautos zu kürzen. Bürger äußerten Kritik über die Maßnahmen.", true},
		{"polish", "Prezydent podpisał ustawę o zmianie przepisów. Rząd zapowiedział, że źródła finansowania będą jasne, a żółć opozycji nie zmieni decyzji.", true},
		{"cp1251 read as windows-1252", string(decodeAs(t, "windows-1252", encode(t, "windows-1251", russianText))), false},
		{"latin-1 read as cp1251", string(decodeAs(t, "windows-1251", encode(t, "windows-1252", frenchText))), false},
		{"latin-1 read as shift_jis", string(decodeAs(t, "shift_jis", encode(t, "windows-1252", frenchText))), false},
		{"C1 controls", strings.Repeat("caf\u0089 ", 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plausible([]byte(tt.text)); got != tt.want {
				t.Errorf("plausible(%.80q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func decodeAs(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	enc, _ := charset.Lookup(name)
	return decodeWith(enc, b)
}

// FuzzDecodeHTML: any bytes and content type decode to valid UTF-8 without panicking.
func FuzzDecodeHTML(f *testing.F) {
	f.Add([]byte("<meta charset=shift_jis><p>日本語</p>"), "text/html")
	f.Add([]byte{0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x20, 0xec, 0xe8, 0xf0}, "text/html; charset=utf-8")
	f.Add([]byte{0xff, 0xfe, '<', 0, 'p', 0}, "")
	f.Add([]byte{0, 0, 0xfe, 0xff, 0, 0, 0, 'a'}, "")
	f.Add([]byte("\x1b$B$3$s\x1b(B"), "text/html; charset=iso-2022-jp")
	f.Add([]byte("<meta charset=\"utf-16\">\xe9t\xe9"), "")
	f.Fuzz(func(t *testing.T, b []byte, ct string) {
		out, d := DecodeHTML(b, ct)
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 out of %+v", d)
		}
		if d.Charset == "" || d.Source == "" {
			t.Fatalf("decoding not described: %+v", d)
		}
	})
}
