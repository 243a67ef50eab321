package demo

// story is one article written for the demo corpus. Paragraphs are plain text; sites wrap
// them in their own templates (with boilerplate the cleaner must remove).
type story struct {
	Slug     string
	Lang     string
	Title    string
	Author   string
	Paras    []string
	AgeHours float64 // how long before "now" it was published
	Wire     string  // "AFP", "Reuters", "EFE" for wire copy reprinted by several sites
	Burst    bool    // part of the breaking-news burst
}

var stories = []story{
	{Slug: "central-bank-holds-rates", Lang: "en", Title: "European Central Bank holds rates as inflation cools", Author: "Maria Keller", AgeHours: 70, Paras: []string{
		"The European Central Bank kept its main interest rate unchanged on Thursday, saying inflation in the euro area was cooling faster than expected.",
		"ECB President Christine Lagarde told reporters in Frankfurt that the governing council wanted more evidence before cutting rates. \"We are not there yet,\" Lagarde said.",
		"Economists at Deutsche Bank and BNP Paribas had expected the decision. Markets in Paris and Milan rose slightly after the announcement.",
		"The bank will publish new staff projections in March, when analysts expect the first cut of the year."}},
	{Slug: "port-strike-ends", Lang: "en", Title: "Dock workers end week-long strike at the Port of Rotterdam", Author: "Pieter de Vries", AgeHours: 64, Paras: []string{
		"Dock workers at the Port of Rotterdam returned to work on Monday after unions and employers agreed on a new wage deal.",
		"The strike had left more than 200 container ships waiting off the Dutch coast, according to the port authority.",
		"\"This agreement protects jobs and pay for the next three years,\" said Anja Visser, a spokeswoman for the FNV union.",
		"Shipping companies including Maersk warned that delays would take weeks to clear."}},
	{Slug: "wildfire-california", Lang: "en", Title: "Firefighters contain wildfire north of Los Angeles", Author: "Dana Brooks", AgeHours: 58, Paras: []string{
		"Firefighters said on Sunday they had contained most of a wildfire that burned 4,000 acres north of Los Angeles.",
		"Governor Gavin Newsom visited an evacuation center in Santa Clarita and promised state aid to families who lost their homes.",
		"The National Weather Service warned that dry winds could return later in the week.",
		"Officials said the cause of the fire was under investigation."}},
	{Slug: "chip-plant-arizona", Lang: "en", Title: "Chipmaker opens new factory in Arizona", Author: "Kevin Tran", AgeHours: 52, Paras: []string{
		"Taiwan Semiconductor Manufacturing Company opened its first factory in Phoenix, Arizona, on Tuesday, a milestone for the American chip industry.",
		"Commerce Secretary Gina Raimondo attended the ceremony and said the plant would create 2,000 jobs.",
		"Analysts at Morgan Stanley said the factory would not reach full production until next year.",
		"The company has also announced plants in Japan and Germany."}},
	{Slug: "marathon-record", Lang: "en", Title: "Kenyan runner breaks course record at Berlin Marathon", Author: "Tom Hughes", AgeHours: 47, Paras: []string{
		"Kenyan runner Eliud Kipchoge won the Berlin Marathon on Sunday in a course record time, beating a strong field in cool weather.",
		"\"The crowd carried me through the last ten kilometres,\" Kipchoge said after the race.",
		"Ethiopia's Tigst Assefa won the women's race. Organisers said 45,000 runners from 150 countries took part."}},
	{Slug: "climate-talks", Lang: "en", Title: "Climate talks in Bonn end without deal on finance", Author: "Sarah Lin", AgeHours: 40, Paras: []string{
		"Negotiators from nearly 200 countries ended two weeks of climate talks in Bonn on Friday without agreeing how to fund poorer nations.",
		"United Nations climate chief Simon Stiell urged governments to return in November with concrete offers.",
		"Delegates from Brazil and India criticised rich countries, while the European Union said it had made a fair proposal.",
		"Environmental groups including Greenpeace called the outcome disappointing."}},
	{Slug: "rail-link-opens", Lang: "en", Title: "New rail tunnel links Denmark and Germany", Author: "Lars Nielsen", AgeHours: 33, Paras: []string{
		"Construction crews finished boring the Fehmarnbelt tunnel between Denmark and Germany on Wednesday, officials in Copenhagen said.",
		"The tunnel will cut travel time between Copenhagen and Hamburg to two and a half hours when trains start running.",
		"Danish transport minister Thomas Danielsen called the project \"a new bridge between Scandinavia and the rest of Europe.\""}},
	{Slug: "hospital-strike-uk", Lang: "en", Title: "Junior doctors in England announce new strike dates", Author: "Emma Clarke", AgeHours: 26, Paras: []string{
		"Junior doctors in England will strike for five days next month, the British Medical Association said on Monday.",
		"Health Secretary Wes Streeting said the government's offer was fair and urged doctors to put it to a vote.",
		"NHS England warned that thousands of operations could be postponed."}},
	{Slug: "bundestag-haushalt", Lang: "de", Title: "Bundestag beschließt Haushalt nach langer Debatte", Author: "Jonas Becker", AgeHours: 60, Paras: []string{
		"Der Bundestag hat am Freitag nach einer langen Debatte den Haushalt für das kommende Jahr beschlossen.",
		"Finanzminister Christian Lindner sagte in Berlin, der Haushalt halte die Schuldenbremse ein und stärke die Investitionen.",
		"Die Opposition kritisierte die Kürzungen bei der Bahn und beim Klimaschutz. Der Bundesrat muss dem Gesetz noch zustimmen."}},
	{Slug: "hochwasser-bayern", Lang: "de", Title: "Hochwasser in Bayern: Pegel sinken langsam", Author: "Anna Huber", AgeHours: 36, Paras: []string{
		"Nach tagelangem Regen sinken die Pegel an der Donau in Bayern langsam wieder.",
		"Ministerpräsident Markus Söder besuchte am Sonntag betroffene Gemeinden bei Regensburg und versprach schnelle Hilfe.",
		"Die Feuerwehr war mit mehr als tausend Einsatzkräften im Einsatz. Der Deutsche Wetterdienst erwartet für die kommenden Tage trockeneres Wetter."}},
	{Slug: "elecciones-madrid", Lang: "es", Title: "El Gobierno presenta un plan de vivienda en Madrid", Author: "Lucía Martín", AgeHours: 44, Paras: []string{
		"El Gobierno de España presentó el martes en Madrid un plan para construir 180.000 viviendas de alquiler asequible.",
		"El presidente Pedro Sánchez afirmó que el plan ayudará a los jóvenes a emanciparse antes.",
		"Las comunidades autónomas deberán aportar suelo público. La oposición calificó la medida de insuficiente."}},
	{Slug: "sequia-andalucia", Lang: "es", Title: "La sequía obliga a restringir el agua en Andalucía", Author: "Javier Ortega", AgeHours: 30, Paras: []string{
		"Varios municipios de Andalucía aplicarán restricciones de agua a partir del lunes por la sequía.",
		"La Junta de Andalucía pidió a los vecinos reducir el consumo y anunció nuevas desaladoras en Málaga y Almería.",
		"Los agricultores de la región advierten de pérdidas importantes en la cosecha de aceituna."}},
	{Slug: "wire-satellite-launch", Lang: "en", Wire: "AFP", Title: "India launches weather satellite from Sriharikota", Author: "AFP", AgeHours: 20, Paras: []string{
		"India launched a new weather satellite on Saturday from the Satish Dhawan Space Centre in Sriharikota, the Indian Space Research Organisation said.",
		"The satellite will improve monsoon forecasts for farmers across South Asia, ISRO chairman S. Somanath told reporters.",
		"Prime Minister Narendra Modi congratulated the scientists in a message on social media.",
		"(with information from AFP)"}},
	{Slug: "wire-copper-prices", Lang: "en", Wire: "Reuters", Title: "Copper prices hit two-year high on supply worries", Author: "Reuters", AgeHours: 15, Paras: []string{
		"Copper prices rose to their highest level in two years on Wednesday as strikes at mines in Chile and Peru raised fears of tight supply.",
		"Benchmark copper on the London Metal Exchange climbed 2.1 percent, traders said.",
		"Demand from China, the world's biggest consumer of the metal, has also picked up, according to analysts at Goldman Sachs."}},
	{Slug: "wire-cafe-colombia", Lang: "es", Wire: "EFE", Title: "Colombia espera una cosecha récord de café", Author: "EFE", AgeHours: 12, Paras: []string{
		"La Federación Nacional de Cafeteros de Colombia prevé una cosecha récord de café este año gracias a las lluvias.",
		"El gerente de la federación, Germán Bahamón, dijo en Bogotá que la producción superará los 13 millones de sacos.",
		"(con información de EFE)"}},
}

// burst is the breaking story that makes an alert fire: many articles about the same event
// within minutes, with terms never seen before in the corpus.
var burstLeads = []string{
	"A volcano on the Reykjanes peninsula in Iceland erupted on Tuesday evening, sending lava fountains into the sky near the town of Grindavik.",
	"Authorities in Iceland evacuated Grindavik as the Reykjanes volcano eruption intensified overnight.",
	"Lava from the Reykjanes eruption reached defensive walls built to protect Grindavik and the Svartsengi power plant.",
	"Flights at Keflavik airport continued despite the Reykjanes eruption, Isavia said.",
	"Scientists at the Icelandic Meteorological Office said the Reykjanes eruption was the strongest on the peninsula in years.",
	"The Blue Lagoon spa near Grindavik closed as the Reykjanes volcano erupted again.",
	"Iceland's prime minister said the government would support residents of Grindavik after the Reykjanes eruption.",
	"Seismologists recorded hundreds of earthquakes before the Reykjanes eruption began near Grindavik.",
	"Residents of Grindavik watched the Reykjanes eruption from Reykjavik, about 50 kilometres away.",
	"The Icelandic Meteorological Office warned of toxic gas from the Reykjanes eruption drifting towards Grindavik.",
	"Emergency services in Iceland said nobody was hurt in the Reykjanes eruption near Grindavik.",
	"Tourists gathered on hills to photograph the Reykjanes eruption despite police warnings in Grindavik.",
}

var burstBody = []string{
	"The Icelandic Meteorological Office said the fissure was about three kilometres long and that the eruption could last for weeks.",
	"Civil protection chief Vidir Reynisson told state broadcaster RUV that the evacuation of Grindavik had gone smoothly.",
	"Iceland has about 30 active volcanic systems. The Reykjanes peninsula had been quiet for eight centuries before 2021.",
}
