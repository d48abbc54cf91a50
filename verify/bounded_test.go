package verify

import (
	"strconv"
	"sync"
	"testing"
)

func TestBoundedCache_CountsStaleAsMiss(t *testing.T) {
	c, err := newBoundedCache[int](100)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(v int) bool { return v > 0 }
	if _, ok := c.Get("a", fresh); ok {
		t.Fatal("empty cache found a")
	}
	c.Add("a", 1)
	c.Add("b", 0) // held, but its holder calls it stale
	if v, ok := c.Get("a", fresh); !ok || v != 1 {
		t.Fatalf("a: %d %v, want 1 true", v, ok)
	}
	if v, ok := c.Get("b", fresh); !ok || v != 0 {
		t.Fatalf("b: %d %v, want the stale 0, true", v, ok)
	}
	var s CacheStats
	c.stats(&s)
	if s != (CacheStats{Entries: 2, Hits: 1, Misses: 2}) {
		t.Fatalf("stats %+v, want 2 entries, 1 hit (a), 2 misses (absent a, stale b)", s)
	}
	c.Remove("a")
	if _, ok := c.Get("a", fresh); ok {
		t.Fatal("a found after Remove")
	}
	c.Purge()
	if _, ok := c.Get("b", fresh); ok {
		t.Fatal("b found after Purge")
	}
}

func TestBoundedCache_StaysWithinItsSize(t *testing.T) {
	const size = 1000
	c, err := newBoundedCache[int](size)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 * size {
		c.Add(strconv.Itoa(i), i)
	}
	c.c.CleanUp() // the policy catches up in the background; this waits for it
	var s CacheStats
	c.stats(&s)
	if s.Entries > size || s.Evictions < 4*size {
		t.Fatalf("%d entries and %d evictions after %d adds; want at most %d and at least %d", s.Entries, s.Evictions, 5*size, size, 4*size)
	}
}

// One key read from many goroutines while others write and drop keys: the
// race detector checks the reads share nothing unguarded, and every read of
// the hot key finds it.
func TestBoundedCache_ConcurrentReadsOfOneKey(t *testing.T) {
	c, err := newBoundedCache[int](1000)
	if err != nil {
		t.Fatal(err)
	}
	c.Add("hot", 7)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				if g%4 == 0 {
					k := strconv.Itoa(g*10000 + i)
					c.Add(k, i)
					c.Remove(k)
					continue
				}
				if v, ok := c.Get("hot", func(int) bool { return true }); !ok || v != 7 {
					t.Errorf("hot: %d %v", v, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}
