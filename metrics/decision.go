package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate/verify"
)

// The sizes of verify's enumerations; TestEnumerationSizes fails when one
// grows, so that a new value gets a slot of its own.
const (
	nEndpoints = 2
	nKinds     = 7 // verify.Kinds and "none"
	nOutcomes  = 4
	nReasons   = 14
)

// kindNone is the index of a decision without a recognised credential.
const kindNone = nKinds - 1

// kindLabels are the label values of the kind indexes.
var kindLabels = [nKinds]string{"api_key", "jwt", "token", "static_key", "session", "external_jwt", "none"}

// kindIndex maps a credential kind to its slot without a lookup. A kind it
// does not know counts as "none": the label set stays bounded.
func kindIndex(k verify.Kind) int {
	switch k {
	case verify.KindAPIKey:
		return 0
	case verify.KindJWT:
		return 1
	case verify.KindPersonalToken:
		return 2
	case verify.KindStaticKey:
		return 3
	case verify.KindSession:
		return 4
	case verify.KindExternalJWT:
		return 5
	}
	return kindNone
}

// decisions counts verify decisions by endpoint, kind, outcome and reason, in
// flat arrays of atomic counters, one array per stripe. It is its own
// prometheus.Collector: a counter reaches the registry only at scrape time.
type decisions struct {
	desc    *prometheus.Desc
	stripes []decisionCounts
}

type decisionCounts [nEndpoints * nKinds * nOutcomes * nReasons]atomic.Uint64

func newDecisions() *decisions {
	return &decisions{desc: prometheus.NewDesc("authgate_verify_decisions_total",
		"Verify answers by endpoint, credential kind, outcome and the reason of a non-allow.",
		[]string{"endpoint", "kind", "outcome", "reason"}, nil),
		stripes: make([]decisionCounts, stripes)}
}

// count is decision slot i's count, summed over the stripes.
func (d *decisions) count(i int) uint64 {
	var n uint64
	for s := range d.stripes {
		n += d.stripes[s][i].Load()
	}
	return n
}

func decisionIndex(e, k, o, r int) int { return ((e*nKinds+k)*nOutcomes+o)*nReasons + r }

// indexes returns d's slots, out-of-range values taken as their String
// methods take them (forward_auth, error, internal).
func indexes(d *verify.Decision) (e, k, o, r int) {
	e, k, o, r = int(d.Endpoint), kindIndex(d.Kind), int(d.Outcome), int(d.Reason)
	if e >= nEndpoints {
		e = int(verify.EndpointForwardAuth)
	}
	if o >= nOutcomes {
		o = int(verify.OutcomeError)
	}
	if r >= nReasons {
		r = int(verify.ReasonInternal)
	}
	return e, k, o, r
}

// expected reports whether outcome o goes with reason r; the series of those
// pairs are exported from the start, at 0, so that a rate over them sees the
// first decision. Any other pair is exported once it has counted one.
func expected(o verify.Outcome, r verify.Reason) bool {
	switch o {
	case verify.OutcomeAllow:
		return r == verify.ReasonNone
	case verify.OutcomeRateLimited:
		return r == verify.ReasonRateLimited
	case verify.OutcomeError:
		return r == verify.ReasonMisconfigured || r == verify.ReasonInternal
	}
	return r != verify.ReasonNone && r != verify.ReasonRateLimited &&
		r != verify.ReasonMisconfigured && r != verify.ReasonInternal
}

func (d *decisions) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *decisions) Collect(ch chan<- prometheus.Metric) {
	for _, e := range verify.Endpoints {
		for k, kind := range kindLabels {
			for _, o := range verify.Outcomes {
				for _, r := range verify.Reasons {
					n := d.count(decisionIndex(int(e), k, int(o), int(r)))
					if n == 0 && !expected(o, r) {
						continue
					}
					ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, float64(n),
						e.String(), kind, o.String(), r.String())
				}
			}
		}
	}
}

// rateLimited counts rate-limited verify answers by endpoint and kind.
type rateLimited struct {
	desc  *prometheus.Desc
	count [nEndpoints * nKinds]atomic.Uint64
}

func newRateLimited() *rateLimited {
	return &rateLimited{desc: prometheus.NewDesc("authgate_verify_rate_limited_total",
		"Verify answers refused for a credential over its rate limit, by endpoint and credential kind.",
		[]string{"endpoint", "kind"}, nil)}
}

func (l *rateLimited) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *rateLimited) Collect(ch chan<- prometheus.Metric) {
	for _, e := range verify.Endpoints {
		for k, kind := range kindLabels {
			ch <- prometheus.MustNewConstMetric(l.desc, prometheus.CounterValue,
				float64(l.count[int(e)*nKinds+k].Load()), e.String(), kind)
		}
	}
}

// Observe counts one verify decision. It looks nothing up by label and
// allocates nothing.
// Every core answering at once adds to its own stripe, most of the time.
func (m *Metrics) Observe(d *verify.Decision) {
	e, k, o, r := indexes(d)
	s := d.Stripe()
	m.decisions.stripes[s][decisionIndex(e, k, o, r)].Add(1)
	if d.Outcome == verify.OutcomeRateLimited {
		m.rateLimited.count[e*nKinds+k].Add(1)
	}
	m.latency.stripes[s][e*nOutcomes+o].observe(d.Elapsed)
}

// stripes is how many copies the counters every verify answer adds to have
// (verify.Stripes), so that cores answering at once do not write the same
// cache line; a scrape sums the copies. A copy of the decision counters is
// about 6 KiB.
var stripes = verify.Stripes
