package clean

import (
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// dateCandidates are the raw date strings found on a page.
type dateCandidates struct {
	jsonld, jsonldMod string
	meta, metaMod     string
	timeTags          []string
	trafDate          time.Time
	pageURL           string
	canonicals        []string
}

// earliestSane is the earliest publication date the cleaner believes (before the web news era
// dates are almost always template or parsing accidents).
var earliestSane = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)

// maxFeedDisagreement: when page metadata and the feed disagree by more than this and the URL
// does not back the page's date, the feed wins (page dates that far off are usually template
// dates, "last updated" stamps or a wrong zone guess).
const maxFeedDisagreement = 48 * time.Hour

func sane(t time.Time, fetched time.Time) bool {
	if t.IsZero() || t.Before(earliestSane) {
		return false
	}
	ref := fetched
	if ref.IsZero() {
		ref = time.Now()
	}
	return !t.After(ref.Add(24 * time.Hour))
}

// chooseDates picks the publication and modification dates and names the source that won:
//
//  1. page metadata: JSON-LD datePublished ("jsonld"), then meta tags ("meta");
//  2. the feed's published date ("feed"; its text parsed here, multilingual and loose
//     forms included, when the fetcher's feed parser could not read it) — it wins over page metadata when both exist and
//     disagree by more than 48 h, unless the URL's /yyyy/mm/dd/ agrees with the page;
//  3. a /yyyy/mm/dd/ date in the URL or canonical URL ("url");
//  4. <time datetime> or trafilatura's metadata date ("text");
//  5. the fetch time ("fetched").
//
// Every candidate must be sane: not before 1995 and not more than 24 h after the fetch; an
// impossible date is skipped, never chosen. Page and text dates are parsed strictly first,
// then by go-dateparser (multilingual, loose) when they carry a four-digit year.
// Dates without a zone are read as UTC. The modified date is kept only when it is not
// before the published date.
func chooseDates(raw *article.Raw, ex *extraction) (pub, mod *time.Time, source string) {
	d := ex.dates
	fetched := raw.FetchedAt
	pick := func(s string) (time.Time, bool) {
		t, ok := parseLooseDate(s, fetched)
		return t, ok && sane(t, fetched)
	}
	var page time.Time
	var pageSrc string
	if t, ok := pick(d.jsonld); ok {
		page, pageSrc = t, "jsonld"
	} else if t, ok := pick(d.meta); ok {
		page, pageSrc = t, "meta"
	}
	var feed time.Time
	if raw.Feed != nil && raw.Feed.Published != nil && sane(*raw.Feed.Published, fetched) {
		feed = *raw.Feed.Published
	} else if raw.Feed != nil && raw.Feed.Published == nil {
		// The fetcher's feed parser could not read the item's date: parse its text here.
		if t, ok := pick(raw.Feed.PublishedText); ok {
			feed = t
		} else if t, ok := pick(raw.Feed.UpdatedText); ok && raw.Feed.Updated == nil {
			feed = t
		}
	}
	var urlT time.Time
	for _, u := range append([]string{d.pageURL, raw.URL}, d.canonicals...) {
		if t, ok := urlDate(u); ok && sane(t, fetched) {
			urlT = t
			break
		}
	}
	var chosen time.Time
	switch {
	case !page.IsZero() && !feed.IsZero():
		diff := page.Sub(feed)
		if diff < 0 {
			diff = -diff
		}
		urlBacksPage := !urlT.IsZero() && absDur(page.Sub(urlT)) < 36*time.Hour
		if diff <= maxFeedDisagreement || urlBacksPage {
			chosen, source = page, pageSrc
		} else {
			chosen, source = feed, "feed"
		}
	case !page.IsZero():
		chosen, source = page, pageSrc
	case !feed.IsZero():
		chosen, source = feed, "feed"
	case !urlT.IsZero():
		chosen, source = urlT, "url"
	default:
		for _, s := range d.timeTags {
			if t, ok := pick(s); ok {
				chosen, source = t, "text"
				break
			}
		}
		if chosen.IsZero() && sane(d.trafDate, fetched) {
			chosen, source = d.trafDate, "text"
		}
		if chosen.IsZero() && !fetched.IsZero() {
			chosen, source = fetched, "fetched"
		}
	}
	if chosen.IsZero() {
		return nil, nil, ""
	}
	pub = &chosen
	var m time.Time
	if t, ok := pick(d.jsonldMod); ok {
		m = t
	} else if t, ok := pick(d.metaMod); ok {
		m = t
	} else if raw.Feed != nil && raw.Feed.Updated != nil && sane(*raw.Feed.Updated, fetched) {
		m = *raw.Feed.Updated
	} else if t, ok := pick(feedUpdatedText(raw)); ok {
		m = t
	}
	if !m.IsZero() && !m.Before(chosen) {
		mod = &m
	}
	return pub, mod, source
}

func feedUpdatedText(raw *article.Raw) string {
	if raw.Feed == nil || raw.Feed.Updated != nil {
		return ""
	}
	return raw.Feed.UpdatedText
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
