package metrics

import (
	"bufio"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// scrape returns every sample h serves, by its series as the text format
// writes it (name{label="value",...}).
func scrape(t testing.TB, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d; want 200", rec.Code)
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: line %q: %v", line, err)
		}
		got[line[:i]] = v
	}
	return got
}

func TestEnumerationSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"Endpoints", len(verify.Endpoints), nEndpoints},
		{"Kinds", len(verify.Kinds) + 1, nKinds},
		{"Outcomes", len(verify.Outcomes), nOutcomes},
		{"Reasons", len(verify.Reasons), nReasons},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d slots needed; metrics has %d: give the new value a slot", c.name, c.got, c.want)
		}
	}
	for i, k := range verify.Kinds {
		if got := kindIndex(k); got != i || kindLabels[got] != string(k) {
			t.Errorf("kindIndex(%s) = %d (%s); want %d", k, got, kindLabels[got], i)
		}
	}
}

func TestMetrics_Observe(t *testing.T) {
	m := New()
	allow := verify.Decision{Endpoint: verify.EndpointForwardAuth, Outcome: verify.OutcomeAllow, Kind: verify.KindAPIKey,
		CredentialID: "key_abc", Elapsed: 3 * time.Microsecond}
	wrong := verify.Decision{Endpoint: verify.EndpointAuthRequest, Outcome: verify.OutcomeDeny,
		Reason: verify.ReasonWrongSecret, Kind: verify.KindPersonalToken, CredentialID: "tok_abc", Elapsed: 40 * time.Microsecond}
	limited := verify.Decision{Endpoint: verify.EndpointForwardAuth, Outcome: verify.OutcomeRateLimited,
		Reason: verify.ReasonRateLimited, Kind: verify.KindJWT, Elapsed: 2 * time.Millisecond}
	none := verify.Decision{Endpoint: verify.EndpointForwardAuth, Outcome: verify.OutcomeDeny, Reason: verify.ReasonNoCredential}
	for range 3 {
		m.Observe(&allow)
	}
	for range 2 {
		m.Observe(&wrong)
	}
	m.Observe(&limited)
	m.Observe(&none)
	got := scrape(t, m.Handler())
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="allow",reason="none"}`, 3},
		{`authgate_verify_decisions_total{endpoint="auth_request",kind="token",outcome="deny",reason="wrong_secret"}`, 2},
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="jwt",outcome="rate_limited",reason="rate_limited"}`, 1},
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="none",outcome="deny",reason="no_credential"}`, 1},
		{`authgate_verify_decisions_total{endpoint="auth_request",kind="api_key",outcome="allow",reason="none"}`, 0},
		{`authgate_verify_rate_limited_total{endpoint="forward_auth",kind="jwt"}`, 1},
		{`authgate_verify_rate_limited_total{endpoint="forward_auth",kind="api_key"}`, 0},
		{`authgate_verify_duration_seconds_count{endpoint="forward_auth",outcome="allow"}`, 3},
		{`authgate_verify_duration_seconds_bucket{endpoint="forward_auth",outcome="allow",le="2.5e-06"}`, 0},
		{`authgate_verify_duration_seconds_bucket{endpoint="forward_auth",outcome="allow",le="5e-06"}`, 3},
		{`authgate_verify_duration_seconds_bucket{endpoint="auth_request",outcome="deny",le="2.5e-05"}`, 0},
		{`authgate_verify_duration_seconds_bucket{endpoint="auth_request",outcome="deny",le="5e-05"}`, 2},
		{`authgate_verify_duration_seconds_count{endpoint="forward_auth",outcome="rate_limited"}`, 1},
		{`authgate_logins_total{outcome="success"}`, 0},
	} {
		if v, ok := got[c.series]; !ok || v != c.want {
			t.Errorf("%s = %v (present %t); want %v", c.series, v, ok, c.want)
		}
	}
	// An unexpected pair is exported once it counts; not before.
	odd := `authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="deny",reason="internal"}`
	if _, ok := got[odd]; ok {
		t.Errorf("%s exported before any such decision", odd)
	}
	m.Observe(&verify.Decision{Outcome: verify.OutcomeDeny, Reason: verify.ReasonInternal, Kind: verify.KindAPIKey})
	if v := scrape(t, m.Handler())[odd]; v != 1 {
		t.Errorf("%s = %v; want 1", odd, v)
	}
}

// Answers from many goroutines land on several stripes; a scrape counts each
// exactly once, in the counter and in the histogram.
func TestMetrics_ObserveStripedSums(t *testing.T) {
	m := New()
	d := verify.Decision{Endpoint: verify.EndpointForwardAuth, Outcome: verify.OutcomeAllow, Kind: verify.KindAPIKey,
		Elapsed: time.Microsecond}
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			d := d // a Decision of its own, as each core gets from the handler's pool
			d.Slot = uint32(i)
			for range each {
				m.Observe(&d)
			}
		})
	}
	wg.Wait()
	got := scrape(t, m.Handler())
	for series, want := range map[string]float64{
		`authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="allow",reason="none"}`: goroutines * each,
		`authgate_verify_duration_seconds_count{endpoint="forward_auth",outcome="allow"}`:                       goroutines * each,
		`authgate_verify_duration_seconds_bucket{endpoint="forward_auth",outcome="allow",le="1e-06"}`:           goroutines * each,
	} {
		if got[series] != want {
			t.Errorf("%s = %v; want %v", series, got[series], want)
		}
	}
	if sum := got[`authgate_verify_duration_seconds_sum{endpoint="forward_auth",outcome="allow"}`]; math.Abs(sum-goroutines*each*1e-6) > 1e-9 {
		t.Errorf("latency sum = %v s; want %v s", sum, goroutines*each*1e-6)
	}
}

// TestMetrics_LabelValuesBounded observes every combination of the
// enumerations, and values outside them, and checks that each label takes
// exactly the enumeration's values: never an id, a path or a stray number.
func TestMetrics_LabelValuesBounded(t *testing.T) {
	m := New()
	kinds := append(slices.Clone(verify.Kinds), "", "key_0123456789", "/cameras/1")
	for _, e := range append(slices.Clone(verify.Endpoints), 7) {
		for _, k := range kinds {
			for _, o := range append(slices.Clone(verify.Outcomes), 9) {
				for _, r := range append(slices.Clone(verify.Reasons), 99) {
					m.Observe(&verify.Decision{Endpoint: e, Kind: k, Outcome: o, Reason: r, CredentialID: "key_0123456789"})
				}
			}
		}
	}
	values := map[string]map[string]bool{}
	for series := range scrape(t, m.Handler()) {
		if !strings.HasPrefix(series, "authgate_verify_") {
			continue
		}
		_, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
		for pair := range strings.SplitSeq(labels, ",") {
			name, value, _ := strings.Cut(pair, "=")
			if values[name] == nil {
				values[name] = map[string]bool{}
			}
			values[name][strings.Trim(value, `"`)] = true
		}
	}
	want := map[string][]string{"kind": {"none"}}
	for _, e := range verify.Endpoints {
		want["endpoint"] = append(want["endpoint"], e.String())
	}
	for _, k := range verify.Kinds {
		want["kind"] = append(want["kind"], string(k))
	}
	for _, o := range verify.Outcomes {
		want["outcome"] = append(want["outcome"], o.String())
	}
	for _, r := range verify.Reasons {
		want["reason"] = append(want["reason"], r.String())
	}
	for name, w := range want {
		got := slices.Sorted(func(yield func(string) bool) {
			for v := range values[name] {
				if !yield(v) {
					return
				}
			}
		})
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("label %s takes %v; want %v", name, got, w)
		}
	}
	if len(values["le"]) != len(latencyBuckets)+1 {
		t.Errorf("le takes %d values; want %d", len(values["le"]), len(latencyBuckets)+1)
	}
	for name := range values {
		if _, ok := want[name]; !ok && name != "le" {
			t.Errorf("unexpected label %s", name)
		}
	}
}

func TestMetrics_ObserveNoAllocs(t *testing.T) {
	m := New()
	d := &verify.Decision{Endpoint: verify.EndpointAuthRequest, Outcome: verify.OutcomeRateLimited,
		Reason: verify.ReasonRateLimited, Kind: verify.KindSession, CredentialID: "key_x", Elapsed: time.Millisecond}
	if n := testing.AllocsPerRun(1000, func() { m.Observe(d) }); n != 0 {
		t.Errorf("Observe allocates %v times per call; want 0", n)
	}
}

func TestMetrics_ObserveAudit(t *testing.T) {
	m := New()
	m.ObserveAudit(issue.ActionUserLogin, issue.OutcomeSuccess)
	for range 3 {
		m.ObserveAudit(issue.ActionLoginFailed, issue.OutcomeFailure)
	}
	m.ObserveAudit(issue.ActionKeyCreate, issue.OutcomeSuccess) // not a login
	got := scrape(t, m.Handler())
	for series, want := range map[string]float64{
		`authgate_logins_total{outcome="success"}`: 1,
		`authgate_logins_total{outcome="failure"}`: 3,
	} {
		if got[series] != want {
			t.Errorf("%s = %v; want %v", series, got[series], want)
		}
	}
}

type fakeListener struct {
	up   bool
	last time.Time
}

func (f fakeListener) Connected() bool                     { return f.up }
func (f fakeListener) LastAnnouncement() (time.Time, bool) { return f.last, !f.last.IsZero() }

func TestMetrics_Watch(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := New()
	err := m.Watch(Sources{
		Cache: func() verify.CacheStats { return verify.CacheStats{Entries: 4, Hits: 90, Misses: 10, Evictions: 2} },
		Pool: func() db.PoolStats {
			return db.PoolStats{Acquired: 1, Idle: 3, Total: 4, Max: 8, AcquireCount: 50, EmptyAcquireCount: 5,
				AcquireWait: 1500 * time.Millisecond}
		},
		HashQueue: func() issue.HashQueue { return issue.HashQueue{Running: 2, Waiting: 7, Capacity: 2} },
		DenyList: func() DenyListStats {
			return DenyListStats{Entries: 3, Current: true, LastRead: now.Add(-4 * time.Second)}
		},
		Listeners: map[string]Listener{"authgate_sessions": fakeListener{up: true, last: now.Add(-time.Minute)},
			"authgate_keys": fakeListener{}},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, m.Handler())
	for series, want := range map[string]float64{
		"authgate_verify_cache_entries":                                                      4,
		"authgate_verify_cache_hits_total":                                                   90,
		"authgate_verify_cache_misses_total":                                                 10,
		"authgate_verify_cache_evictions_total":                                              2,
		"authgate_db_pool_acquired_connections":                                              1,
		"authgate_db_pool_idle_connections":                                                  3,
		"authgate_db_pool_total_connections":                                                 4,
		"authgate_db_pool_max_connections":                                                   8,
		"authgate_db_pool_acquires_total":                                                    50,
		"authgate_db_pool_empty_acquires_total":                                              5,
		"authgate_db_pool_acquire_wait_seconds_total":                                        1.5,
		"authgate_password_hashes_running":                                                   2,
		"authgate_password_hashes_waiting":                                                   7,
		"authgate_password_hash_slots":                                                       2,
		"authgate_deny_list_entries":                                                         3,
		"authgate_deny_list_current":                                                         1,
		"authgate_deny_list_age_seconds":                                                     4,
		`authgate_listener_connected{channel="authgate_sessions"}`:                           1,
		`authgate_listener_connected{channel="authgate_keys"}`:                               0,
		`authgate_listener_last_announcement_timestamp_seconds{channel="authgate_sessions"}`: 1_799_999_940,
		`authgate_listener_last_announcement_timestamp_seconds{channel="authgate_keys"}`:     0,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %t); want %v", series, v, ok, want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing: the Go and process collectors are not registered", name)
		}
	}
}

func TestTee(t *testing.T) {
	var a, b counting
	if Tee() != nil || Tee(nil) != nil {
		t.Error("Tee of no observer is not nil")
	}
	if got := Tee(nil, &a); got != verify.Observer(&a) {
		t.Errorf("Tee of one observer = %v; want it", got)
	}
	o := Tee(&a, nil, &b)
	o.Observe(&verify.Decision{})
	o.Observe(&verify.Decision{})
	if a != 2 || b != 2 {
		t.Errorf("observers saw %d and %d decisions; want 2 and 2", a, b)
	}
}

type counting int

func (c *counting) Observe(*verify.Decision) { *c++ }
