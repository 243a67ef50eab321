package clean

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"unicode/utf8"
)

// TemplateConfig configures a TemplateLearner.
type TemplateConfig struct {
	// MaxSites bounds how many sites are tracked (least recently seen sites are dropped).
	MaxSites int `yaml:"max_sites"`
	// MaxBlocksPerSite bounds the block counters kept per site (lowest counts are evicted).
	MaxBlocksPerSite int `yaml:"max_blocks_per_site"`
	// MinArticles is how many distinct recent articles of a site must contain a block before
	// it counts as template.
	MinArticles float64 `yaml:"min_articles"`
	// MinShare is the fraction of the site's recent articles that must contain the block.
	MinShare float64 `yaml:"min_share"`
	// HalfLife: every HalfLife articles of a site, all its counts halve (recent articles weigh
	// more; blocks that stop appearing fade out).
	HalfLife int `yaml:"half_life"`
	// MaxBlockChars: longer blocks are never treated as template (protects long background
	// paragraphs an outlet repeats across a running story).
	MaxBlockChars int `yaml:"max_block_chars"`
	// RecentIDs is how many recent article IDs per site are remembered so that redeliveries
	// are not counted twice.
	RecentIDs int `yaml:"recent_ids"`
}

// DefaultTemplateConfig returns the defaults: 2,000 sites × 2,048 blocks (≈ 2.5 MB worst case).
func DefaultTemplateConfig() TemplateConfig {
	return TemplateConfig{MaxSites: 2000, MaxBlocksPerSite: 2048, MinArticles: 4, MinShare: 0.25,
		HalfLife: 200, MaxBlockChars: 400, RecentIDs: 32}
}

// Validate checks the configuration.
func (c TemplateConfig) Validate() error {
	switch {
	case c.MaxSites <= 0, c.MaxBlocksPerSite <= 0:
		return errors.New("template: max_sites and max_blocks_per_site must be > 0")
	case c.MinArticles < 2:
		return errors.New("template: min_articles must be >= 2")
	case c.MinShare <= 0 || c.MinShare > 1:
		return errors.New("template: min_share must be in (0,1]")
	case c.HalfLife < 1, c.MaxBlockChars < 1, c.RecentIDs < 0:
		return errors.New("template: half_life, max_block_chars must be > 0 and recent_ids >= 0")
	}
	return nil
}

// TemplateLearner learns each site's template: normalised paragraphs that recur across many
// recent articles of the same site ("Follow us on…", newsletter boxes, fixed author blurbs,
// legal lines) are boilerplate whatever their wording. It streams (one Observe per article),
// uses bounded memory (per-site counters capped, sites in an LRU, counts decaying by halving)
// and its state survives restarts through Snapshot/Restore. Safe for concurrent use; calls
// never block on I/O, except ObserveMatch on a learner attached to a Replica (NewReplica),
// which goes through the log shared by all cleaner replicas so that they all learn the same
// templates.
type TemplateLearner struct {
	repl  *Replica // nil: local only
	cfg   TemplateConfig
	mu    sync.Mutex
	sites map[string]*list.Element // → *siteState
	lru   *list.List               // front = most recently used
}

type siteState struct {
	Site   string             `json:"site"`
	N      float64            `json:"n"`    // decayed article count
	Seen   int                `json:"seen"` // articles since the last halving
	Blocks map[uint64]float64 `json:"blocks"`
	Recent []string           `json:"recent,omitempty"`
}

// NewTemplateLearner returns an empty learner; cfg must be valid.
func NewTemplateLearner(cfg TemplateConfig) (*TemplateLearner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &TemplateLearner{cfg: cfg, sites: map[string]*list.Element{}, lru: list.New()}, nil
}

func blockHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// keys returns, for each block, the hash of its normalised form, or 0 for a block that is
// never template (empty or longer than MaxBlockChars).
func (t *TemplateLearner) keys(blocks []string) []uint64 {
	out := make([]uint64, len(blocks))
	for i, b := range blocks {
		if utf8.RuneCountInString(b) > t.cfg.MaxBlockChars {
			continue
		}
		if k := normLine(b); k != "" {
			out[i] = blockHash(k)
		}
	}
	return out
}

// Template reports, for each block, whether it is learned template for site (based on
// articles observed before this call).
func (t *TemplateLearner) Template(site string, blocks []string) []bool {
	if site == "" {
		return make([]bool, len(blocks))
	}
	keys := t.keys(blocks)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.match(site, keys)
}

// Observe counts the distinct blocks of one article of site. Repeated calls with the same
// articleID (redeliveries) among the site's recent IDs are ignored.
func (t *TemplateLearner) Observe(site, articleID string, blocks []string) {
	if site == "" {
		return
	}
	keys := t.keys(blocks)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observe(site, articleID, keys)
}

// ObserveMatch is Template then Observe as one step: which blocks are template for site by
// the articles before this one, then this one counted. Attached to a Replica it goes
// through the shared log (waiting for it; an error is transient), so the answer is the one
// every replica computes at the article's place in the log.
func (t *TemplateLearner) ObserveMatch(ctx context.Context, site, articleID string, blocks []string) ([]bool, error) {
	if site == "" {
		return make([]bool, len(blocks)), nil
	}
	keys := t.keys(blocks)
	if t.repl != nil {
		return t.repl.observeTemplate(ctx, templateRecord{Site: site, ID: articleID, Keys: keys})
	}
	return t.apply(site, articleID, keys, true), nil
}

// apply matches then observes keys under the lock; the match only when want.
func (t *TemplateLearner) apply(site, articleID string, keys []uint64, want bool) []bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []bool
	if want {
		out = t.match(site, keys)
	}
	t.observe(site, articleID, keys)
	return out
}

// match: caller holds mu.
func (t *TemplateLearner) match(site string, keys []uint64) []bool {
	out := make([]bool, len(keys))
	e, ok := t.sites[site]
	if !ok {
		return out
	}
	s := e.Value.(*siteState)
	need := t.cfg.MinArticles
	if v := t.cfg.MinShare * s.N; v > need {
		need = v
	}
	for i, k := range keys {
		if k == 0 {
			continue
		}
		if c := s.Blocks[k]; c >= need {
			out[i] = true
		}
	}
	return out
}

// observe: caller holds mu.
func (t *TemplateLearner) observe(site, articleID string, keys []uint64) {
	s := t.site(site)
	for _, id := range s.Recent {
		if id == articleID && id != "" {
			return
		}
	}
	if t.cfg.RecentIDs > 0 && articleID != "" {
		if len(s.Recent) >= t.cfg.RecentIDs {
			s.Recent = s.Recent[1:]
		}
		s.Recent = append(s.Recent, articleID)
	}
	seen := make(map[uint64]bool, len(keys))
	for _, h := range keys {
		if h == 0 || seen[h] {
			continue
		}
		seen[h] = true
		s.Blocks[h]++
	}
	s.N++
	s.Seen++
	if s.Seen >= t.cfg.HalfLife {
		s.Seen = 0
		s.N /= 2
		for h, c := range s.Blocks {
			if c/2 < 0.5 {
				delete(s.Blocks, h)
			} else {
				s.Blocks[h] = c / 2
			}
		}
	}
	if len(s.Blocks) > t.cfg.MaxBlocksPerSite {
		t.shrink(s)
	}
}

// shrink evicts the lowest-count quarter of a site's counters.
func (t *TemplateLearner) shrink(s *siteState) {
	type hc struct {
		h uint64
		c float64
	}
	all := make([]hc, 0, len(s.Blocks))
	for h, c := range s.Blocks {
		all = append(all, hc{h, c})
	}
	// Ties broken by hash: every replica applying the same log must evict the same counters.
	sort.Slice(all, func(i, j int) bool {
		if all[i].c != all[j].c {
			return all[i].c < all[j].c
		}
		return all[i].h < all[j].h
	})
	target := t.cfg.MaxBlocksPerSite * 3 / 4
	for _, x := range all[:len(all)-target] {
		delete(s.Blocks, x.h)
	}
}

// site returns (creating) the state for site and marks it recently used. Caller holds mu.
func (t *TemplateLearner) site(site string) *siteState {
	if e, ok := t.sites[site]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*siteState)
	}
	s := &siteState{Site: site, Blocks: map[uint64]float64{}}
	t.sites[site] = t.lru.PushFront(s)
	for t.lru.Len() > t.cfg.MaxSites {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.sites, old.Value.(*siteState).Site)
	}
	return s
}

// LearnedTemplates returns, per site, the sorted keys (hashes of normalised blocks) that
// count as template now: what two learners must share to remove the same blocks.
func (t *TemplateLearner) LearnedTemplates() map[string][]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string][]uint64{}
	for site, e := range t.sites {
		s := e.Value.(*siteState)
		need := max(t.cfg.MinArticles, t.cfg.MinShare*s.N)
		for h, c := range s.Blocks {
			if c >= need {
				out[site] = append(out[site], h)
			}
		}
		sort.Slice(out[site], func(i, j int) bool { return out[site][i] < out[site][j] })
	}
	return out
}

// clear forgets every site.
func (t *TemplateLearner) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sites = map[string]*list.Element{}
	t.lru = list.New()
}

type templateSnapshot struct {
	Version int          `json:"version"`
	Sites   []*siteState `json:"sites"` // least recently used first
}

// Snapshot serialises the learner's state (JSON) for a KV store. Safe to call concurrently
// with Observe; the snapshot is consistent.
func (t *TemplateLearner) Snapshot() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	snap := templateSnapshot{Version: 1}
	for e := t.lru.Back(); e != nil; e = e.Prev() {
		snap.Sites = append(snap.Sites, e.Value.(*siteState))
	}
	b, _ := json.Marshal(snap) // maps of numbers and strings cannot fail
	return b
}

// Restore replaces the learner's state with a Snapshot. Limits of the current config are
// applied (extra sites and counters are dropped).
func (t *TemplateLearner) Restore(b []byte) error {
	var snap templateSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("template: restore: %w", err)
	}
	if snap.Version != 1 {
		return fmt.Errorf("template: restore: unsupported snapshot version %d", snap.Version)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sites = map[string]*list.Element{}
	t.lru = list.New()
	for _, s := range snap.Sites {
		if s == nil || s.Site == "" {
			continue
		}
		if s.Blocks == nil {
			s.Blocks = map[uint64]float64{}
		}
		if old, ok := t.sites[s.Site]; ok {
			t.lru.Remove(old)
		}
		t.sites[s.Site] = t.lru.PushFront(s)
		if len(s.Blocks) > t.cfg.MaxBlocksPerSite {
			t.shrink(s)
		}
		for t.lru.Len() > t.cfg.MaxSites {
			old := t.lru.Back()
			t.lru.Remove(old)
			delete(t.sites, old.Value.(*siteState).Site)
		}
	}
	return nil
}
