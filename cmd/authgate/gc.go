package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcHeadroom is how far the Go heap may grow past what the last collection
// scanned before the next one, at least. Go's default (GOGC=100: collect once
// the heap has grown by what was scanned, 4 MB at least) makes a small heap
// collect every couple of megabytes. The verify path allocates about 2.6 KB a
// request (net/http's request and headers, as any Go handler), so authgate,
// with a couple of megabytes of heap, stacks and globals to scan each time,
// collected about every thousand requests. Measured under load: the same
// handler cost 16% more CPU in authgate's process than in a bare one, and
// none more with a larger GOGC; a cached allow took 4-10% less CPU per
// request with this headroom (16 MB: a collection every 14 MB or so), for
// about 11 MB more resident memory (28 -> 40 MB). A large heap (a full cache)
// gets Go's default.
const gcHeadroom = 16 << 20

// maxGCPercent bounds the GOGC the tuner sets for a tiny heap. Go's minimum
// heap goal grows with GOGC too (4 MB at 100), so this keeps that minimum at
// gcHeadroom: a higher GOGC would let the heap grow far past it at start.
const maxGCPercent = 100 * gcHeadroom / (4 << 20)

// gcPercent is the GOGC that puts the next collection headroom bytes past
// the last one: Go collects once the heap has grown by GOGC percent of what
// the collector scans (the live heap, the goroutine stacks and the globals:
// base). Never below Go's default of 100.
func gcPercent(base, headroom uint64) int {
	if base == 0 {
		return maxGCPercent
	}
	p := headroom * 100 / base
	switch {
	case p < 100:
		return 100
	case p > maxGCPercent:
		return maxGCPercent
	}
	return int(p)
}

// tuneGC keeps gcHeadroom between collections, by setting GOGC again after
// every collection, unless the operator chose for themselves (GOGC or
// GOMEMLIMIT in environ). It returns a func that stops the tuning and
// restores Go's default.
func tuneGC(environ map[string]string, log *slog.Logger) (stop func()) {
	if environ["GOGC"] != "" || environ["GOMEMLIMIT"] != "" {
		log.Info("garbage collector left to GOGC and GOMEMLIMIT", "gogc", environ["GOGC"], "gomemlimit", environ["GOMEMLIMIT"])
		return func() {}
	}
	return startGCTuner(gcHeadroom)
}

// startGCTuner keeps headroom between collections until the returned func is
// called, which restores Go's default.
func startGCTuner(headroom uint64) (stop func()) {
	t := &gcTuner{headroom: headroom, sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	t.tune()
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.stopped = true
		debug.SetGCPercent(100)
	}
}

type gcTuner struct {
	headroom uint64
	mu       sync.Mutex
	sample   []metrics.Sample // under mu
	stopped  bool             // under mu
}

// tune sets GOGC from what the last collection scanned, and reports whether
// the tuner still runs.
func (t *gcTuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var base uint64
	for _, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			base += s.Value.Uint64()
		}
	}
	debug.SetGCPercent(gcPercent(base, t.headroom))
	return true
}

// gcSentinel is garbage from the moment it is made: its finalizer runs after
// the next collection. It holds a pointer, so it is never batched with other
// tiny objects (which could keep it alive).
type gcSentinel struct{ t *gcTuner }

// arm tunes again after the next collection, and so on until stopped.
func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t: t}, func(s *gcSentinel) {
		if s.t.tune() {
			s.t.arm()
		}
	})
}
