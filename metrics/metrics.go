package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Metrics is authgate's metrics. Build one with New at start; it is safe for
// concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	decisions   *decisions
	rateLimited *rateLimited
	latency     *latencies
	logins      [2]prometheus.Counter // success, failure
	handler     http.Handler
}

var (
	_ verify.Observer     = (*Metrics)(nil)
	_ issue.AuditObserver = (*Metrics)(nil)
)

// New returns Metrics with every per-request series resolved, registered
// with the Go runtime's and the process's collectors. Scrape-time figures are
// added by Watch.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), decisions: newDecisions(), rateLimited: newRateLimited(),
		latency: newLatencies()}
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authgate_logins_total",
		Help: "Password logins and sign-ins by outcome (success or failure: unknown user, wrong password, locked or disabled account), as audited.",
	}, []string{"outcome"})
	m.logins[0] = logins.WithLabelValues(issue.OutcomeSuccess)
	m.logins[1] = logins.WithLabelValues(issue.OutcomeFailure)
	m.reg.MustRegister(m.decisions, m.rateLimited, m.latency, logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// ObserveAudit counts logins: the audit rows of user.login and
// user.login_failed. Other actions are not counted.
func (m *Metrics) ObserveAudit(action issue.Action, outcome string) {
	switch action {
	case issue.ActionUserLogin:
		m.logins[0].Inc()
	case issue.ActionLoginFailed:
		m.logins[1].Inc()
	}
}

// Handler serves every metric in the Prometheus text format. It asks for no
// credential: serve it on an internal address only.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Tee returns an Observer that passes each decision to every non-nil
// observer, in order; nil when there is none, the observer itself when
// there is one.
func Tee(observers ...verify.Observer) verify.Observer {
	var t tee
	for _, o := range observers {
		if o != nil {
			t = append(t, o)
		}
	}
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

type tee []verify.Observer

func (t tee) Observe(d *verify.Decision) {
	for _, o := range t {
		o.Observe(d)
	}
}
