package alert

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// The delta log makes checkpoints cheap: instead of writing the whole state, a checkpoint
// appends the records of what changed the state since the previous one (each observed
// article's terms, dedup hashes and top-article reference; each Tick's clock; each published
// alert) and fsyncs once for all of them. Recovery restores the last full snapshot and re-applies
// the records after it through the same code Observe and Tick use. Every CompactBytes or
// CompactInterval a full snapshot is written and the log starts afresh.
//
// Files, in DeltaLogConfig.Dir: <Name>.snap (gob snapshot; its Seq counts the records it
// covers) and <Name>.log: a 20-byte header (magic "NFAL", version, base seq: the snapshot seq
// its first record follows, CRC32C of the above) and frames [length u32][CRC32C(payload)
// u32][payload], little endian. Record n of a log with base b has seq b+n.

const (
	recObserve byte = 1 // observation: event time, flags, terms + pair hashes, article ref
	recTick    byte = 2 // Tick(now)
	recSettle  byte = 3 // an alert left the durable outbox (published or dropped)

	flagTitled = 1 // the observation carries a title pair hash per term

	logMagic      = "NFAL"
	logVersion    = 1
	logHeaderSize = 20
	frameHeader   = 8
	// maxRecord bounds a record's payload on decode: larger lengths are corruption (a record
	// is at most a few kilobytes; an article message is bounded by the bus well below this).
	maxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTruncated marks a frame cut short by the end of the log (a crash mid-write).
var errTruncated = errors.New("truncated record")

// appendFrameStart reserves a frame header at the end of b; appendFrameEnd fills it in.
func appendFrameStart(b []byte) ([]byte, int) {
	return append(b, make([]byte, frameHeader)...), len(b)
}

func appendFrameEnd(b []byte, start int) []byte {
	p := b[start+frameHeader:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(p, castagnoli))
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// journalObserveLocked appends o's record to the delta log buffer. Called with mu held.
func (a *Alerter) journalObserveLocked(o *observation) {
	if a.journaling {
		a.jbuf = appendObserveRecord(a.jbuf, o)
		a.jseq++
	}
}

// journalTickLocked appends a Tick record. Called with mu held.
func (a *Alerter) journalTickLocked(now int64) {
	if a.journaling {
		a.jbuf = appendTickRecord(a.jbuf, now)
		a.jseq++
	}
}

// journalSettleLocked appends a record saying alert id left the durable outbox. Called with mu
// held.
func (a *Alerter) journalSettleLocked(id string) {
	if a.journaling {
		a.jbuf = appendSettleRecord(a.jbuf, id)
		a.jseq++
	}
}

// appendObserveRecord appends o's framed record to b.
func appendObserveRecord(b []byte, o *observation) []byte {
	b, start := appendFrameStart(b)
	b = append(b, recObserve)
	b = binary.AppendVarint(b, o.at)
	var flags byte
	if o.titled {
		flags |= flagTitled
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(o.terms)))
	for _, t := range o.terms {
		b = appendString(appendString(appendString(b, t.Key), t.Kind), t.Display)
	}
	for _, h := range o.pairs {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	if len(o.terms) > 0 {
		b = appendString(appendString(appendString(appendString(b, o.ref.id), o.ref.title), o.ref.url), o.ref.source)
	}
	return appendFrameEnd(b, start)
}

// appendTickRecord appends a framed Tick record (now in unix ns) to b.
func appendTickRecord(b []byte, now int64) []byte {
	b, start := appendFrameStart(b)
	return appendFrameEnd(binary.AppendVarint(append(b, recTick), now), start)
}

// appendSettleRecord appends a framed settle record for alert id to b.
func appendSettleRecord(b []byte, id string) []byte {
	b, start := appendFrameStart(b)
	return appendFrameEnd(appendString(append(b, recSettle), id), start)
}

// takeJournalLocked returns the buffered records and installs spare (emptied) in their place.
// Called with mu held.
func (a *Alerter) takeJournalLocked(spare []byte) []byte {
	b := a.jbuf
	a.jbuf = spare[:0]
	return b
}

func (a *Alerter) takeJournal(spare []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.takeJournalLocked(spare)
}

// logRecord is one decoded delta log record.
type logRecord struct {
	kind byte
	obs  observation // recObserve
	now  int64       // recTick: unix ns
	id   string      // recSettle: alert id
}

// recReader reads a record payload; the first error sticks.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *recReader) byte1() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail("short record")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }
func (r *recReader) varint() int64   { return readVarint(r, binary.Varint) }

// readVarint reads one (u)varint with dec.
func readVarint[T uint64 | int64](r *recReader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) u64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail("short record")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *recReader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail("string of %d bytes overruns the record", n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// decodeRecord parses one record payload into rec, reusing rec.obs's slices. Strings are
// copied out of p. Any malformed payload (unknown type, overrun, trailing bytes) is an error.
func decodeRecord(p []byte, rec *logRecord) error {
	r := recReader{b: p}
	rec.kind = r.byte1()
	switch rec.kind {
	case recObserve:
		o := &rec.obs
		o.at = r.varint()
		flags := r.byte1()
		if flags&^flagTitled != 0 {
			r.fail("unknown flags %#x", flags)
		}
		o.titled = flags&flagTitled != 0
		n := r.uvarint()
		if n > uint64(len(r.b))/11 { // a term takes at least 3 length bytes and 8 hash bytes
			r.fail("%d terms overrun the record", n)
		}
		o.terms, o.pairs = o.terms[:0], o.pairs[:0]
		for i := uint64(0); i < n && r.err == nil; i++ {
			o.terms = append(o.terms, Term{Key: r.str(), Kind: r.str(), Display: r.str()})
		}
		per := uint64(1)
		if o.titled {
			per = 2
		}
		for i := uint64(0); i < n*per && r.err == nil; i++ {
			o.pairs = append(o.pairs, r.u64())
		}
		o.ref = articleRef{}
		if n > 0 {
			o.ref = articleRef{id: r.str(), title: r.str(), url: r.str(), source: r.str()}
		}
	case recTick:
		rec.now = r.varint()
	case recSettle:
		rec.id = r.str()
	default:
		r.fail("unknown record type %d", rec.kind)
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}

// readFrame reads one frame from r and returns its payload (reusing buf). io.EOF: the log ends
// cleanly here; errTruncated: the frame is cut short (a crash mid-write); any other error: the
// frame is corrupt (bad length or checksum).
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var h [frameHeader]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errTruncated
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n == 0 || n > maxRecord {
		return nil, fmt.Errorf("record length %d out of range 1..%d", n, maxRecord)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errTruncated
		}
		return nil, err
	}
	if got, want := crc32.Checksum(buf, castagnoli), binary.LittleEndian.Uint32(h[4:]); got != want {
		return nil, fmt.Errorf("checksum %08x, want %08x", got, want)
	}
	return buf, nil
}

func logHeader(base uint64) []byte {
	h := make([]byte, 0, logHeaderSize)
	h = append(h, logMagic...)
	h = binary.LittleEndian.AppendUint32(h, logVersion)
	h = binary.LittleEndian.AppendUint64(h, base)
	return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
}

// parseLogHeader returns the base seq of a log header.
func parseLogHeader(h []byte) (uint64, error) {
	if len(h) < logHeaderSize {
		return 0, fmt.Errorf("header of %d bytes, want %d", len(h), logHeaderSize)
	}
	if string(h[:4]) != logMagic {
		return 0, fmt.Errorf("bad magic %q", h[:4])
	}
	if crc32.Checksum(h[:16], castagnoli) != binary.LittleEndian.Uint32(h[16:20]) {
		return 0, errors.New("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(h[4:8]); v != logVersion {
		return 0, fmt.Errorf("log version %d, want %d", v, logVersion)
	}
	return binary.LittleEndian.Uint64(h[8:16]), nil
}

// DeltaLogConfig configures a DeltaLog. Zero fields take defaults (WithDefaults).
type DeltaLogConfig struct {
	// Dir holds the snapshot and the log (required).
	Dir string
	// Name is the files' stem: <Name>.snap and <Name>.log (default "alerter").
	Name string
	// CompactBytes: once the log is this large a full snapshot is written and the log starts
	// afresh (default 64 MiB: replaying that many bytes takes a few seconds).
	CompactBytes int64
	// CompactInterval: a log older than this is compacted once it holds at least
	// CompactBytes/64 (default 10m), which bounds the replay after a quiet period too.
	CompactInterval time.Duration
}

// WithDefaults fills zero fields.
func (c DeltaLogConfig) WithDefaults() DeltaLogConfig {
	if c.Name == "" {
		c.Name = "alerter"
	}
	if c.CompactBytes <= 0 {
		c.CompactBytes = 64 << 20
	}
	if c.CompactInterval <= 0 {
		c.CompactInterval = 10 * time.Minute
	}
	return c
}

// Validate reports a configuration error (call it after WithDefaults).
func (c DeltaLogConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("alert: delta log: dir is required"))
	}
	if c.CompactBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("alert: delta log: compact bytes %d: want >= 1 MiB", c.CompactBytes))
	}
	if c.CompactInterval < time.Second {
		errs = append(errs, fmt.Errorf("alert: delta log: compact interval %s: want >= 1s", c.CompactInterval))
	}
	return errors.Join(errs...)
}

// errDeltaLogClosed is returned by Commit after Close.
var errDeltaLogClosed = errors.New("alert: delta log closed")

// DeltaLog is the alerter's durable state on disk: the last full snapshot plus an append-only,
// fsynced log of the records applied since. OpenDeltaLog recovers the Alerter from it and
// attaches it; a Checkpointer (NewLogCheckpointer) then calls Commit and MaybeCompact. Its
// methods are not safe for concurrent use: the Checkpointer serialises them.
type DeltaLog struct {
	cfg DeltaLogConfig
	a   *Alerter
	log *zap.Logger
	m   *metrics // the Alerter's

	f         *os.File
	size      int64     // bytes in f
	opened    time.Time // when f was started
	retryAt   time.Time // no compaction attempt before (after a failure)
	broken    bool      // f is not known good: the next Commit compacts instead of appending
	closed    bool
	spare     []byte
	afterSync func() error // test hook: runs after each append's fsync
}

// ReplayStats describes what OpenDeltaLog recovered.
type ReplayStats struct {
	SnapshotSeq uint64 // records the restored snapshot covers (0: no snapshot)
	Replayed    int    // log records re-applied
	Skipped     int    // log records the snapshot already covered
	Dropped     string // why the log (or its tail) was not applied, "" if it was whole
}

// OpenDeltaLog restores a from cfg.Dir — the snapshot, then the log records after it, through
// the code Observe and Tick use — writes a fresh snapshot of the result, starts a new log and
// attaches it to a: from then on a buffers a record for every state change. Call it before a
// observes anything and before its publisher can settle alerts (right after New). Alerts the
// replay reproduces that were not published are queued again (same ids; notifiers are not
// called for them).
//
// Bad input never stops the start: a snapshot that does not decode is kept aside
// (<Name>.snap.bad-<unix>) and the alerter starts fresh; a truncated last record (a crash
// mid-write) is dropped; a corrupt record stops the replay there; a log whose base is not the
// restored snapshot (missing snapshot, or a gap) or that the snapshot already covers is not
// applied. Each case is logged with its reason and offset, and a log not applied whole is kept
// aside as <Name>.log.bad-<unix>. Unreadable files (I/O errors) are returned as errors.
func OpenDeltaLog(cfg DeltaLogConfig, a *Alerter, log *zap.Logger) (*DeltaLog, ReplayStats, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, ReplayStats{}, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, ReplayStats{}, fmt.Errorf("alert: delta log: %w", err)
	}
	d := &DeltaLog{cfg: cfg, a: a, log: log, m: a.m}
	if err := a.beginReplay(); err != nil {
		return nil, ReplayStats{}, err
	}
	st, err := d.recover()
	a.endReplay()
	if err != nil {
		a.detachJournal()
		return nil, st, err
	}
	if st.Dropped != "" {
		if kept, err := keepAside(d.path(".log")); err != nil {
			log.Error("alerter delta log not kept aside", zap.Error(err))
		} else if kept != "" {
			log.Warn("alerter delta log kept aside", zap.String("kept_as", kept))
		}
	}
	if _, err := d.compact(); err != nil {
		a.detachJournal()
		return nil, st, fmt.Errorf("alert: delta log: first snapshot: %w", err)
	}
	return d, st, nil
}

func (d *DeltaLog) path(ext string) string { return filepath.Join(d.cfg.Dir, d.cfg.Name+ext) }

// recover restores the snapshot and replays the log into d.a (in replay mode).
func (d *DeltaLog) recover() (ReplayStats, error) {
	var st ReplayStats
	snapPath := d.path(".snap")
	haveSnap, err := d.a.RestoreFile(snapPath)
	if err != nil {
		if !isDecodeError(err) {
			return st, err
		}
		kept, qerr := keepAside(snapPath)
		if qerr != nil {
			return st, fmt.Errorf("alert: delta log: restore %s: %v; %w", snapPath, err, qerr)
		}
		d.log.Error("alerter snapshot not restored, kept aside, starting fresh", zap.String("kept_as", kept), zap.Error(err))
	}
	st.SnapshotSeq = d.a.seqNow()
	if haveSnap {
		d.log.Info("alerter snapshot restored", zap.Uint64("seq", st.SnapshotSeq))
	}
	f, err := os.Open(d.path(".log"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("alert: delta log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	h := make([]byte, logHeaderSize)
	n, err := io.ReadFull(r, h)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("alert: delta log: %w", err)
	}
	base, herr := parseLogHeader(h[:n])
	switch {
	case herr != nil:
		st.Dropped = "header unreadable: " + herr.Error()
	case base > st.SnapshotSeq && !haveSnap:
		st.Dropped = fmt.Sprintf("log without its base snapshot (log base seq %d, no snapshot restored)", base)
	case base > st.SnapshotSeq:
		st.Dropped = fmt.Sprintf("log starts after the snapshot (log base seq %d > snapshot seq %d): records missing", base, st.SnapshotSeq)
	}
	if st.Dropped != "" {
		d.log.Error("alerter delta log ignored", zap.String("reason", st.Dropped), zap.String("file", d.path(".log")))
		return st, nil
	}
	return d.replay(r, base, st)
}

// replay applies the frames of r (a log with base seq base) whose seq is after the snapshot.
func (d *DeltaLog) replay(r io.Reader, base uint64, st ReplayStats) (ReplayStats, error) {
	off := int64(logHeaderSize)
	seq := base
	var buf []byte
	var rec logRecord
	for {
		p, err := readFrame(r, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errTruncated) {
			// Never acked: its fsync did not complete.
			d.log.Warn("alerter delta log: truncated last record dropped (crash mid-write)",
				zap.Int64("offset", off), zap.Uint64("seq", seq+1))
			break
		}
		if err == nil && seq+1 > st.SnapshotSeq {
			if err = decodeRecord(p, &rec); err == nil {
				d.a.replayRecord(&rec)
			}
		}
		if err != nil {
			st.Dropped = fmt.Sprintf("corrupt record at offset %d (seq %d): %v", off, seq+1, err)
			d.log.Error("alerter delta log: corrupt record, replay stopped; later records are lost",
				zap.String("reason", err.Error()), zap.Int64("offset", off), zap.Uint64("seq", seq+1))
			break
		}
		buf = p
		seq++
		off += int64(frameHeader + len(p))
		if seq <= st.SnapshotSeq {
			st.Skipped++
		} else {
			st.Replayed++
		}
	}
	d.m.replayed.Add(float64(st.Replayed))
	if st.Replayed == 0 && st.Skipped > 0 {
		d.log.Info("alerter delta log older than its snapshot, ignored", zap.Uint64("log_last_seq", seq),
			zap.Uint64("snapshot_seq", st.SnapshotSeq))
	} else {
		d.log.Info("alerter delta log replayed", zap.Int("records", st.Replayed), zap.Uint64("from_seq", base),
			zap.Uint64("to_seq", seq))
	}
	return st, nil
}

// isDecodeError reports whether a Restore error is about the snapshot's content (as opposed to
// reading the file).
func isDecodeError(err error) bool {
	var pe *os.PathError
	return !errors.As(err, &pe)
}

// keepAside renames path to path.bad-<unix seconds> ("" when there is no such file).
func keepAside(path string) (string, error) {
	to := fmt.Sprintf("%s.bad-%d", path, time.Now().Unix())
	if err := os.Rename(path, to); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("alert: keep aside %s: %w", path, err)
	}
	return to, nil
}

// Commit makes every state change buffered so far durable: it appends the buffered records to
// the log and fsyncs (one fsync for all of them), or, when a previous write failed, writes a
// full snapshot and a fresh log. It returns the bytes written. It blocks for the I/O. On error
// nothing it took is durable; the state in memory is unaffected and the next Commit covers it.
func (d *DeltaLog) Commit() (int, error) {
	if d.closed {
		return 0, errDeltaLogClosed
	}
	if d.broken {
		durable, err := d.compact()
		if !durable {
			return 0, err
		}
		if err != nil {
			d.log.Error("alerter delta log compaction incomplete (state durable)", zap.Error(err))
		}
		return 0, nil
	}
	b := d.a.takeJournal(d.spare)
	if len(b) == 0 {
		d.spare = b
		return 0, nil
	}
	if err := d.append(b); err != nil {
		d.broken = true // the records are applied in memory: only a full snapshot can cover them now
		return 0, err
	}
	d.spare = b
	return len(b), nil
}

// append writes b at the end of the log and fsyncs.
func (d *DeltaLog) append(b []byte) error {
	if _, err := d.f.Write(b); err != nil {
		return fmt.Errorf("alert: delta log: append: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("alert: delta log: fsync: %w", err)
	}
	d.size += int64(len(b))
	d.m.logBytes.Set(float64(d.size))
	if d.afterSync != nil {
		return d.afterSync()
	}
	return nil
}

// due reports whether the log should be compacted.
func (d *DeltaLog) due(now time.Time) bool {
	if now.Before(d.retryAt) {
		return false
	}
	return d.size >= d.cfg.CompactBytes || (now.Sub(d.opened) >= d.cfg.CompactInterval && d.size >= d.cfg.CompactBytes/64)
}

// MaybeCompact compacts the log when it is CompactBytes large or CompactInterval old (see
// DeltaLogConfig). It blocks for the snapshot's encoding and I/O (the detection lock only
// while the state is copied). A failure is logged and counted, and retried a minute later.
func (d *DeltaLog) MaybeCompact() {
	if d.closed || !d.due(time.Now()) {
		return
	}
	if _, err := d.compact(); err != nil {
		d.retryAt = time.Now().Add(time.Minute)
		d.log.Error("alerter delta log compaction failed", zap.Int64("log_bytes", d.size), zap.Error(err))
	}
}

// compact writes a full snapshot (temp file, fsync, rename, fsync dir) covering every record
// applied so far, then replaces the log with an empty one whose base is the snapshot's seq.
// durable reports whether every record applied so far is durable afterwards, even if err says
// the compaction failed: if the snapshot cannot be written, the records taken with it are
// appended to the current log instead; if the new log cannot be started, the snapshot covers
// everything and the next Commit compacts again.
func (d *DeltaLog) compact() (durable bool, err error) {
	start := time.Now()
	s, b := d.a.snapshotTake(d.spare)
	if _, err := writeFileAtomic(d.cfg.Dir, d.cfg.Name+".snap", func(w io.Writer) error { return encodeSnapshot(w, s) }); err != nil {
		d.m.compactions.WithLabelValues("failed").Inc()
		err = fmt.Errorf("alert: delta log: snapshot: %w", err)
		if d.broken || d.f == nil {
			return false, err
		}
		if aerr := d.append(b); aerr != nil {
			d.broken = true
			return false, fmt.Errorf("%w; append: %v", err, aerr)
		}
		d.spare = b
		return true, err
	}
	d.spare = b
	f, err := d.startLog(s.Seq)
	if err != nil {
		d.broken = true
		d.m.compactions.WithLabelValues("failed").Inc()
		return true, fmt.Errorf("alert: delta log: new log after the snapshot (the next checkpoint writes a full snapshot): %w", err)
	}
	if d.f != nil {
		_ = d.f.Close()
	}
	d.f, d.size, d.opened, d.broken, d.retryAt = f, logHeaderSize, time.Now(), false, time.Time{}
	d.m.logBytes.Set(float64(d.size))
	d.m.compactions.WithLabelValues("ok").Inc()
	d.log.Debug("alerter delta log compacted", zap.Uint64("seq", s.Seq), zap.Int("terms", len(s.Terms)),
		zap.Duration("took", time.Since(start)))
	return true, nil
}

// startLog atomically replaces the log with an empty one of base seq base and returns it open
// for appending.
func (d *DeltaLog) startLog(base uint64) (*os.File, error) {
	name := d.cfg.Name + ".log"
	if _, err := writeFileAtomic(d.cfg.Dir, name, func(w io.Writer) error {
		_, err := w.Write(logHeader(base))
		return err
	}); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(d.cfg.Dir, name), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("alert: delta log: open: %w", err)
	}
	return f, nil
}

// Close detaches the log from the Alerter (it stops buffering records) and closes the file.
// Call it after the final Commit. Idempotent.
func (d *DeltaLog) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	d.a.detachJournal()
	if d.f == nil {
		return nil
	}
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("alert: delta log: close: %w", err)
	}
	return nil
}

// beginReplay puts the Alerter in replay mode for OpenDeltaLog.
func (a *Alerter) beginReplay() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("alert: delta log: alerter closed")
	}
	if a.journaling || a.replaying {
		return errors.New("alert: delta log: alerter already has a delta log")
	}
	a.replaying = true
	return nil
}

// endReplay leaves replay mode, queues the alerts left unpublished and starts buffering
// records.
func (a *Alerter) endReplay() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.replaying = false
	a.restoreOutboxLocked(a.outboxLocked())
	a.journaling = true
}

// detachJournal stops buffering records and drops the buffer.
func (a *Alerter) detachJournal() {
	a.mu.Lock()
	a.journaling, a.jbuf = false, nil
	a.mu.Unlock()
}

func (a *Alerter) seqNow() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.jseq
}

// replayRecord applies one logged record exactly as Observe, Tick or the publisher applied it;
// alerts it produces go to the durable outbox (replay mode), not to notifiers.
func (a *Alerter) replayRecord(r *logRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.kind {
	case recObserve:
		a.applyLocked(&r.obs)
	case recTick:
		a.tickLocked(r.now)
	case recSettle:
		delete(a.unsent, r.id)
	}
	a.collectLocked()
	a.jseq++
}

// writeFileAtomic writes dir/name through write durably and atomically: a temp file in dir,
// fsync, rename over name, fsync of dir. It returns the bytes written.
func writeFileAtomic(dir, name string, write func(io.Writer) error) (int64, error) {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename: nothing to remove
	cw := &countingWriter{w: f}
	if err := write(cw); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, fmt.Errorf("write %s: fsync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	df, err := os.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("write %s: open dir: %w", name, err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return 0, fmt.Errorf("write %s: fsync dir: %w", name, err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
