package alerteval

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/article"
)

// RealStep is the bucket width of the real series (counts per 5 minutes).
const RealStep = 5 * time.Minute

// tickerNames maps the NAB realTweets tickers to the company (the ORG term) they count.
var tickerNames = map[string]string{
	"AMZN": "Amazon", "FB": "Facebook", "CRM": "Salesforce", "PFE": "Pfizer", "GOOG": "Google",
	"AAPL": "Apple", "IBM": "IBM", "KO": "Coca-Cola", "CVS": "CVS", "UPS": "UPS",
}

// Series is one real mention-count series with its labelled bursts.
type Series struct {
	Name    string      // file name relative to the data dir, e.g. realTweets/Twitter_volume_AMZN.csv
	Term    string      // the ORG term it counts, e.g. Amazon
	Times   []time.Time // bucket starts (UTC), ascending
	Counts  []int
	Labels  []time.Time    // labelled anomaly points
	Windows [][2]time.Time // labelled windows [start, end] (inclusive, on bucket starts)
}

// Days is the series' length in days.
func (s *Series) Days() float64 {
	if len(s.Times) == 0 {
		return 0
	}
	return s.Times[len(s.Times)-1].Add(RealStep).Sub(s.Times[0]).Hours() / 24
}

const realTimeLayout = "2006-01-02 15:04:05"

func parseRealTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	return time.ParseInLocation(realTimeLayout, s, time.UTC)
}

// LoadReal reads the alert dev set laid out as in ../shared/eval/alerts: labels.json,
// windows.json and the CSV series they name. Every series named in labels.json must exist.
func LoadReal(dir string) ([]*Series, error) {
	var labels map[string][]string
	var windows map[string][][2]string
	for name, dst := range map[string]any{"labels.json": &labels, "windows.json": &windows} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("alerteval: real data: %w", err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("alerteval: real data %s: %w", name, err)
		}
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*Series
	for _, n := range names {
		s, err := loadSeries(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		s.Name = n
		for _, l := range labels[n] {
			t, err := parseRealTime(l)
			if err != nil {
				return nil, fmt.Errorf("alerteval: %s label %q: %w", n, l, err)
			}
			s.Labels = append(s.Labels, t)
		}
		for _, w := range windows[n] {
			a, err1 := parseRealTime(w[0])
			b, err2 := parseRealTime(w[1])
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("alerteval: %s window %v: %w", n, w, err)
			}
			s.Windows = append(s.Windows, [2]time.Time{a, b})
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("alerteval: real data %s: no series in labels.json", dir)
	}
	return out, nil
}

func loadSeries(path string) (*Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("alerteval: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	s := &Series{}
	base := strings.TrimSuffix(filepath.Base(path), ".csv")
	ticker := base[strings.LastIndexByte(base, '_')+1:]
	s.Term = tickerNames[ticker]
	if s.Term == "" {
		s.Term = ticker
	}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("alerteval: %s: %w", path, err)
		}
		if line == 1 && rec[0] == "timestamp" {
			continue
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("alerteval: %s line %d: want timestamp,value", path, line)
		}
		t, err := parseRealTime(rec[0])
		if err != nil {
			return nil, fmt.Errorf("alerteval: %s line %d: %w", path, line, err)
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil || v < 0 || v > 1e7 {
			return nil, fmt.Errorf("alerteval: %s line %d: bad count %q", path, line, rec[1])
		}
		if n := len(s.Times); n > 0 && !t.After(s.Times[n-1]) {
			return nil, fmt.Errorf("alerteval: %s line %d: timestamps not ascending", path, line)
		}
		s.Times = append(s.Times, t)
		s.Counts = append(s.Counts, int(math.Round(v)))
	}
	if len(s.Times) == 0 {
		return nil, fmt.Errorf("alerteval: %s: no rows", path)
	}
	return s, nil
}

// Firings is what a detector reported on one series: the event times of the alerts that
// opened an episode, the number of alert messages a webhook received (newsflow: through the
// alerter's ThrottledNotifier with its shipped defaults), and the number of alert messages of
// every status the detector emitted (what newsflow's alerts index receives).
type Firings struct {
	Opened   []time.Time
	Reasons  []string // per opened episode, the alert's reason (for -v)
	Messages int
	Emitted  int
}

// countingNotifier counts the alerts it is given.
type countingNotifier struct{ n *int }

func (c countingNotifier) Name() string                                 { return "count" }
func (c countingNotifier) Notify(context.Context, *article.Alert) error { *c.n++; return nil }

// realEvent is one single-entity article of the replay: series index and event time.
type realEvent struct {
	t  int64
	si int32
	k  int32
}

// ReplayReal turns each bucket's count into that many single-entity articles (ORG term, one
// distinct story each) spread evenly over its 5 minutes, feeds all series interleaved in event
// time to one Alerter built from cfg and rules, and returns, per series, the alerts that
// opened an episode (status firing), the count of alert messages a webhook receives and the
// count of every alert message emitted.
func ReplayReal(series []*Series, cfg alert.Config, rules []alert.Rule) ([]Firings, error) {
	var evs []realEvent
	for si, s := range series {
		for i, t := range s.Times {
			c := s.Counts[i]
			for k := 0; k < c; k++ {
				off := (time.Duration(k)*RealStep + RealStep/2) / time.Duration(c)
				evs = append(evs, realEvent{t: t.Add(off).UnixNano(), si: int32(si), k: int32(k)})
			}
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
	out := make([]Firings, len(series))
	bySeries := map[string]int{}
	for i, s := range series {
		bySeries[s.Term] = i
	}
	hooks := make([]*alert.ThrottledNotifier, len(series))
	for i := range hooks {
		hooks[i] = &alert.ThrottledNotifier{Next: countingNotifier{&out[i].Messages},
			UpdateEvery: alert.DefaultNotifyUpdateEvery, UpdateGrowth: alert.DefaultNotifyUpdateGrowth}
	}
	cfg.OnAlert = func(a *article.Alert) {
		si, ok := bySeries[a.Term]
		if !ok {
			return
		}
		out[si].Emitted++
		_ = hooks[si].Notify(context.Background(), a) // counts what passes: never fails
		if a.Status == alert.StatusFiring {
			out[si].Opened = append(out[si].Opened, a.FiredAt)
			out[si].Reasons = append(out[si].Reasons, a.RuleID+": "+a.Reason)
		}
	}
	a, err := alert.New(cfg, rules, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	ctx := context.Background()
	var e article.Enriched
	ents := make([]article.Entity, 1)
	for n, ev := range evs {
		s := series[ev.si]
		t := time.Unix(0, ev.t).UTC()
		id := strconv.Itoa(n)
		ents[0] = article.Entity{Type: "ORG", Name: s.Term, Normalized: strings.ToLower(s.Term), Mentions: 1}
		e = article.Enriched{Entities: ents}
		e.FetchedAt = t
		e.PublishedAt = &t
		e.URL = "https://twitter.example/" + id
		e.CanonicalURL = e.URL
		e.Title = s.Term + " post " + id
		e.Source = article.Source{Name: "twitter", Domain: "twitter.example"}
		e.Language = "en"
		if err := a.Observe(ctx, &e); err != nil {
			return nil, err
		}
	}
	if len(evs) > 0 {
		a.Tick(time.Unix(0, evs[len(evs)-1].t).Add(time.Hour))
	}
	return out, nil
}

// ESSpikeSeries applies ElastAlert2's SpikeRule to one series fed as per-term counts, one
// data point per 5-minute bucket (elastalert/ruletypes.py handle_event/find_matches/
// clear_windows, with query_key = the term and alert_on_new_data off): the current window is
// the last timeframe of points, the reference the timeframe before; no alert until the key's
// first point is two timeframes old; a match clears the reference window and forgets the
// first point, so the next check is two timeframes later. It returns the opening time of each
// match (the end of the bucket that completed it: when ElastAlert2 would send it).
func ESSpikeSeries(s *Series, timeframe time.Duration, height float64, thresholdCur, thresholdRef int) Firings {
	var f Firings
	first := 0
	refFloor := 0
	for i := range s.Times {
		t := s.Times[i]
		if t.Sub(s.Times[first]) < 2*timeframe {
			continue
		}
		cur, ref := 0, 0
		for j := i; j >= refFloor && j >= 0; j-- {
			age := t.Sub(s.Times[j])
			switch {
			case age < timeframe:
				cur += s.Counts[j]
			case age < 2*timeframe:
				ref += s.Counts[j]
			}
			if age >= 2*timeframe {
				break
			}
		}
		if cur < thresholdCur || ref < thresholdRef || float64(cur) < float64(ref)*height {
			continue
		}
		f.Opened = append(f.Opened, t.Add(RealStep))
		f.Messages++
		f.Emitted++
		// clear_windows: the reference window is emptied (the current one keeps its points,
		// which age into the reference), and the next point becomes the key's first event.
		refFloor = i + 1 - int(timeframe/RealStep)
		first = min(i+1, len(s.Times)-1)
		if i+1 >= len(s.Times) {
			break
		}
	}
	return f
}
