package usage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/usage"
	"github.com/authgate/authgate/verify"
)

// BenchmarkCounter_Observe is the cost an answer pays: a known key, from
// every P at once, over 64 credentials.
func BenchmarkCounter_Observe(b *testing.B) {
	c := usage.NewCounter(newMemStore(), usage.Options{Now: func() time.Time { return t0 }})
	ds := make([]*verify.Decision, 64)
	for i := range ds {
		ds[i] = allow(fmt.Sprintf("key_%016d", i))
		c.Observe(ds[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Observe(ds[i%len(ds)])
			i++
		}
	})
}

// BenchmarkCounter_ObserveWallClock is Observe with the real clock (time.Now per answer).
func BenchmarkCounter_ObserveWallClock(b *testing.B) {
	c := usage.NewCounter(newMemStore(), usage.Options{})
	d := allow("key_0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(d)
	}
	_ = c.Flush(context.Background())
}
