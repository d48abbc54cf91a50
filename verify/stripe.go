package verify

import (
	"runtime"
	"sync/atomic"
)

// Stripes is how many copies a counter that every verify answer may write
// should have, so that cores answering at once do not write the same cache
// line (one shared counter makes every core wait for it): twice the cores, a
// power of two, at most maxStripes. Readers sum the copies. The handler keeps
// its request id counters and the deny log's suppressed counts this way, and
// metrics its counters.
var Stripes = stripeCount(2 * runtime.NumCPU())

const maxStripes = 64

func stripeCount(n int) int {
	s := 1
	for s < n && s < maxStripes {
		s *= 2
	}
	return s
}

// Stripe is d's stripe, by its Slot: the handler's Decisions stay with the
// core that uses them and their slots are consecutive, so cores answering at
// once write to different stripes (up to Stripes cores).
func (d *Decision) Stripe() int { return int(d.Slot) & (Stripes - 1) }

// paddedCounter is a counter alone on its cache line (64 bytes; 128 with the
// adjacent-line prefetch of x86, whose pairs of lines move together).
type paddedCounter struct {
	n atomic.Uint64
	_ [120]byte
}
