package verify

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkCache_Memory100k fills the cache with 100 000 distinct cached API
// keys and reports the live heap they hold, per credential (after a GC; the
// store's own records are built before the baseline and kept alive, so only
// the cache's share is counted). Run with -benchtime 1x.
func BenchmarkCache_Memory100k(b *testing.B) {
	const n = 100_000
	h := testHasher(b)
	records := make(map[string]KeyRecord, n)
	creds := make([]string, n)
	for i := range n {
		k := NewKey(PrefixAPIKey)
		v, mac := h.Sum(k.Secret)
		records[k.LookupID] = KeyRecord{ID: "key_" + RandomString(16), LookupID: k.LookupID, Subject: "key_" + strconv.Itoa(i),
			Name: "camera " + strconv.Itoa(i), Scopes: []string{"events:read", "cameras:stream"}, SecretMAC: mac, MACVersion: v}
		creds[i] = k.Reveal()
	}
	store := &fakeStore{KeyByLookupIDFunc: func(_ context.Context, id string) (KeyRecord, error) {
		if r, ok := records[id]; ok {
			return r, nil
		}
		return KeyRecord{}, ErrNotFound
	}}
	for range b.N {
		v, err := NewVerifier(store, h, Options{CacheSize: 2 * n, Now: fixedClock(testNow), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		before := liveHeap()
		for _, c := range creds {
			if _, err := v.Authenticate(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		after := liveHeap()
		if got := v.CacheStats().Entries; got != n {
			b.Fatalf("cached %d; want %d", got, n)
		}
		b.ReportMetric(float64(after-before)/n, "B/credential")
		runtime.KeepAlive(v)
	}
	runtime.KeepAlive(records)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
