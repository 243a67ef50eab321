// Package warcimport backfills newsflow from web archives: it reads WARC files (gzip per
// record as Common Crawl's CC-NEWS ships them, or plain), turns every HTML response record
// into the raw article the fetcher would have published for the same page (original URL,
// WARC-Date as fetch time, HTTP facts, body as UTF-8, the article ID from the page's
// canonical URL) and publishes it onto news.raw, keyed by the article ID, so re-imports and
// overlaps with live fetching stay exactly-once (JetStream drops a repeated Nats-Msg-Id
// within its duplicate window; the indexer writes the same Elasticsearch _id).
//
// Progress is recorded in a state file (file, size, offset after the last record whose
// batch the broker acknowledged), so an import killed at any point resumes where it stopped
// and republishes at most one batch. Records a news pipeline does not want (requests,
// metadata, redirects, non-HTML) are counted and skipped; broken or hostile ones (corrupt or
// truncated gzip members, unparseable HTTP, bodies above the limit, gzip bombs) are counted,
// logged and dead-lettered with the reason; the reader resynchronises at the next record and
// the import never stops on one.
package warcimport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nlnwa/gowarc/v3"
	"go.uber.org/zap"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/bus"
)

// Config tunes an import. Zero fields take the defaults listed.
type Config struct {
	Subject    string // default article.SubjectRaw
	DLQSubject string // default article.SubjectDLQ
	// NoDeadLetter only counts and logs bad records instead of dead-lettering them.
	NoDeadLetter bool
	// MaxBodyBytes: larger (decompressed) bodies are bad records (default 4 MiB, the
	// fetcher's page limit).
	MaxBodyBytes int64
	// MaxMessageBytes: an envelope above it is published with its body gzipped; still above
	// it, the record is bad (default 1 MiB - 64 KiB, under NATS's default max_payload).
	MaxMessageBytes int
	Batch           int      // records per publish batch and state checkpoint (default 256)
	Tags            []string // source tags of the imported articles (default ["warc"])
	// StateFile records what was imported (per file: size, offset, done) for resuming; ""
	// disables resuming.
	StateFile string
	// Progress receives a progress line (bar, rate, ETA) every ProgressEvery (default 1s);
	// nil: none.
	Progress      io.Writer
	ProgressEvery time.Duration

	// afterPublish is a test hook run after each batch is acknowledged, before the state is
	// saved (a crash there is the worst case: the batch is published again on resume).
	afterPublish func(batch int)
}

// Defaults returns c with zero fields filled.
func (c Config) Defaults() Config {
	if c.Subject == "" {
		c.Subject = article.SubjectRaw
	}
	if c.DLQSubject == "" {
		c.DLQSubject = article.SubjectDLQ
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1<<20 - 64<<10
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if len(c.Tags) == 0 {
		c.Tags = []string{"warc"}
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	return c
}

// Validate reports configuration errors (call after Defaults).
func (c Config) Validate() error {
	var errs []error
	if c.MaxMessageBytes < 16<<10 {
		errs = append(errs, fmt.Errorf("warcimport: MaxMessageBytes %d too small (min 16 KiB)", c.MaxMessageBytes))
	}
	if c.Batch > 100000 {
		errs = append(errs, fmt.Errorf("warcimport: batch %d too large (max 100000)", c.Batch))
	}
	return errors.Join(errs...)
}

// Stats counts an import's outcome.
type Stats struct {
	Files     int            `json:"files"`      // files finished
	Records   int            `json:"records"`    // WARC records read (all types)
	Published int            `json:"published"`  // raw articles published
	Skipped   map[string]int `json:"skipped"`    // by class (expected content: not a response, not 200, not html...)
	Bad       map[string]int `json:"bad"`        // by class (dead-lettered unless NoDeadLetter)
	Bytes     int64          `json:"bytes"`      // file bytes consumed
	Resumed   int            `json:"resumed"`    // files resumed from a saved offset (or already done)
	Elapsed   time.Duration  `json:"elapsed_ns"` // wall time
}

// SkippedTotal and BadTotal sum the classes.
func (s Stats) SkippedTotal() int { return sum(s.Skipped) }

// BadTotal sums the bad record classes.
func (s Stats) BadTotal() int { return sum(s.Bad) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Importer publishes WARC records onto a bus.
type Importer struct {
	cfg Config
	b   bus.Bus
	log *zap.Logger

	mu    sync.Mutex
	stats Stats
	total int64 // bytes of all files (progress)
	start time.Time
}

// New returns an importer publishing to b.
func New(cfg Config, b bus.Bus, log *zap.Logger) (*Importer, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Importer{cfg: cfg, b: b, log: log, stats: Stats{Skipped: map[string]int{}, Bad: map[string]int{}}}, nil
}

// Import imports the files in order, resuming from the state file when set. It returns the
// counts so far and the first error that stops it (a bus or file error, or ctx's end); bad
// records never stop it.
func (im *Importer) Import(ctx context.Context, paths []string) (Stats, error) {
	im.start = time.Now()
	st, err := loadState(im.cfg.StateFile)
	if err != nil {
		return im.snapshot(), err
	}
	type job struct {
		path string
		size int64
	}
	var jobs []job
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return im.snapshot(), fmt.Errorf("warcimport: %s: %w", p, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return im.snapshot(), fmt.Errorf("warcimport: %w", err)
		}
		if fi.IsDir() {
			return im.snapshot(), fmt.Errorf("warcimport: %s is a directory", p)
		}
		jobs = append(jobs, job{abs, fi.Size()})
		im.total += fi.Size()
	}
	stopProgress := im.progressLoop()
	defer stopProgress()
	for _, j := range jobs {
		fs := st.Files[j.path]
		if fs.Size != j.size { // new or changed file: from the start
			fs = fileState{Size: j.size}
		}
		if fs.Offset > 0 || fs.Done {
			im.mu.Lock()
			im.stats.Resumed++
			im.stats.Bytes += fs.Offset
			im.mu.Unlock()
			im.log.Info("resuming", zap.String("file", j.path), zap.Int64("offset", fs.Offset), zap.Bool("done", fs.Done))
		}
		if !fs.Done {
			if err := im.importFile(ctx, j.path, &fs, st); err != nil {
				return im.snapshot(), err
			}
		}
		im.mu.Lock()
		im.stats.Files++
		im.mu.Unlock()
	}
	return im.snapshot(), nil
}

func (im *Importer) snapshot() Stats {
	im.mu.Lock()
	defer im.mu.Unlock()
	s := im.stats
	s.Skipped, s.Bad = map[string]int{}, map[string]int{}
	for k, v := range im.stats.Skipped {
		s.Skipped[k] = v
	}
	for k, v := range im.stats.Bad {
		s.Bad[k] = v
	}
	if !im.start.IsZero() {
		s.Elapsed = time.Since(im.start)
	}
	return s
}

func readerOptions() []gowarc.WarcRecordOption {
	return []gowarc.WarcRecordOption{
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithSpecViolationPolicy(gowarc.ErrWarn),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrIgnore),
		gowarc.WithBlockErrorPolicy(gowarc.ErrWarn),
		gowarc.WithBufferMaxMemBytes(8 << 20),
	}
}

// importFile reads one file from fs.Offset, publishing in batches and checkpointing fs.
func (im *Importer) importFile(ctx context.Context, path string, fs *fileState, st *state) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("warcimport: %w", err)
	}
	defer func() { _ = f.Close() }()
	gz := isGzipFile(f)
	size := fileSize(f)
	// The reader reads a section of f: gowarc's Close would close an *os.File, and the
	// reader is replaced after a resync while f stays open.
	open := func(off int64) (*gowarc.WarcFileReader, error) {
		r, err := gowarc.NewWarcFileReaderFromStream(io.NewSectionReader(f, 0, size), off, readerOptions()...)
		if err != nil {
			return nil, fmt.Errorf("warcimport: %s: %w", path, err)
		}
		return r, nil
	}
	r, err := open(fs.Offset)
	if err != nil {
		return err
	}
	defer func() {
		if r != nil {
			_ = r.Close()
		}
	}()
	var pending []bus.Outgoing
	var scratch []byte // convert's decompression buffer
	good := fs.Offset  // end of the last record read whole
	batch, sinceCheckpoint := 0, 0
	flush := func() error {
		if len(pending) > 0 {
			if err := publishAll(ctx, im.b, im.cfg.Subject, pending); err != nil {
				return fmt.Errorf("warcimport: publish: %w", err)
			}
		}
		batch++
		if im.cfg.afterPublish != nil {
			im.cfg.afterPublish(batch)
		}
		im.mu.Lock()
		im.stats.Published += len(pending)
		im.stats.Bytes += good - fs.Offset
		im.mu.Unlock()
		pending, sinceCheckpoint = pending[:0], 0
		fs.Offset = good
		st.Files[path] = *fs
		return st.save(im.cfg.StateFile)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		im.mu.Lock()
		im.stats.Records++
		im.mu.Unlock()
		sinceCheckpoint++
		if err != nil {
			_ = rec.Close()
			at := max(good, rec.Offset)
			reason := fmt.Errorf("%s: %v", BadCorrupt, err)
			im.mu.Lock()
			im.stats.Bad[BadCorrupt]++
			im.mu.Unlock()
			im.log.Warn("corrupt warc record skipped", zap.String("file", path), zap.Int64("offset", at), zap.Error(err))
			if derr := im.deadLetter(ctx, f, path, at, min(rec.Size, 64<<10), "", reason); derr != nil {
				return derr
			}
			next, serr := resync(f, at+1, gz)
			if serr != nil {
				return fmt.Errorf("warcimport: %s: resync: %w", path, serr)
			}
			_ = r.Close()
			r = nil
			if next < 0 { // nothing readable after the corruption
				good = size
				break
			}
			good = next
			if r, err = open(next); err != nil {
				return err
			}
			continue
		}
		conv, cerr := convert(rec.WarcRecord, im.cfg.MaxBodyBytes, im.cfg.Tags, &scratch)
		target := rec.WarcRecord.WarcHeader().Get(gowarc.WarcTargetURI)
		_ = rec.Close()
		good = rec.Offset + rec.Size
		var data []byte
		if cerr == nil {
			data, cerr = im.encode(conv)
		}
		if cerr != nil {
			class, isBad := classOf(cerr)
			im.mu.Lock()
			if isBad {
				im.stats.Bad[class]++
			} else {
				im.stats.Skipped[class]++
			}
			im.mu.Unlock()
			if isBad {
				im.log.Warn("bad warc record", zap.String("file", path), zap.Int64("offset", rec.Offset), zap.String("target", target), zap.String("reason", cerr.Error()))
				if derr := im.deadLetter(ctx, f, path, rec.Offset, rec.Size, target, cerr); derr != nil {
					return derr
				}
			}
		} else {
			pending = append(pending, bus.Outgoing{Key: conv.id, Data: data})
		}
		if len(pending) >= im.cfg.Batch || sinceCheckpoint >= 4*im.cfg.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	fs.Done = true
	st.Files[path] = *fs
	return st.save(im.cfg.StateFile)
}

// encode builds the raw envelope, gzipping the body when the message would be too large.
func (im *Importer) encode(c converted) ([]byte, error) {
	env := &article.Envelope{ID: c.id, Stage: article.StageRaw, Raw: c.raw}
	b, err := article.Encode(env)
	if err != nil {
		return nil, bad(BadHTTP, "encode: %v", err)
	}
	if len(b) <= im.cfg.MaxMessageBytes {
		return b, nil
	}
	if err := c.raw.CompressBody(0); err != nil {
		return nil, bad(BadTooLarge, "%v", err)
	}
	if b, err = article.Encode(env); err != nil {
		return nil, bad(BadHTTP, "encode: %v", err)
	}
	if len(b) > im.cfg.MaxMessageBytes {
		return nil, bad(BadTooLarge, "message of %d bytes with the body gzipped (limit %d)", len(b), im.cfg.MaxMessageBytes)
	}
	return b, nil
}

// deadLetter publishes up to 64 KiB of the record's bytes with the reason (unless
// NoDeadLetter).
func (im *Importer) deadLetter(ctx context.Context, f *os.File, path string, off, size int64, target string, reason error) error {
	if im.cfg.NoDeadLetter {
		return nil
	}
	n := min(max(size, 0), 64<<10)
	if n == 0 {
		n = 4 << 10
	}
	buf := make([]byte, n)
	got, _ := f.ReadAt(buf, off)
	m := &recordMsg{key: recordKey(path, off), subject: "warc:" + filepath.Base(path), data: buf[:got]}
	why := fmt.Errorf("%s (file %s offset %d%s)", reason, filepath.Base(path), off, targetNote(target))
	if err := bus.DeadLetter(ctx, im.b, im.cfg.DLQSubject, "import", m, why); err != nil {
		return fmt.Errorf("warcimport: dead letter: %w", err)
	}
	return nil
}

func targetNote(t string) string {
	if t == "" {
		return ""
	}
	return " uri " + t
}

func recordKey(path string, off int64) string {
	id, _, err := article.ID("file:///" + filepath.ToSlash(path))
	if err != nil {
		return fmt.Sprintf("warc-%d", off)
	}
	return fmt.Sprintf("warc-%s-%d", id[:12], off)
}

// recordMsg presents a WARC record's bytes as a bus.Message for bus.DeadLetter.
type recordMsg struct {
	key, subject string
	data         []byte
}

func (m *recordMsg) Key() string                               { return m.key }
func (m *recordMsg) Subject() string                           { return m.subject }
func (m *recordMsg) Data() []byte                              { return m.data }
func (m *recordMsg) Header() map[string]string                 { return nil }
func (m *recordMsg) Attempt() int                              { return 1 }
func (m *recordMsg) Ack(context.Context) error                 { return nil }
func (m *recordMsg) Nack(context.Context, time.Duration) error { return nil }
func (m *recordMsg) Term(context.Context) error                { return nil }

// batchPublisher is a bus that publishes many messages with acks outstanding (natsbus).
type batchPublisher interface {
	PublishBatch(ctx context.Context, subject string, ms []bus.Outgoing) error
}

// publishAll publishes ms and returns once every one is durably accepted.
func publishAll(ctx context.Context, b bus.Bus, subject string, ms []bus.Outgoing) error {
	if bp, ok := b.(batchPublisher); ok {
		return bp.PublishBatch(ctx, subject, ms)
	}
	const workers = 32
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ms); i += workers {
				if err := b.Publish(ctx, subject, ms[i]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func isGzipFile(f *os.File) bool {
	var magic [2]byte
	n, _ := f.ReadAt(magic[:], 0)
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

func fileSize(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// resync returns the offset of the next record start at or after from: a gzip member header
// in a gzipped file, "WARC/1." in a plain one; -1 when there is none.
func resync(f *os.File, from int64, gz bool) (int64, error) {
	magic := []byte("WARC/1.")
	if gz {
		magic = []byte{0x1f, 0x8b, 0x08}
	}
	sr := io.NewSectionReader(f, from, fileSize(f)-from)
	br := bufio.NewReaderSize(sr, 1<<20)
	off := from
	var window []byte
	for {
		chunk := make([]byte, 1<<20)
		n, err := io.ReadFull(br, chunk)
		window = append(window, chunk[:n]...)
		if i := bytes.Index(window, magic); i >= 0 {
			return off + int64(i), nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return -1, nil
			}
			return -1, err
		}
		keep := len(magic) - 1
		off += int64(len(window) - keep)
		window = append(window[:0], window[len(window)-keep:]...)
	}
}

// progressLoop prints a progress line every ProgressEvery until stopped (and a last one).
func (im *Importer) progressLoop() func() {
	if im.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(im.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				im.printProgress()
				return
			case <-t.C:
				im.printProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (im *Importer) printProgress() {
	s := im.snapshot()
	fmt.Fprintln(im.cfg.Progress, progressLine(s, im.total, s.Elapsed))
}

// progressLine renders a bar, counts, rate and ETA.
func progressLine(s Stats, total int64, elapsed time.Duration) string {
	frac := 0.0
	if total > 0 {
		frac = min(float64(s.Bytes)/float64(total), 1)
	}
	const width = 24
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if float64(i) < frac*width {
			bar[i] = '#'
		}
	}
	rate := 0.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(s.Published) / sec
	}
	eta := "?"
	if frac > 0 && frac < 1 && elapsed > 0 {
		eta = (time.Duration(float64(elapsed)*(1-frac)/frac) / time.Second * time.Second).String()
	} else if frac >= 1 {
		eta = "0s"
	}
	var bads []string
	for k, v := range s.Bad {
		bads = append(bads, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(bads)
	line := fmt.Sprintf("import [%s] %3.0f%% %d records, %d published (%.0f/s), %d skipped, %d bad, ETA %s",
		bar, 100*frac, s.Records, s.Published, rate, s.SkippedTotal(), s.BadTotal(), eta)
	if len(bads) > 0 {
		line += fmt.Sprintf(" %v", bads)
	}
	return line
}
