package index

import (
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// DefaultArchiveAfter is Config.ArchiveAfter's default: an article published more than 31
// days before it was fetched (a feed's back catalogue, a sitemap backfill) is filed by year.
const DefaultArchiveAfter = 31 * 24 * time.Hour

// ArchiveIndex is the yearly index "<prefix>-articles-YYYY" for articles that were already
// old when fetched. It matches the articles template, so it is behind the same alias.
func (n Names) ArchiveIndex(t time.Time) string { return n.p() + "-articles-" + t.UTC().Format("2006") }

// archived reports whether e is filed in a yearly archive index: it has a published date
// more than archiveAfter before its fetch time (archiveAfter <= 0: never). The decision
// depends only on the document, so a redelivery lands in the same index; a later re-fetch
// can move an article from "recent" to "archived" (never back), which Indexer.Handler
// catches by looking the article up first (see existingIndex).
func archived(e *article.Enriched, archiveAfter time.Duration) bool {
	if archiveAfter <= 0 || undated(e) || e.FetchedAt.IsZero() {
		return false
	}
	return e.FetchedAt.Sub(*e.PublishedAt) > archiveAfter
}

// articleIndex is the index an article is written to: monthly by DocTime, or the yearly
// archive index of its publication year when it was fetched long after publication (so a
// feed with years of old items does not create a monthly index for each of its months).
func (n Names) articleIndex(e *article.Enriched, archiveAfter time.Duration) string {
	if archived(e, archiveAfter) {
		return n.ArchiveIndex(*e.PublishedAt)
	}
	return n.ArticleIndex(DocTime(e))
}
