package verify

import (
	"hash/maphash"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// shardedLRU is an LRU cache split into shards by the key's hash, each with
// its own lock and its own hit, miss and eviction counts, so that lookups
// from different cores rarely wait for each other (one LRU takes its lock on
// every Get, to move the entry to the front) and never share a counter's
// cache line. Recency is per shard: the entry evicted is the least recently
// used of its shard, not of the whole cache.
type shardedLRU[V any] struct {
	seed   maphash.Seed
	mask   uint64
	shards []lruShard[V]
}

type lruShard[V any] struct {
	lru                     *lru.Cache[string, V]
	hits, misses, evictions atomic.Uint64
	_                       [64]byte // keeps neighbouring shards' counters off this one's cache line
}

// lruShardMin is the fewest entries a shard holds: a small cache (tests, a
// tiny CACHE_SIZE) stays one exact LRU.
const lruShardMin = 1024

// maxLRUShards bounds the shards: far more than the cores that contend.
const maxLRUShards = 64

func newShardedLRU[V any](size int) (*shardedLRU[V], error) {
	n := 1
	for n*2 <= maxLRUShards && size/(n*2) >= lruShardMin {
		n *= 2
	}
	c := &shardedLRU[V]{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]lruShard[V], n)}
	for i := range c.shards {
		per := size / n
		if i < size%n {
			per++
		}
		var err error
		if c.shards[i].lru, err = lru.New[string, V](per); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *shardedLRU[V]) shard(key string) *lruShard[V] {
	if c.mask == 0 {
		return &c.shards[0]
	}
	return &c.shards[maphash.String(c.seed, key)&c.mask]
}

// Get returns the value under key and whether there is one (fresh or not),
// counting a hit when fresh says it may be used and a miss otherwise
// (absent, or present but stale).
func (c *shardedLRU[V]) Get(key string, fresh func(V) bool) (V, bool) {
	s := c.shard(key)
	v, ok := s.lru.Get(key)
	if ok && fresh(v) {
		s.hits.Add(1)
		return v, true
	}
	s.misses.Add(1)
	return v, ok
}

// Add puts value under key, counting an eviction when it made room.
func (c *shardedLRU[V]) Add(key string, value V) {
	s := c.shard(key)
	if s.lru.Add(key, value) {
		s.evictions.Add(1)
	}
}

// Remove drops key.
func (c *shardedLRU[V]) Remove(key string) { c.shard(key).lru.Remove(key) }

// Purge drops everything.
func (c *shardedLRU[V]) Purge() {
	for i := range c.shards {
		c.shards[i].lru.Purge()
	}
}

// stats adds the cache's figures to s.
func (c *shardedLRU[V]) stats(s *CacheStats) {
	for i := range c.shards {
		sh := &c.shards[i]
		s.Entries += sh.lru.Len()
		s.Hits += sh.hits.Load()
		s.Misses += sh.misses.Load()
		s.Evictions += sh.evictions.Load()
	}
}
