package keywords

import (
	"strings"
	"testing"
)

const climate = `The European Union agreed on Tuesday to cut carbon emissions by 55 percent by 2030.
Carbon emissions from power plants and heavy industry will be priced through an expanded carbon market.
Environmental groups said the carbon market reform was a step forward, but warned that emissions from
transport and buildings were still rising. The carbon market has pushed up power prices across Europe.`

func TestExtract(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		opt     Options
		wantAny []string // at least one of these in the top 5
		notIn   []string
	}{
		{"english topic terms", climate, Options{Lang: "en"}, []string{"carbon market", "carbon emissions", "carbon"}, []string{"the", "said", "will"}},
		{"spanish stopwords", "El gobierno de España aprobó el presupuesto. El presupuesto incluye más gasto en sanidad y el gobierno defendió el presupuesto.",
			Options{Lang: "es"}, []string{"presupuesto"}, []string{"el", "de", "en"}},
		{"parenthetical credits skipped", "Troops moved near the border (PHOTO: JOHN DOE / REUTERS). Troops and tanks moved again near the border.",
			Options{Lang: "en"}, []string{"border", "troops"}, []string{"JOHN DOE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := Extract(tt.text, tt.opt)
			if len(ks) == 0 {
				t.Fatal("no keywords")
			}
			top := map[string]bool{}
			for i, k := range ks {
				if i < 5 {
					top[strings.ToLower(k.Term)] = true
				}
				if k.Score <= 0 || k.Score > 1 {
					t.Errorf("score %v out of (0,1]", k.Score)
				}
			}
			found := false
			for _, w := range tt.wantAny {
				found = found || top[strings.ToLower(w)]
			}
			if !found {
				t.Errorf("none of %v in top 5 %+v", tt.wantAny, ks)
			}
			for _, k := range ks {
				for _, n := range tt.notIn {
					if strings.EqualFold(k.Term, n) {
						t.Errorf("unwanted keyword %q", k.Term)
					}
				}
			}
		})
	}
	if ks := Extract("", Options{}); ks != nil {
		t.Errorf("empty text: %v", ks)
	}
}

func TestDocFreq(t *testing.T) {
	df := NewDocFreq(50, 3)
	if w := df.IDFWeight("the"); w != 1 {
		t.Fatalf("weight before warm-up = %v", w)
	}
	for i := 0; i < 10; i++ {
		df.Observe("the minister said the budget is the plan")
	}
	df.Observe("the volcano erupted")
	if common, rare := df.IDFWeight("the"), df.IDFWeight("volcano"); common >= rare {
		t.Errorf("common word weight %v >= rare word weight %v", common, rare)
	}
	for i := 0; i < 100; i++ { // overflow the bound: must stay bounded
		df.Observe(strings.Repeat("w", i+1) + " x" + strings.Repeat("y", i))
	}
	df.mu.RLock()
	n := len(df.df)
	df.mu.RUnlock()
	if n > 51 {
		t.Errorf("df holds %d terms, bound 50", n)
	}
}

func TestGuessLanguage(t *testing.T) {
	for text, want := range map[string]string{
		"the president said that the talks with the union would continue in the spring":                 "en",
		"el presidente dijo que las conversaciones con el sindicato continuarán en la primavera":        "es",
		"der Präsident sagte dass die Gespräche mit der Gewerkschaft im Frühjahr weitergehen und nicht": "de",
		"xq zv wq pl mn rt": "",
	} {
		if got := GuessLanguage(strings.Fields(strings.ToLower(text))); got != want {
			t.Errorf("GuessLanguage(%q) = %q, want %q", text, got, want)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	text := strings.Repeat(climate+" ", 3)
	for b.Loop() {
		Extract(text, Options{Lang: "en"})
	}
}
