package main

import (
	"strings"
	"testing"
)

// sample is go test -bench Parallel -cpu 1,2,4 -count 3 output, two packages.
const sample = `goos: linux
goarch: amd64
pkg: github.com/authgate/authgate/verify
cpu: AMD EPYC
BenchmarkHandler_ParallelCached          	 1000000	      1000 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached          	 1000000	      1100 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached          	 1000000	       900 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached-2        	 2000000	       600 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached-2        	 2000000	       500 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached-2        	 2000000	       550 ns/op	     120 B/op	       2 allocs/op
BenchmarkHandler_ParallelCached-4        	 2000000	       400 ns/op
BenchmarkBareEcho_Parallel               	30000000	        40.0 ns/op
BenchmarkBareEcho_Parallel-2             	60000000	        20.0 ns/op
BenchmarkBareEcho_Parallel-4             	90000000	        10.0 ns/op
PASS
ok  	github.com/authgate/authgate/verify	12.3s
pkg: github.com/authgate/authgate/metrics
BenchmarkHandler_ParallelOneKeyObserved  	 1000000	       900 ns/op
BenchmarkHandler_ParallelOneKeyObserved-2	 2000000	       600 ns/op
PASS
`

func TestParse_MediansByCores(t *testing.T) {
	results, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range results {
		names = append(names, r.name)
	}
	if got, want := strings.Join(names, " "), "Handler_ParallelCached BareEcho_Parallel Handler_ParallelOneKeyObserved"; got != want {
		t.Fatalf("got benchmarks %q; want %q", got, want)
	}
	cached := results[0]
	for _, tc := range []struct {
		cores         int
		median, speed float64
	}{
		{1, 1000, 1},
		{2, 550, 1000.0 / 550},
		{4, 400, 2.5},
		{8, 0, 0}, // not run
	} {
		if got := cached.median(tc.cores); got != tc.median {
			t.Errorf("median at %d cores: got %v; want %v", tc.cores, got, tc.median)
		}
		if got := cached.speedup(tc.cores); got != tc.speed {
			t.Errorf("speed-up at %d cores: got %v; want %v", tc.cores, got, tc.speed)
		}
	}
}

func TestParse_NoResult(t *testing.T) {
	if _, err := parse(strings.NewReader("PASS\nok  \tgithub.com/authgate/authgate/verify\t0.1s\n")); err == nil {
		t.Fatal("got no error for input without a benchmark result")
	}
}

// reportOf returns report's output for sample against baseline, its table's
// padding folded to single spaces.
func reportOf(t *testing.T, baseline string) string {
	t.Helper()
	results, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, results, baseline, 0.8)
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestReport_SharesOfTheBaseline(t *testing.T) {
	out := reportOf(t, "BareEcho_Parallel")
	for _, want := range []string{
		"-cpu 1 -cpu 2 -cpu 4",
		"Handler_ParallelCached 1000 ns 550 ns 1.82× (0.91) 400 ns 2.50× (0.62)", // 2.5× of bare's 4×
		"BareEcho_Parallel 40.0 ns 20.0 ns 2.00× (1.00) 10.0 ns 4.00× (1.00)",
		"Handler_ParallelOneKeyObserved 900 ns 600 ns 1.50× (0.75) -", // not run at 4 cores
		"at 4 cores BareEcho_Parallel speeds up 4.00×; the least, Handler_ParallelCached, 2.50×: 0.62 of it (target 0.80)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestReport_WithoutTheBaseline(t *testing.T) {
	out := reportOf(t, "NoSuch")
	if strings.Contains(out, "(0.") || strings.Contains(out, "(1.") {
		t.Errorf("report shows shares without a baseline:\n%s", out)
	}
	if !strings.Contains(out, "no NoSuch in the input") {
		t.Errorf("report does not say the baseline is missing:\n%s", out)
	}
}
