package verify

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultDenyLogRate is how many deny lines a second a handler writes in
// full unless HandlerOptions.DenyLogRate says otherwise: far above what a
// household or an office makes, far below what a flood of garbage would.
const DefaultDenyLogRate = 100

// denyLogBudget bounds the deny log during a flood: up to rate lines a second
// are written in full (each with its request id, so that a deny a client was
// shown leads to its reason); past that, denies are only counted, by reason,
// and the first deny of a later second writes one summary line of what was
// left out. Every deny stays counted in the metrics. Safe for concurrent use;
// it never allocates except to write a summary. During a flood, once the
// second's lines are spent, a deny writes only its own stripe's count: cores
// refusing garbage at once do not wait for one another's cache lines.
type denyLogBudget struct {
	rate       int64              // lines a second; negative: no bound
	second     atomic.Int64       // the unix second being counted
	lines      atomic.Int64       // full lines in that second (counted up to rate+1)
	suppressed []suppressedCounts // per stripe (see Stripes)
	since      atomic.Int64       // the unix second the suppressed counts began
}

// suppressedCounts is one stripe's count of the denies left out of the log,
// by reason, padded to whole pairs of cache lines.
type suppressedCounts struct {
	n [len(reasonNames)]atomic.Int64
	_ [128 - len(reasonNames)*8%128]byte
}

func newDenyLogBudget(rate int64) *denyLogBudget {
	return &denyLogBudget{rate: rate, suppressed: make([]suppressedCounts, Stripes)}
}

// take reports whether a deny for reason at now, on stripe, gets its full
// line, and returns the attributes of a summary line to write first when a
// flood's second has passed (nil otherwise).
func (b *denyLogBudget) take(now time.Time, reason Reason, stripe int) (full bool, summary []slog.Attr) {
	if b.rate < 0 {
		return true, nil
	}
	sec := now.Unix()
	if cur := b.second.Load(); cur != sec && b.second.CompareAndSwap(cur, sec) {
		b.lines.Store(0)
		summary = b.summary(sec)
	}
	// Past the budget, the count stops moving: reading a line nobody writes
	// costs a core nothing, adding to one every core adds to costs them all.
	if b.lines.Load() <= b.rate && b.lines.Add(1) <= b.rate {
		return true, summary
	}
	if b.since.Load() == 0 {
		b.since.CompareAndSwap(0, sec)
	}
	b.suppressed[stripe].n[reason].Add(1)
	return false, summary
}

// summary takes the suppressed counts and returns them as a log line's
// attributes, or nil when there are none.
func (b *denyLogBudget) summary(now int64) []slog.Attr {
	var attrs []slog.Attr
	var total int64
	for r := range reasonNames {
		var n int64
		for s := range b.suppressed {
			n += b.suppressed[s].n[r].Swap(0)
		}
		if n > 0 {
			attrs = append(attrs, slog.Int64(reasonNames[r], n))
			total += n
		}
	}
	if total == 0 {
		return nil
	}
	since := b.since.Swap(0)
	return append([]slog.Attr{slog.Int64("suppressed", total), slog.Int64("seconds", max(now-since, 1)),
		slog.Int64("limit_per_second", b.rate)}, slog.Group("by_reason", anySlice(attrs)...))
}

func anySlice(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
