package verify

import (
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"
)

// boundedCache holds at most its size of values by key, evicting those least
// likely to be asked for again (otter's W-TinyLFU: frequency and recency).
// A read takes no lock and writes no shared cache line: the hash table is read
// with atomic loads, the access is recorded in a lossy buffer striped by core,
// and the hit and miss counts are striped adders. So lookups from many cores,
// even of one hot key, never wait for each other. Writes lock one bucket; the
// eviction policy catches up in the background.
//
// Freshness is the caller's: the cache keeps no time, and a value it holds
// but the caller finds stale counts as a miss.
type boundedCache[V any] struct {
	c     *otter.Cache[string, V]
	st    *stats.Counter
	stale atomic.Uint64 // found but refused as stale: counted by otter as hits
}

func newBoundedCache[V any](size int) (*boundedCache[V], error) {
	st := stats.NewCounter()
	c, err := otter.New(&otter.Options[string, V]{MaximumSize: size, StatsRecorder: st, Clock: stoppedClock{}})
	if err != nil {
		return nil, err
	}
	return &boundedCache[V]{c: c, st: st}, nil
}

// stoppedClock is the time otter is given: none. Entries carry their own
// expiry, checked by the caller, so otter's clock is only read, never needed;
// a stopped one saves a clock read per lookup.
type stoppedClock struct{}

func (stoppedClock) NowNano() int64                      { return 0 }
func (stoppedClock) Tick(time.Duration) <-chan time.Time { return nil }

// Get returns the value under key and whether there is one (fresh or not),
// counting a hit when fresh says it may be used and a miss otherwise
// (absent, or present but stale).
func (b *boundedCache[V]) Get(key string, fresh func(V) bool) (V, bool) {
	v, ok := b.c.GetIfPresent(key)
	if ok && !fresh(v) {
		b.stale.Add(1)
	}
	return v, ok
}

// Add puts value under key, replacing any value there.
func (b *boundedCache[V]) Add(key string, value V) { b.c.Set(key, value) }

// Remove drops key.
func (b *boundedCache[V]) Remove(key string) { b.c.Invalidate(key) }

// Purge drops everything.
func (b *boundedCache[V]) Purge() { b.c.InvalidateAll() }

// stats adds the cache's figures to s.
func (b *boundedCache[V]) stats(s *CacheStats) {
	st, stale := b.st.Snapshot(), b.stale.Load()
	s.Entries += b.c.EstimatedSize()
	s.Hits += st.Hits - min(stale, st.Hits)
	s.Misses += st.Misses + stale
	s.Evictions += st.Evictions
}
