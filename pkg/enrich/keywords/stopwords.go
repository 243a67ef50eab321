package keywords

import "strings"

// stopwords per ISO 639-1 language: function words plus reporting verbs and other words that
// make poor keywords in news text.
var stopwords = map[string]map[string]bool{}

func init() {
	lists := map[string]string{
		"en": `a about above after again against ago all almost also although always am among an and another any anyone
			anything are aren't around as at away back be became because become been before being below between both
			but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each either else
			even ever every few first for from further get gets got had hadn't has hasn't have haven't having he he'd
			he'll he's her here here's hers herself him himself his how however i i'd i'll i'm i've if in into is isn't
			it it's its itself just last least less let's like made make many may me might more most much must my
			myself near never new next no nor not now of off often on once one only or other others our ours
			ourselves out over own part per put rather really said same say says see seen several shall she she'd
			she'll she's should shouldn't since so some still such than that that's the their theirs them themselves
			then there there's these they they'd they'll they're they've this those though through thus to today
			together too two under until up upon us very was wasn't we we'd we'll we're we've well were weren't
			what what's when when's where where's whether which while who who's whom whose why why's will with
			within without won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
			told added according asked announced reported stated confirmed noted explained including around time
			year years day days week weeks month months monday tuesday wednesday thursday friday saturday sunday
			mr mrs ms dr also read image photo video see leave reply comment comments share email top back
			tomorrow yesterday tonight s t don going go goes went come comes came take takes took`,
		"es": `a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el ella
			ellas ellos en entre era es esa ese eso esta estaba estado estas este esto estos fue fueron ha han hasta
			hay la las le les lo los más me mi mucho muy nada ni no nos o otra otro para pero poco por porque que
			quien se sea según ser si sin sino sobre su sus también tanto te tiene todo todos tras tu un una uno
			unos y ya dijo afirmó`,
		"fr": `à au aux avec ce ces cette comme dans de des du elle elles en est et eux il ils je la le les leur
			leurs lui mais me même mes moi mon ne nos notre nous on ont ou où par pas pour qu que qui sa se ses son
			sont sur ta te tes toi ton tu un une vos votre vous été être avait avoir fait plus selon a déclaré dit`,
		"de": `aber als am an auch auf aus bei bin bis da damit dann das dass dem den der des die dies diese dieser
			doch dort du durch ein eine einem einen einer eines er es für hat hatte ich ihr im in ist ja jetzt kann
			kein mit nach nicht noch nur ob oder sein sich sie sind so über um und uns von vor war wie wir wird zu
			zum zur sagte laut`,
		"it": `a ad al alla alle anche che chi ci come con da dal dalla degli dei del della delle di e ed gli ha
			hanno i il in la le lo ma mi ne nel nella non o per più quando questo se si sono su sua sue suo tra un
			una uno è detto secondo`,
		"pt": `a ao aos as até com como da das de dela dele do dos e ela ele eles em entre era essa esse esta este
			eu foi foram há isso já lhe mais mas me muito na nas não no nos o os ou para pela pelo por que quem se
			sem seu sua são também tem um uma à disse segundo`,
		"nl": `aan al als bij dan dat de der die dit door een en er had heb heeft het hij hun ik in is je kan maar
			me met mijn naar niet nog nu of om ons ook op over te tegen toen tot u uit van veel voor was wat we
			werd wij zal ze zei zich zij zijn`,
	}
	for lang, l := range lists {
		m := map[string]bool{}
		for _, w := range strings.Fields(l) {
			m[w] = true
		}
		stopwords[lang] = m
	}
}

// IsStopword reports whether w (lower case) is a stopword of lang; unknown languages use the
// English list.
func IsStopword(lang, w string) bool {
	if m, ok := stopwords[lang]; ok {
		return m[w] || lang != "en" && stopwords["en"][w] && len(w) <= 2
	}
	return stopwords["en"][w]
}

// Languages lists the languages with stopword lists.
func Languages() []string { return []string{"de", "en", "es", "fr", "it", "nl", "pt"} }

// GuessLanguage returns the language whose stopwords cover the most of the first 400 words of
// text, or "" when fewer than 8% of words are stopwords of any language (no confident guess).
func GuessLanguage(words []string) string {
	if len(words) > 400 {
		words = words[:400]
	}
	if len(words) < 5 {
		return ""
	}
	best, bestN := "", 0
	for _, lang := range Languages() {
		n := 0
		for _, w := range words {
			if stopwords[lang][w] {
				n++
			}
		}
		if n > bestN {
			best, bestN = lang, n
		}
	}
	if float64(bestN) < 0.08*float64(len(words)) {
		return ""
	}
	return best
}
