package alert

import (
	"math"
	"time"
)

// seasonal is the shared multiplicative seasonal shape: the mean total mention count per
// bucket by hour-of-week (once a whole week has been seen) or else by hour-of-day (once a whole
// day has been seen), relative to its overall mean. Each term's expected count is its own
// deseasonalised EWMA level times this factor. A shared shape instead of per-term 168-slot
// profiles keeps memory at a few bytes per term and is far less noisy for sparse terms; news
// volume's daily/weekly rhythm is mostly global (see README "Detector").
type seasonal struct {
	How  [168]float64
	HowN [168]int32
	Hod  [24]float64
	HodN [24]int32
	// Nowcast for the first day, before any profile exists: the ratio of a short (20 min) to a
	// long (3 h) EWMA of the global total per bucket tracks the daily curve that the terms'
	// own (3 h) EWMAs lag behind.
	Short, Long float64
	N           int64
}

const (
	nowShortBuckets = 20.0
	nowLongBuckets  = 180.0
	nowMinBuckets   = 60
)

// slotMinObs is how many buckets a slot must have seen before it is trusted.
const slotMinObs = 30

func slots(b int64, bucket time.Duration) (how, hod int) {
	t := time.Unix(0, b*int64(bucket)).UTC()
	hod = t.Hour()
	how = int(t.Weekday())*24 + hod
	return
}

func (s *seasonal) observe(b int64, bucket time.Duration, total float64) {
	how, hod := slots(b, bucket)
	upd := func(m *float64, n *int32) {
		*n++
		a := 1 / float64(*n)
		if a < 1.0/240 {
			a = 1.0 / 240
		}
		*m += a * (total - *m)
	}
	upd(&s.How[how], &s.HowN[how])
	upd(&s.Hod[hod], &s.HodN[hod])
	s.N++
	ew := func(m *float64, span float64) {
		a := 1 / float64(s.N)
		if a < 1/span {
			a = 1 / span
		}
		*m += a * (total - *m)
	}
	ew(&s.Short, nowShortBuckets)
	ew(&s.Long, nowLongBuckets)
}

// factor returns the seasonal multiplier for bucket b (1 until enough history exists).
func (s *seasonal) factor(b int64, bucket time.Duration) float64 {
	how, hod := slots(b, bucket)
	ratio := func(vals []float64, ns []int32, i int) (float64, bool) {
		var sum float64
		for j := range vals {
			if ns[j] < slotMinObs {
				return 1, false
			}
			sum += vals[j]
		}
		mean := sum / float64(len(vals))
		if mean <= 0 {
			return 1, false
		}
		f := vals[i] / mean
		if f < 0.2 {
			f = 0.2
		} else if f > 5 {
			f = 5
		}
		return f, true
	}
	if f, ok := ratio(s.How[:], s.HowN[:], how); ok {
		return f
	}
	if f, ok := ratio(s.Hod[:], s.HodN[:], hod); ok {
		return f
	}
	if s.N >= nowMinBuckets && s.Long > 0 {
		return math.Min(5, math.Max(0.2, s.Short/s.Long))
	}
	return 1
}

// bloom is a fixed-size Bloom filter of term keys that were expired from the live set, so a
// returning term is not reported as "never seen before".
type bloom struct {
	Bits []uint64
}

func newBloom(bits int) *bloom {
	if bits < 64 {
		bits = 64
	}
	return &bloom{Bits: make([]uint64, (bits+63)/64)}
}

func (b *bloom) idx(h uint64, i uint64) (int, uint64) {
	n := uint64(len(b.Bits) * 64)
	x := (h + i*((h>>32)|1)) % n
	return int(x / 64), 1 << (x % 64)
}

func (b *bloom) add(h uint64) {
	for i := uint64(0); i < 4; i++ {
		w, m := b.idx(h, i)
		b.Bits[w] |= m
	}
}

func (b *bloom) has(h uint64) bool {
	for i := uint64(0); i < 4; i++ {
		w, m := b.idx(h, i)
		if b.Bits[w]&m == 0 {
			return false
		}
	}
	return true
}
