package fetch

// HeadCanonicals returns the canonical URLs a page declares in its head, <link rel=canonical>
// first, then og:url (at most the first 512 KiB are scanned). With article.ChooseCanonical it
// gives the article ID the fetcher publishes a page under; importers of archived pages
// (pkg/warcimport) use it to give the same pages the same IDs.
func HeadCanonicals(b []byte) []string { return headCanonicals(b) }
