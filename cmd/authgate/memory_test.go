package main

import (
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memory is the process's memory at one moment.
type memory struct {
	rssKB, hwmKB               int64  // VmRSS and VmHWM from /proc/self/status
	heapObjects, runtimeMapped uint64 // runtime/metrics: live and unswept heap objects; all the runtime holds, less what it gave back
}

func (m memory) String() string {
	return fmt.Sprintf("VmRSS %d MiB, VmHWM %d MiB, heap objects %d MiB, runtime mapped %d MiB",
		m.rssKB>>10, m.hwmKB>>10, m.heapObjects>>20, m.runtimeMapped>>20)
}

// readMemory returns the memory now; VmRSS and VmHWM are zero where there is
// no /proc/self/status.
func readMemory() memory {
	var m memory
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		name, value, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			m.rssKB = kb
		case "VmHWM":
			m.hwmKB = kb
		}
	}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	m.heapObjects = samples[0].Value.Uint64()
	m.runtimeMapped = samples[1].Value.Uint64() - samples[2].Value.Uint64()
	return m
}

// sampleMemory reads the memory every 5 ms until the returned function is
// called, which returns the largest of each figure.
func sampleMemory() func() memory {
	stop, result := make(chan struct{}), make(chan memory)
	go func() {
		var peak memory
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			m := readMemory()
			peak.rssKB, peak.hwmKB = max(peak.rssKB, m.rssKB), max(peak.hwmKB, m.hwmKB)
			peak.heapObjects, peak.runtimeMapped = max(peak.heapObjects, m.heapObjects), max(peak.runtimeMapped, m.runtimeMapped)
			select {
			case <-stop:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() memory { close(stop); return <-result }
}

// logMemory prints the figures of a run: before it, its peak, right after it
// and after a GC. hwmReset says whether VmHWM was reset at the start, so that
// it is the run's peak rather than the process's.
func logMemory(t *testing.T, before, peak, after, collected memory, hwmReset bool) {
	t.Helper()
	t.Logf("before: %s", before)
	t.Logf("peak (sampled every 5 ms): VmRSS %d MiB, heap objects %d MiB, runtime mapped %d MiB",
		peak.rssKB>>10, peak.heapObjects>>20, peak.runtimeMapped>>20)
	if hwmReset {
		t.Logf("VmHWM over the run: %d MiB", after.hwmKB>>10)
	} else {
		t.Logf("VmHWM (since the process started; /proc/self/clear_refs refused the reset): %d MiB", after.hwmKB>>10)
	}
	t.Logf("after: %s", after)
	t.Logf("after a GC: %s", collected)
}
