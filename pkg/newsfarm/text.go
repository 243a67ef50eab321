package newsfarm

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// lexicon is the vocabulary of one language: sentence templates with slots and the words
// that fill them. Slots: {P} person, {O} organisation, {C} city, {T} topic, {N} number,
// {D} weekday, {Q} a quoted remark.
type lexicon struct {
	templates []string
	headlines []string
	topics    []string
	days      []string
	quotes    []string
	said      string // how a byline/date line is introduced ("By")
	comments  []string
	nav       []string
}

var people = []string{
	"Maria Keller", "Pieter de Vries", "Dana Brooks", "Kevin Tran", "Sarah Lin", "Lars Nielsen", "Emma Clarke",
	"Jonas Becker", "Anna Huber", "Carlos Ortega", "Lucía Romero", "Jean Dupont", "Claire Moreau", "Ahmed Nasser",
	"Priya Raman", "Tom Hughes", "Olga Petrova", "Kenji Watanabe", "Fatima Diallo", "Marco Rossi", "Sofia Lindqvist",
	"David Okafor", "Helena Novak", "Rafael Duarte", "Ingrid Berg", "Samuel Mensah", "Laura Schmidt", "Miguel Torres",
	"Elena Vasquez", "Paul Lemaire", "Hannah Fischer", "Yusuf Demir", "Grace Kim", "Isabel Costa", "Victor Hugo Lima",
	"Nina Johansson", "Omar Haddad", "Chloé Martin", "Felix Wagner", "Amara Obi",
}

var orgs = []string{
	"the European Commission", "the World Health Organization", "Siemens", "the Bank of England", "Airbus",
	"the United Nations", "Deutsche Bahn", "Nestlé", "the International Monetary Fund", "Volkswagen", "Telefónica",
	"the Red Cross", "Shell", "Maersk", "the African Union", "Renault", "Philips", "the OECD", "Iberdrola",
	"the World Bank", "Ericsson", "Unilever", "Greenpeace", "NATO", "the Federal Reserve", "Toyota", "Samsung",
	"Amnesty International", "Lufthansa", "BASF",
}

var cities = []string{
	"Berlin", "Madrid", "Paris", "London", "Rome", "Lisbon", "Vienna", "Warsaw", "Brussels", "Amsterdam", "Copenhagen",
	"Stockholm", "Oslo", "Helsinki", "Dublin", "Athens", "Prague", "Budapest", "Barcelona", "Munich", "Hamburg", "Lyon",
	"Marseille", "Milan", "Naples", "Seville", "Valencia", "Porto", "Geneva", "Zurich", "Nairobi", "Lagos", "Cairo",
	"Tokyo", "Seoul", "Mumbai", "Toronto", "Chicago", "Buenos Aires", "Mexico City",
}

var lexicons = map[string]*lexicon{
	"en": {
		said: "By",
		templates: []string{
			"{P} said on {D} that {O} would review its plans for {T} in {C} before the end of the year.",
			"Officials in {C} confirmed that {N} people had been affected by the changes to {T}.",
			"\"{Q},\" {P} told reporters in {C} after a meeting with {O}.",
			"The decision by {O} follows months of debate about {T} across the region.",
			"Critics, including {P}, argued that the plan for {T} ignored the concerns of residents in {C}.",
			"According to figures released by {O} on {D}, spending on {T} rose by {N} percent.",
			"{P}, who has studied {T} for years, warned that the effects could last well into next year.",
			"Talks between {O} and local leaders in {C} are expected to resume on {D}.",
			"Analysts said the move by {O} could reshape {T} in {C} and beyond.",
			"Residents of {C} gathered on {D} to protest against cuts to {T}, police said.",
			"{O} has promised to publish a full report on {T} within {N} weeks.",
			"In a statement, {O} said it remained committed to {T} despite rising costs in {C}.",
			"The last time {C} faced such pressure on {T} was more than {N} years ago, historians note.",
			"{P} is due to travel to {C} on {D} for further talks with {O}.",
		},
		headlines: []string{"{O} rethinks {T} as pressure grows in {C}", "{C} braces for changes to {T}", "{P} calls for action on {T}",
			"New figures on {T} worry officials in {C}", "{O} and {C} agree deal on {T}", "Protests in {C} over {T}"},
		topics:   []string{"public transport", "housing", "energy prices", "school funding", "water supply", "the budget", "health care", "climate policy", "tourism", "farming subsidies", "digital services", "road safety", "pensions", "migration", "air quality", "the port expansion", "youth unemployment", "broadband", "flood defences", "the night train network"},
		days:     []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
		quotes:   []string{"We cannot wait any longer", "This is a good day for everyone", "The numbers speak for themselves", "We were not consulted", "There is still a lot of work to do", "Nobody expected it to happen so fast"},
		comments: []string{"Great reporting, thank you.", "I live there and this is exactly right.", "Who is paying for all of this?", "Finally someone says it.", "This article misses the real problem."},
		nav:      []string{"Home", "World", "Business", "Politics", "Sport", "Culture", "Opinion", "Subscribe"},
	},
	"de": {
		said: "Von",
		templates: []string{
			"{P} sagte am {D}, {O} werde die Pläne für {T} in {C} bis zum Jahresende prüfen.",
			"Behörden in {C} bestätigten, dass {N} Menschen von den Änderungen bei {T} betroffen sind.",
			"„{Q}“, sagte {P} nach einem Treffen mit {O} in {C}.",
			"Die Entscheidung von {O} folgt auf monatelange Diskussionen über {T} in der Region.",
			"Kritiker wie {P} bemängeln, dass der Plan für {T} die Sorgen der Bewohner von {C} übergehe.",
			"Nach Zahlen, die {O} am {D} veröffentlichte, stiegen die Ausgaben für {T} um {N} Prozent.",
			"{P} beschäftigt sich seit Jahren mit {T} und warnt vor langfristigen Folgen.",
			"Die Gespräche zwischen {O} und der Stadt {C} sollen am {D} fortgesetzt werden.",
			"Fachleute erwarten, dass der Schritt von {O} die Lage bei {T} in {C} verändert.",
			"In {C} demonstrierten am {D} zahlreiche Menschen gegen Kürzungen bei {T}.",
			"{O} will innerhalb von {N} Wochen einen Bericht zu {T} vorlegen.",
			"{P} reist am {D} nach {C}, um mit Vertretern von {O} zu sprechen.",
		},
		headlines: []string{"{O} überdenkt {T}", "{C} streitet über {T}", "{P} fordert Tempo bei {T}", "Neue Zahlen zu {T} beunruhigen {C}", "Einigung zu {T} in {C}"},
		topics:    []string{"den Nahverkehr", "den Wohnungsbau", "die Energiepreise", "die Schulen", "die Wasserversorgung", "den Haushalt", "die Krankenhäuser", "den Klimaschutz", "den Tourismus", "die Landwirtschaft", "die Digitalisierung", "die Renten", "den Hochwasserschutz", "die Bahnstrecke"},
		days:      []string{"Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"},
		quotes:    []string{"Wir können nicht länger warten", "Das ist ein guter Tag für alle", "Die Zahlen sprechen für sich", "Wir wurden nicht gefragt", "Es bleibt viel zu tun"},
		comments:  []string{"Danke für den Bericht.", "Ich wohne dort, genau so ist es.", "Wer soll das bezahlen?", "Endlich sagt es jemand."},
		nav:       []string{"Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Meinung", "Abo"},
	},
	"es": {
		said: "Por",
		templates: []string{
			"{P} afirmó el {D} que {O} revisará sus planes sobre {T} en {C} antes de fin de año.",
			"Las autoridades de {C} confirmaron que {N} personas se han visto afectadas por los cambios en {T}.",
			"«{Q}», dijo {P} tras reunirse con {O} en {C}.",
			"La decisión de {O} llega después de meses de debate sobre {T} en toda la región.",
			"Críticos como {P} sostienen que el plan para {T} ignora las preocupaciones de los vecinos de {C}.",
			"Según datos publicados por {O} el {D}, el gasto en {T} creció un {N} por ciento.",
			"{P}, que estudia {T} desde hace años, advirtió de que los efectos podrían durar meses.",
			"Las conversaciones entre {O} y las autoridades de {C} se reanudarán el {D}.",
			"Los analistas creen que la medida de {O} podría transformar {T} en {C}.",
			"Cientos de vecinos de {C} se manifestaron el {D} contra los recortes en {T}.",
			"{O} se comprometió a publicar un informe sobre {T} en un plazo de {N} semanas.",
			"{P} viajará a {C} el {D} para continuar las negociaciones con {O}.",
		},
		headlines: []string{"{O} replantea {T}", "{C} se prepara para cambios en {T}", "{P} pide medidas sobre {T}", "Nuevas cifras sobre {T} preocupan en {C}", "Acuerdo sobre {T} en {C}"},
		topics:    []string{"el transporte público", "la vivienda", "los precios de la energía", "la educación", "el suministro de agua", "el presupuesto", "la sanidad", "la política climática", "el turismo", "la agricultura", "las pensiones", "la seguridad vial"},
		days:      []string{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
		quotes:    []string{"No podemos esperar más", "Es un buen día para todos", "Las cifras hablan por sí solas", "Nadie nos consultó", "Queda mucho trabajo por hacer"},
		comments:  []string{"Gracias por la información.", "Vivo allí y es exactamente así.", "¿Quién va a pagar todo esto?", "Por fin alguien lo dice."},
		nav:       []string{"Portada", "Internacional", "Economía", "Política", "Deportes", "Cultura", "Opinión"},
	},
	"fr": {
		said: "Par",
		templates: []string{
			"{P} a déclaré {D} que {O} réexaminerait ses projets concernant {T} à {C} avant la fin de l'année.",
			"Les autorités de {C} ont confirmé que {N} personnes étaient concernées par les changements touchant {T}.",
			"« {Q} », a déclaré {P} après une réunion avec {O} à {C}.",
			"La décision de {O} fait suite à des mois de débat sur {T} dans toute la région.",
			"Des critiques, dont {P}, estiment que le projet sur {T} ignore les inquiétudes des habitants de {C}.",
			"Selon les chiffres publiés {D} par {O}, les dépenses consacrées à {T} ont augmenté de {N} pour cent.",
			"{P}, qui étudie {T} depuis des années, prévient que les effets pourraient durer.",
			"Les discussions entre {O} et les élus de {C} doivent reprendre {D}.",
			"Selon les analystes, la décision de {O} pourrait transformer {T} à {C}.",
			"Des habitants de {C} ont manifesté {D} contre les coupes dans {T}.",
			"{O} s'est engagé à publier un rapport sur {T} d'ici {N} semaines.",
			"{P} se rendra à {C} {D} pour poursuivre les discussions avec {O}.",
		},
		headlines: []string{"{O} revoit {T}", "{C} se prépare à des changements pour {T}", "{P} réclame des mesures sur {T}", "De nouveaux chiffres sur {T} inquiètent {C}", "Accord sur {T} à {C}"},
		topics:    []string{"les transports publics", "le logement", "les prix de l'énergie", "l'école", "l'eau potable", "le budget", "l'hôpital", "la politique climatique", "le tourisme", "l'agriculture", "les retraites", "la sécurité routière"},
		days:      []string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
		quotes:    []string{"Nous ne pouvons plus attendre", "C'est une bonne journée pour tous", "Les chiffres parlent d'eux-mêmes", "Personne ne nous a consultés", "Il reste beaucoup à faire"},
		comments:  []string{"Merci pour cet article.", "J'habite là-bas, c'est exactement ça.", "Qui va payer tout cela ?", "Enfin quelqu'un le dit."},
		nav:       []string{"Accueil", "International", "Économie", "Politique", "Sport", "Culture", "Opinions"},
	},
}

// story is the generated text of one story, before a site wraps it in its template.
type story struct {
	Lang     string
	Title    string
	Author   string
	Paras    []string
	Topic    string
	Comments []string
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// fill replaces the slots of a template.
func fill(r *rand.Rand, lx *lexicon, tpl, topic, city, org, person string) string {
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		if tpl[i] == '{' && i+2 < len(tpl) && tpl[i+2] == '}' {
			switch tpl[i+1] {
			case 'P':
				if r.IntN(2) == 0 {
					b.WriteString(person)
				} else {
					b.WriteString(pick(r, people))
				}
			case 'O':
				if r.IntN(2) == 0 {
					b.WriteString(org)
				} else {
					b.WriteString(pick(r, orgs))
				}
			case 'C':
				if r.IntN(3) > 0 {
					b.WriteString(city)
				} else {
					b.WriteString(pick(r, cities))
				}
			case 'T':
				b.WriteString(topic)
			case 'N':
				fmt.Fprintf(&b, "%d", 2+r.IntN(900))
			case 'D':
				b.WriteString(pick(r, lx.days))
			case 'Q':
				b.WriteString(pick(r, lx.quotes))
			}
			i += 2
			continue
		}
		b.WriteByte(tpl[i])
	}
	return b.String()
}

// capitalize upper-cases the first letter (headlines may start with "the ...").
func capitalize(s string) string {
	for i, c := range s {
		return strings.ToUpper(string(c)) + s[i+len(string(c)):]
	}
	return s
}

// genStory writes a story in lang from r. burst, when set, is a term the story is about (it
// goes into the headline and the first paragraph).
func genStory(r *rand.Rand, lang, burst string) story {
	lx := lexicons[lang]
	topic, city, org, person := pick(r, lx.topics), pick(r, cities), pick(r, orgs), pick(r, people)
	st := story{Lang: lang, Topic: topic, Author: pick(r, people)}
	st.Title = capitalize(fill(r, lx, pick(r, lx.headlines), topic, city, org, person))
	nParas := 4 + r.IntN(6)
	for p := 0; p < nParas; p++ {
		nSent := 2 + r.IntN(3)
		sents := make([]string, 0, nSent)
		for s := 0; s < nSent; s++ {
			sents = append(sents, capitalize(fill(r, lx, pick(r, lx.templates), topic, city, org, person)))
		}
		st.Paras = append(st.Paras, strings.Join(sents, " "))
	}
	if burst != "" {
		st.Title = burst + ": " + st.Title
		st.Paras[0] = burst + ". " + st.Paras[0]
	}
	for c := r.IntN(4); c > 0; c-- {
		st.Comments = append(st.Comments, pick(r, lx.comments))
	}
	return st
}
