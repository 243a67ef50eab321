package fetch

import (
	"errors"
	"sync"
	"sync/atomic"
)

// parseMemo is the last parse of a feed that is draining a backlog (FeedState.Pending). Such a
// feed is polled again every backlogRepoll (100 ms) with a full GET, and the body is usually
// byte-identical each time (a server without validators, or Pending polls that send none):
// parsing it again would give the same *Parsed, so the poll reuses the last one. Only a feed
// whose next poll is that re-poll keeps a memo (not one left pending at its normal interval by
// failing items, nor a failing feed), so memory is bounded by the feeds draining a backlog
// right now, not all feeds.
type parseMemo struct {
	body, url, contentType string // the exact inputs of ParseFeed (the limits are the fetcher's)
	parsed                 *Parsed
	hash                   string // parsed.Hash()
	truncated              bool   // ParseFeed said ErrTooManyItems
}

// parseMemos holds the memos by source index.
type parseMemos struct {
	mu     sync.Mutex
	m      map[int]*parseMemo
	parses atomic.Int64 // ParseFeed calls made by polls (tests)
}

// parse returns ParseFeed(body, url, contentType, lim) for the poll of feed idx, from the
// feed's memo when the inputs are identical to the memo's. A memoized result is shared: the
// poll treats it as read-only (handleItems copies the items; sitemap indexes, whose items
// expandIndex appends to, are never memoized). hash is parsed.Hash() when err is nil.
func (pm *parseMemos) parse(idx int, body []byte, url, contentType string, lim ParseLimits) (parsed *Parsed, hash string, err error) {
	pm.mu.Lock()
	memo := pm.m[idx]
	pm.mu.Unlock()
	if memo != nil && memo.url == url && memo.contentType == contentType && memo.body == string(body) {
		if memo.truncated {
			return memo.parsed, memo.hash, ErrTooManyItems
		}
		return memo.parsed, memo.hash, nil
	}
	pm.parses.Add(1)
	parsed, err = ParseFeed(body, url, contentType, lim)
	if parsed != nil && (err == nil || errors.Is(err, ErrTooManyItems)) {
		hash = parsed.Hash()
	}
	return parsed, hash, err
}

// keep remembers (repoll: the feed is polled again for its backlog) or forgets the parse of
// feed idx after its poll.
func (pm *parseMemos) keep(idx int, repoll bool, body []byte, url, contentType string, parsed *Parsed, hash string, truncated bool) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if !repoll || parsed == nil || parsed.Format == "sitemapindex" {
		delete(pm.m, idx)
		return
	}
	if memo := pm.m[idx]; memo != nil && memo.parsed == parsed {
		return // reused: already the memo
	}
	if pm.m == nil {
		pm.m = map[int]*parseMemo{}
	}
	pm.m[idx] = &parseMemo{body: string(body), url: url, contentType: contentType, parsed: parsed, hash: hash, truncated: truncated}
}

// forget drops the memo of feed idx.
func (pm *parseMemos) forget(idx int) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	delete(pm.m, idx)
}
