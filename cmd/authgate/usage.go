package main

import (
	"time"

	"github.com/authgate/authgate/metrics"
	credusage "github.com/authgate/authgate/usage"
	"github.com/authgate/authgate/verify"
)

// startUsage makes the counter of verify answers per credential: it counts
// what the verify handler is told (observing) and writes the counts to the
// database every 10 s, from a Run that start launches with the other
// background work; Close's cancellation makes it flush a last time before
// the database closes.
func (m *Main) startUsage(now func() time.Time) {
	m.usage = credusage.NewCounter(m.db, credusage.Options{Now: now, Logger: m.log})
}

// observing returns o (the metrics, nil when none) with the usage counter
// added: the verify handler's one Observer.
func (m *Main) observing(o verify.Observer) verify.Observer {
	if m.usage == nil {
		return o
	}
	return metrics.Tee(o, m.usage)
}
