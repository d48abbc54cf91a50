// Command speedup reads the output of go test -bench … -cpu 1,2,4,… and
// prints how each benchmark speeds up as cores are added, next to a baseline
// benchmark's speed-up: the figure issue 14 sets its target on (the cached
// handler within 80% of a bare Echo handler's speed-up at 16 cores).
//
// For each benchmark and core count it prints the median ns/op of the runs;
// from the second core count on, the speed-up from the fewest cores
// (that time divided by this one), and that speed-up as a share of the
// baseline's at the same count. A last line names the smallest share at the
// most cores, against the target.
//
// It reads figures and judges nothing: it exits 0 whatever the shares are,
// and 1 only when the input holds no benchmark result (a wrong pipe).
//
// Usage:
//
//	go test -run '^$' -bench Parallel -cpu 1,2,4 ./verify/ | speedup -baseline BareEcho_Parallel
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"text/tabwriter"
)

func main() {
	baseline := flag.String("baseline", "BareEcho_Parallel", "the benchmark whose speed-up the others are a share of (its name without Benchmark)")
	target := flag.Float64("target", 0.80, "the share of the baseline's speed-up aimed for, at the most cores")
	flag.Parse()
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "speedup:", err)
		os.Exit(1)
	}
	report(os.Stdout, results, *baseline, *target)
}

// result is one benchmark's times, in ns/op, by core count (GOMAXPROCS).
type result struct {
	name  string
	times map[int][]float64
}

// line matches a go test benchmark line: its name, the -N suffix go test
// appends when GOMAXPROCS is not 1, and ns/op.
var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-(\d+))?\s+\d+\s+([0-9.]+) ns/op`)

// parse reads go test -bench output, keeping the benchmarks in the order
// they first appear. Returns an error when no line is a benchmark result.
func parse(r io.Reader) ([]*result, error) {
	var results []*result
	byName := map[string]*result{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		procs := 1
		if m[2] != "" {
			procs, _ = strconv.Atoi(m[2]) // digits, by the pattern
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		res := byName[m[1]]
		if res == nil {
			res = &result{name: m[1], times: map[int][]float64{}}
			byName[m[1]] = res
			results = append(results, res)
		}
		res.times[procs] = append(res.times[procs], ns)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no benchmark result in the input; pipe go test -bench … -cpu … into it")
	}
	return results, nil
}

// cores returns the core counts r was run at, fewest first.
func (r *result) cores() []int {
	var cs []int
	for c := range r.times {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// median returns r's median ns/op at c cores, 0 if it was not run there.
func (r *result) median(c int) float64 {
	ts := slices.Clone(r.times[c])
	if len(ts) == 0 {
		return 0
	}
	slices.Sort(ts)
	if n := len(ts); n%2 == 0 {
		return (ts[n/2-1] + ts[n/2]) / 2
	}
	return ts[len(ts)/2]
}

// speedup returns r's speed-up from its fewest cores to c cores, 0 if it was
// not run at c.
func (r *result) speedup(c int) float64 {
	cs := r.cores()
	if t := r.median(c); t > 0 && len(cs) > 0 {
		return r.median(cs[0]) / t
	}
	return 0
}

// report prints results as a table, a column per core count, and the
// smallest share of the baseline's speed-up at the most cores.
func report(w io.Writer, results []*result, baseline string, target float64) {
	var base *result
	var all []int
	for _, r := range results {
		if r.name == baseline {
			base = r
		}
		for _, c := range r.cores() {
			if !slices.Contains(all, c) {
				all = append(all, c)
			}
		}
	}
	slices.Sort(all)
	fmt.Fprintf(w, "median ns/op at each -cpu; from the second on, the speed-up from the first and (in brackets) its share of %s's\n", baseline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "benchmark")
	for _, c := range all {
		fmt.Fprintf(tw, "\t-cpu %d", c)
	}
	fmt.Fprintln(tw)
	for _, r := range results {
		fmt.Fprint(tw, r.name)
		for i, c := range all {
			t := r.median(c)
			switch {
			case t == 0:
				fmt.Fprint(tw, "\t-")
			case i == 0:
				fmt.Fprintf(tw, "\t%s ns", figure(t))
			default:
				fmt.Fprintf(tw, "\t%s ns %.2f×%s", figure(t), r.speedup(c), share(r, base, c))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if base == nil {
		fmt.Fprintf(w, "no %s in the input: no shares\n", baseline)
		return
	}
	if len(all) < 2 {
		fmt.Fprintln(w, "one core count only: no speed-up")
		return
	}
	most := all[len(all)-1]
	var worst *result
	for _, r := range results {
		if r != base && r.speedup(most) > 0 && (worst == nil || r.speedup(most) < worst.speedup(most)) {
			worst = r
		}
	}
	if worst == nil || base.speedup(most) == 0 {
		return
	}
	fmt.Fprintf(w, "at %d cores %s speeds up %.2f×; the least, %s, %.2f×: %.2f of it (target %.2f)\n",
		most, baseline, base.speedup(most), worst.name, worst.speedup(most),
		worst.speedup(most)/base.speedup(most), target)
}

// share is " (S)", r's speed-up at c as a share of base's, or "" without one.
func share(r, base *result, c int) string {
	if base == nil || base.speedup(c) == 0 || r.speedup(c) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.2f)", r.speedup(c)/base.speedup(c))
}

// figure formats ns/op with the precision that means something at its size.
func figure(ns float64) string {
	if ns >= 100 {
		return strconv.FormatFloat(ns, 'f', 0, 64)
	}
	return strconv.FormatFloat(ns, 'f', 1, 64)
}
