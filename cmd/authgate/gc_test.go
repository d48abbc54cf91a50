package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		base, headroom uint64
		want           int
	}{
		{0, 16 << 20, maxGCPercent},
		{2 << 20, 16 << 20, maxGCPercent}, // 2 MiB: bounded, Go's minimum goal is then 16 MiB
		{8 << 20, 16 << 20, 200},          // 8 MiB scanned: collect 16 MiB later
		{12 << 20, 16 << 20, 133},         // 12 MiB: the same
		{64 << 20, 16 << 20, 100},         // a large heap: Go's default
		{1 << 10, 16 << 20, maxGCPercent}, // a tiny heap: bounded
	} {
		if got := gcPercent(c.base, c.headroom); got != c.want {
			t.Errorf("gcPercent(%d, %d) = %d; want %d", c.base, c.headroom, got, c.want)
		}
	}
}

// The tuner sets GOGC at once and again after each collection, and restores
// Go's default when stopped. A headroom far above any test binary's heap, so
// that the GOGC it sets is the bound whatever ran before.
func TestGCTuner(t *testing.T) {
	stop := startGCTuner(1 << 40)
	defer stop()
	if got := debug.SetGCPercent(100); got != maxGCPercent {
		t.Errorf("GOGC after tuning = %d; want %d", got, maxGCPercent)
	}
	// After a collection the finalizer sets it again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if got := debug.SetGCPercent(100); got == maxGCPercent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("GOGC not set again after collections")
		}
	}
	stop()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after stop = %d; want 100", got)
	}
}

// An operator who set GOGC or GOMEMLIMIT keeps the collector as they set it.
func TestTuneGC_LeavesTheOperatorsChoice(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, env := range []map[string]string{{"GOGC": "200"}, {"GOMEMLIMIT": "1GiB"}} {
		before := debug.SetGCPercent(100)
		tuneGC(env, log)()
		if got := debug.SetGCPercent(before); got != 100 {
			t.Errorf("with %v, GOGC = %d; want it left alone (100)", env, got)
		}
	}
}
