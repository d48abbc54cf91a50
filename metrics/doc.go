// Package metrics is authgate's Prometheus metrics: one Metrics, built once at
// start with a registry of its own, counts every verify decision (it is a
// verify.Observer) and every login (an issue.AuditObserver), and reads the
// rest at scrape time from the Sources it watches: the verify cache, the
// database pool, the change listeners, the session deny-list and the
// password-hashing gate. Handler serves them all in the Prometheus text
// format, with the Go runtime's and the process's own.
//
// Observe, on the verify hot path, looks nothing up and allocates nothing:
// every series it may touch is an array slot resolved at construction,
// indexed by the decision's enumerations. Every label value is one of those
// enumerations' String values (or "none" for no credential kind), so the
// label sets are bounded and never hold a key id, a user or a path.
//
// The metric names, their labels and meaning are listed in the README's
// Metrics section; deploy/grafana/authgate.json is a dashboard over them.
package metrics
