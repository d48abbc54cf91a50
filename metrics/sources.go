package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Sources are what Watch reads at each scrape. A nil field is not exported.
type Sources struct {
	Cache     func() verify.CacheStats // the verify cache: (*verify.Verifier).CacheStats
	Pool      func() db.PoolStats      // the database pool: (*db.DB).PoolStats
	HashQueue func() issue.HashQueue   // the password-hashing gate: (*issue.Service).HashQueue
	DenyList  func() DenyListStats     // the session deny-list and its feed
	// Listeners are the change listeners (db.Watch) by channel name.
	Listeners map[string]Listener
	Now       func() time.Time // the clock of the ages (time.Now)
}

// Listener is a change listener's state: *db.WatchedListener is one.
type Listener interface {
	Connected() bool
	LastAnnouncement() (t time.Time, ok bool)
}

var _ Listener = (*db.WatchedListener)(nil)

// DenyListStats is the session deny-list's state at one moment.
type DenyListStats struct {
	Entries  int
	Current  bool      // trusted: its feed completed a read recently enough
	LastRead time.Time // start of its feed's last complete read; zero: unknown
}

// Watch adds the figures of s to every later scrape.
func (m *Metrics) Watch(s Sources) error {
	if s.Now == nil {
		s.Now = time.Now
	}
	return m.reg.Register(newSourceCollector(s))
}

// sourceCollector reads Sources at scrape time.
type sourceCollector struct {
	s     Sources
	descs map[string]*prometheus.Desc
}

// sourceMetrics are the names, help and labels of what Sources give.
var sourceMetrics = []struct {
	name, help string
	labels     []string
}{
	{"authgate_verify_cache_entries", "Credentials held in the verify cache now (keys, personal tokens, sessions and JWTs).", nil},
	{"authgate_verify_cache_hits_total", "Verify lookups answered from the cache.", nil},
	{"authgate_verify_cache_misses_total", "Verify lookups not in the cache (or stale): read from Postgres, or a JWT's signature checked.", nil},
	{"authgate_verify_cache_evictions_total", "Cache entries dropped to make room for another (not expiries).", nil},
	{"authgate_db_pool_acquired_connections", "Postgres connections in use now.", nil},
	{"authgate_db_pool_idle_connections", "Postgres connections open and free now.", nil},
	{"authgate_db_pool_total_connections", "Postgres connections open now.", nil},
	{"authgate_db_pool_max_connections", "Most Postgres connections the pool opens.", nil},
	{"authgate_db_pool_acquires_total", "Postgres connections acquired from the pool.", nil},
	{"authgate_db_pool_empty_acquires_total", "Acquires that waited because no connection was free.", nil},
	{"authgate_db_pool_acquire_wait_seconds_total", "Time spent acquiring Postgres connections.", nil},
	{"authgate_password_hashes_running", "Password hashes running now.", nil},
	{"authgate_password_hashes_waiting", "Logins, registrations and password changes waiting for a hashing slot now.", nil},
	{"authgate_password_hash_slots", "Password hashes that may run at once.", nil},
	{"authgate_deny_list_entries", "Revoked sessions held in the deny-list.", nil},
	{"authgate_deny_list_current", "1 while the deny-list is trusted (its feed read every revocation recently enough); at 0 access tokens are refused.", nil},
	{"authgate_deny_list_age_seconds", "Seconds since the start of the deny-list feed's last complete read of the revocations.", nil},
	{"authgate_listener_connected", "1 while the change listener of the channel is connected to Postgres.", []string{"channel"}},
	{"authgate_listener_last_announcement_timestamp_seconds", "Unix time of the channel's last change announcement (0: none since the start).", []string{"channel"}},
}

func newSourceCollector(s Sources) *sourceCollector {
	c := &sourceCollector{s: s, descs: map[string]*prometheus.Desc{}}
	for _, sm := range sourceMetrics {
		c.descs[sm.name] = prometheus.NewDesc(sm.name, sm.help, sm.labels, nil)
	}
	return c
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(name string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v, labels...)
	}
	counter := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, v)
	}
	if c.s.Cache != nil {
		st := c.s.Cache()
		gauge("authgate_verify_cache_entries", float64(st.Entries))
		counter("authgate_verify_cache_hits_total", float64(st.Hits))
		counter("authgate_verify_cache_misses_total", float64(st.Misses))
		counter("authgate_verify_cache_evictions_total", float64(st.Evictions))
	}
	if c.s.Pool != nil {
		st := c.s.Pool()
		gauge("authgate_db_pool_acquired_connections", float64(st.Acquired))
		gauge("authgate_db_pool_idle_connections", float64(st.Idle))
		gauge("authgate_db_pool_total_connections", float64(st.Total))
		gauge("authgate_db_pool_max_connections", float64(st.Max))
		counter("authgate_db_pool_acquires_total", float64(st.AcquireCount))
		counter("authgate_db_pool_empty_acquires_total", float64(st.EmptyAcquireCount))
		counter("authgate_db_pool_acquire_wait_seconds_total", st.AcquireWait.Seconds())
	}
	if c.s.HashQueue != nil {
		q := c.s.HashQueue()
		gauge("authgate_password_hashes_running", float64(q.Running))
		gauge("authgate_password_hashes_waiting", float64(q.Waiting))
		gauge("authgate_password_hash_slots", float64(q.Capacity))
	}
	if c.s.DenyList != nil {
		d := c.s.DenyList()
		gauge("authgate_deny_list_entries", float64(d.Entries))
		gauge("authgate_deny_list_current", boolValue(d.Current))
		if !d.LastRead.IsZero() {
			gauge("authgate_deny_list_age_seconds", c.s.Now().Sub(d.LastRead).Seconds())
		}
	}
	for channel, l := range c.s.Listeners {
		gauge("authgate_listener_connected", boolValue(l.Connected()), channel)
		var ts float64
		if t, ok := l.LastAnnouncement(); ok {
			ts = float64(t.UnixNano()) / 1e9
		}
		gauge("authgate_listener_last_announcement_timestamp_seconds", ts, channel)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
