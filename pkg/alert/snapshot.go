package alert

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"go.uber.org/zap"
)

// snapshotVersion 2 added Outbox; version-1 snapshots (no outbox) are still restored.
const (
	snapshotVersion   = 2
	snapshotVersionV1 = 1
)

// outboxSnap is one alert produced but not yet published, in production order.
type outboxSnap struct {
	ID   string
	Data []byte
}

type termSnap struct {
	Key, Kind, Display      string
	Ring                    []uint16
	Head, Created, LastSeen int64
	Level                   float64
	Total                   uint32
	Fresh                   bool
	ES                      []esState
	// Prof and Disp are the term's own seasonal profile and dispersion/calibration model
	// (nil for light terms; absent in older snapshots, which then start them afresh).
	Prof *termProfile
	Disp *dispersion
}

type snapshot struct {
	Version   int
	Bucket    time.Duration
	Started   bool
	First     int64
	Open      int64
	MaxB      int64
	MaxEvent  time.Time
	Season    seasonal
	Totals    [ringBuckets]float64
	Terms     []termSnap
	Episodes  []episode
	ESRules   []string
	ESFilled  []bool
	Bloom     []uint64
	DedupCur  []uint64
	DedupPrev []uint64
	DedupGen  int64
	Fired     map[string]int64
	Outbox    []outboxSnap
	// DispG is the all-terms dispersion and calibration model (the prior of young terms).
	DispG dispersion
	// Seq is the number of delta log records applied to this state (0 without a delta log):
	// a replay applies only the log's records after it.
	Seq uint64
}

// Snapshot writes the alerter's state (per-term baselines and recent buckets, seasonal
// profile, open episodes and cooldowns, es_spike windows, the expired-term filter, the
// cluster dedup memory, fired alert ids and the alerts not yet published) to w as gob. It holds the detection lock while
// copying (tens of milliseconds per 100,000 terms) and encodes outside it; call it from a
// timer and on shutdown.
func (a *Alerter) Snapshot(w io.Writer) error {
	return encodeSnapshot(w, a.snapshotLocked())
}

// encodeSnapshot writes s to w as gob.
func encodeSnapshot(w io.Writer, s *snapshot) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := gob.NewEncoder(bw).Encode(s); err != nil {
		return fmt.Errorf("alert: snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("alert: snapshot: %w", err)
	}
	return nil
}

// snapshotLocked copies the state under the lock; encoding happens outside it.
func (a *Alerter) snapshotLocked() *snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.copyStateLocked()
}

// snapshotTake copies the state and takes the delta log's record buffer (installing spare) in
// one critical section, so the snapshot covers exactly the records taken and those before.
func (a *Alerter) snapshotTake(spare []byte) (*snapshot, []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.copyStateLocked(), a.takeJournalLocked(spare)
}

// copyStateLocked copies the state into a snapshot. Called with mu held.
func (a *Alerter) copyStateLocked() *snapshot {
	d := a.det
	s := snapshot{Version: snapshotVersion, Bucket: d.cfg.Bucket, Started: d.started, First: d.first,
		Open: d.open, MaxB: d.maxB, MaxEvent: a.maxEvent, Season: d.season, Totals: d.totals,
		ESFilled: append([]bool(nil), d.esFilled...), Bloom: append([]uint64(nil), d.expired.Bits...),
		DedupGen: a.dedupGen, Fired: make(map[string]int64, len(a.fired)), Seq: a.jseq, DispG: d.dispG}
	for k, v := range a.fired {
		s.Fired[k] = v
	}
	for _, r := range d.es {
		s.ESRules = append(s.ESRules, r.ID)
	}
	s.Terms = make([]termSnap, 0, len(d.terms))
	for k, st := range d.terms {
		s.Terms = append(s.Terms, termSnap{Key: k, Kind: st.kind, Display: st.display, Ring: append([]uint16(nil), st.ring[:]...),
			Head: st.head, Created: st.created, LastSeen: st.lastSeen, Level: st.level, Total: st.total,
			Fresh: st.fresh, ES: append([]esState(nil), st.es...), Prof: st.prof.clone(), Disp: st.disp.clone()})
	}
	for _, ep := range d.episodes {
		s.Episodes = append(s.Episodes, *ep)
	}
	for h := range a.dedupCur {
		s.DedupCur = append(s.DedupCur, h)
	}
	for h := range a.dedupPrev {
		s.DedupPrev = append(s.DedupPrev, h)
	}
	s.Outbox = a.outboxLocked()
	return &s
}

// outboxLocked lists the unsent alerts in production order. Called with mu held; the data
// slices are never mutated after enqueue, so they are shared, not copied.
func (a *Alerter) outboxLocked() []outboxSnap {
	if len(a.unsent) == 0 {
		return nil
	}
	ids := make([]string, 0, len(a.unsent))
	for id := range a.unsent {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return a.unsent[ids[i]].seq < a.unsent[ids[j]].seq })
	out := make([]outboxSnap, len(ids))
	for i, id := range ids {
		out[i] = outboxSnap{ID: id, Data: a.unsent[id].data}
	}
	return out
}

// Restore replaces the alerter's state with a snapshot written by Snapshot (this version or
// version 1). Rules are kept (the current ones); es_spike windows are restored only for rules
// with the same ids. After a restore, alerts that already fired are not fired again, and the
// alerts the snapshot holds as unpublished are queued for publishing again (same ids, so
// JetStream drops a copy already stored within its duplicate window). On error the state is
// unchanged.
func (a *Alerter) Restore(r io.Reader) error {
	var s snapshot
	if err := gob.NewDecoder(bufio.NewReader(r)).Decode(&s); err != nil {
		return fmt.Errorf("alert: restore: decode: %w", err)
	}
	if s.Version != snapshotVersion && s.Version != snapshotVersionV1 {
		return fmt.Errorf("alert: restore: snapshot version %d, want %d or %d", s.Version, snapshotVersionV1, snapshotVersion)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.det
	if s.Bucket != d.cfg.Bucket {
		return fmt.Errorf("alert: restore: snapshot bucket %s differs from configured %s", s.Bucket, d.cfg.Bucket)
	}
	if len(s.Bloom) != len(d.expired.Bits) {
		return fmt.Errorf("alert: restore: snapshot bloom size %d differs from configured %d words", len(s.Bloom), len(d.expired.Bits))
	}
	sameES := len(s.ESRules) == len(d.es)
	for i := 0; sameES && i < len(d.es); i++ {
		sameES = s.ESRules[i] == d.es[i].ID
	}
	terms := make(map[string]*termState, len(s.Terms))
	for _, t := range s.Terms {
		if len(t.Ring) != ringBuckets {
			return fmt.Errorf("alert: restore: term %q: ring of %d buckets, want %d", t.Key, len(t.Ring), ringBuckets)
		}
		st := &termState{kind: t.Kind, display: t.Display, hash: termHash(t.Key), head: t.Head,
			created: t.Created, lastSeen: t.LastSeen, level: t.Level, total: t.Total, fresh: t.Fresh, thrB: -1,
			prof: t.Prof.sane(), disp: t.Disp.sane()}
		copy(st.ring[:], t.Ring)
		if sameES && len(t.ES) == len(d.es) {
			st.es = t.ES
		}
		terms[t.Key] = st
	}
	eps := make(map[string]*episode, len(s.Episodes))
	for i := range s.Episodes {
		ep := s.Episodes[i]
		if d.ruleByID(ep.RuleID) == nil {
			continue
		}
		eps[epKey(ep.RuleID, ep.TermKey)] = &ep
		if st := terms[ep.TermKey]; st != nil {
			st.open++
		}
	}
	d.started, d.first, d.open, d.maxB = s.Started, s.First, s.Open, s.MaxB
	d.season, d.totals, d.terms, d.episodes = s.Season, s.Totals, terms, eps
	d.dispG = *s.DispG.sane()
	d.sfMemo = [2]sfEntry{}
	copy(d.expired.Bits, s.Bloom)
	if sameES && len(s.ESFilled) == len(d.es) {
		d.esFilled = s.ESFilled
	} else {
		d.esFilled = make([]bool, len(d.es))
	}
	d.gen++
	a.maxEvent = s.MaxEvent
	a.dedupGen = s.DedupGen
	a.dedupCur = make(map[uint64]struct{}, len(s.DedupCur))
	for _, h := range s.DedupCur {
		a.dedupCur[h] = struct{}{}
	}
	a.dedupPrev = make(map[uint64]struct{}, len(s.DedupPrev))
	for _, h := range s.DedupPrev {
		a.dedupPrev[h] = struct{}{}
	}
	a.jseq = s.Seq
	a.fired = s.Fired
	if a.fired == nil {
		a.fired = map[string]int64{}
	}
	a.restoreOutboxLocked(s.Outbox)
	return nil
}

// restoreOutboxLocked replaces the durable outbox with the snapshot's and queues its alerts
// (not after Close: they then stay in the outbox for the next snapshot; not during a delta log
// replay: endReplay queues what the replay leaves unsettled). Called with mu held.
func (a *Alerter) restoreOutboxLocked(out []outboxSnap) {
	a.unsent = make(map[string]unsentAlert, len(out))
	if a.pub == nil {
		return
	}
	for _, o := range out {
		a.sentSeq++
		a.unsent[o.ID] = unsentAlert{seq: a.sentSeq, data: o.Data}
		if !a.closed && !a.replaying && !a.offerLocked(outgoing{id: o.ID, data: o.Data}) {
			a.log.Warn("alert: outbox full, restored alert not published", zap.String("id", o.ID))
		}
	}
	if len(out) > 0 {
		a.log.Info("alert: restored unpublished alerts", zap.Int("alerts", len(out)))
	}
}

// SnapshotFile writes a snapshot to path atomically and durably (temp file in the same
// directory, fsync, rename, fsync of the directory), so a crash mid-write never leaves a torn
// snapshot.
func (a *Alerter) SnapshotFile(path string) error {
	if _, err := writeFileAtomic(filepath.Dir(path), filepath.Base(path), a.Snapshot); err != nil {
		return fmt.Errorf("alert: snapshot file: %w", err)
	}
	return nil
}

// RestoreFile restores from a snapshot file written by SnapshotFile. A missing file is not an
// error (first start): it returns false, nil.
func (a *Alerter) RestoreFile(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("alert: restore file: %w", err)
	}
	defer f.Close()
	if err := a.Restore(f); err != nil {
		return false, err
	}
	return true, nil
}
