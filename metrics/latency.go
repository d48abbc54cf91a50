package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate/verify"
)

// latencyBuckets suit the verify handler: about a microsecond for a cached
// credential, tens of microseconds for a JWT signature, milliseconds for a
// Postgres read.
var latencyBuckets = [...]time.Duration{1 * time.Microsecond, 2500 * time.Nanosecond, 5 * time.Microsecond,
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond,
	250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, time.Second}

// histogram is one latency histogram: a count per bucket (not cumulative;
// the last is above every bound) and the sum, in atomics, so that an
// observation is a short scan and two atomic adds.
type histogram struct {
	counts [len(latencyBuckets) + 1]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(latencyBuckets) && d > latencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// latencies are the verify latency histograms by endpoint and outcome.
// One set of histograms per stripe (see stripes), summed at scrape time.
type latencies struct {
	desc    *prometheus.Desc
	stripes [][nEndpoints * nOutcomes]histogram
}

func newLatencies() *latencies {
	return &latencies{desc: prometheus.NewDesc("authgate_verify_duration_seconds",
		"Time from a verify request reaching the handler to its answer being written, by endpoint and outcome.",
		[]string{"endpoint", "outcome"}, nil),
		stripes: make([][nEndpoints * nOutcomes]histogram, stripes)}
}

func (l *latencies) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *latencies) Collect(ch chan<- prometheus.Metric) {
	for _, e := range verify.Endpoints {
		for _, o := range verify.Outcomes {
			slot := int(e)*nOutcomes + int(o)
			var counts [len(latencyBuckets) + 1]uint64
			var sum int64
			for s := range l.stripes {
				h := &l.stripes[s][slot]
				for i := range counts {
					counts[i] += h.counts[i].Load()
				}
				sum += h.sum.Load()
			}
			buckets := make(map[float64]uint64, len(latencyBuckets))
			var n uint64
			for i, bound := range latencyBuckets {
				n += counts[i]
				buckets[bound.Seconds()] = n
			}
			n += counts[len(latencyBuckets)]
			ch <- prometheus.MustNewConstHistogram(l.desc, n, time.Duration(sum).Seconds(), buckets,
				e.String(), o.String())
		}
	}
}
