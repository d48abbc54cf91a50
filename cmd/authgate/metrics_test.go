package main

import (
	"bufio"
	"bytes"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/verify"
)

// scrapeMetrics GETs url and returns every sample, by its series as the
// text format writes it (name{label="value",...}).
func scrapeMetrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	code, _, body := client{t: t}.call("GET", url, "", "")
	if code != 200 {
		t.Fatalf("GET %s: %d; want 200", url, code)
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%s: line %q: %v", url, line, err)
		}
		got[line[:i]] = v
	}
	return got
}

// wrongSecret returns key with another secret: well formed, its lookup id
// known, its secret wrong.
func wrongSecret(t *testing.T, key string) string {
	t.Helper()
	k, err := verify.ParseKey(verify.PrefixAPIKey, key)
	if err != nil {
		t.Fatal(err)
	}
	other := verify.NewKey(verify.PrefixAPIKey)
	k.Secret = other.Secret
	return k.Reveal()
}

// TestMetrics_ScriptedRun drives the real service as a proxy and a person
// would, then scrapes /metrics and checks each figure the run made.
func TestMetrics_ScriptedRun(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	m := startMain(t, env)
	admin := bootstrap(t, env)
	c := client{t: t, base: m.URL()}
	_, key := c.createKey(admin, `{"name":"cam","scopes":["events:read"]}`)
	createAlice(t, env, c, admin)

	const allows, wrong, bare = 5, 3, 2
	for range allows {
		if code := c.forwardAuth(key, "events:read"); code != 200 {
			t.Fatalf("forward-auth with the key: %d; want 200", code)
		}
	}
	bad := wrongSecret(t, key)
	for range wrong {
		if code := c.forwardAuth(bad, "events:read"); code != 401 {
			t.Fatalf("forward-auth with a wrong secret: %d; want 401", code)
		}
	}
	for range bare {
		if code := c.forwardAuth("", "events:read"); code != 401 {
			t.Fatalf("forward-auth without a credential: %d; want 401", code)
		}
	}
	if code := c.authRequest(key, "events:read"); code != 200 {
		t.Fatalf("auth-request with the key: %d; want 200", code)
	}
	if code, _ := c.login("alice", alicePassword); code != 200 {
		t.Fatalf("login: %d; want 200", code)
	}
	if code, _ := c.login("alice", "not alice's password at all"); code != 401 {
		t.Fatalf("failed login: %d; want 401", code)
	}

	// The listeners connect, and the key's creation is announced, in the
	// background: wait for both.
	var got map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = scrapeMetrics(t, m.MetricsURL())
		if got[`authgate_listener_last_announcement_timestamp_seconds{channel="authgate_keys"}`] > 0 &&
			got[`authgate_listener_connected{channel="authgate_sessions"}`] == 1 &&
			got[`authgate_listener_connected{channel="authgate_signing_keys"}`] == 1 || time.Now().After(deadline) {
			break
		}
	}
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="allow",reason="none"}`, allows},
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="deny",reason="wrong_secret"}`, wrong},
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="none",outcome="deny",reason="no_credential"}`, bare},
		{`authgate_verify_decisions_total{endpoint="auth_request",kind="api_key",outcome="allow",reason="none"}`, 1},
		{`authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="rate_limited",reason="rate_limited"}`, 0},
		{`authgate_verify_rate_limited_total{endpoint="forward_auth",kind="api_key"}`, 0},
		{`authgate_verify_duration_seconds_count{endpoint="forward_auth",outcome="allow"}`, allows},
		{`authgate_verify_duration_seconds_count{endpoint="forward_auth",outcome="deny"}`, wrong + bare},
		{`authgate_verify_duration_seconds_bucket{endpoint="forward_auth",outcome="allow",le="+Inf"}`, allows},
		{`authgate_logins_total{outcome="success"}`, 1},
		{`authgate_logins_total{outcome="failure"}`, 1},
		{`authgate_password_hashes_running`, 0},
		{`authgate_password_hashes_waiting`, 0},
		{`authgate_password_hash_slots`, float64(runtime.GOMAXPROCS(0))},
		{`authgate_deny_list_current`, 1},
		{`authgate_deny_list_entries`, 0},
		{`authgate_listener_connected{channel="authgate_keys"}`, 1},
		{`authgate_listener_connected{channel="authgate_sessions"}`, 1},
		{`authgate_listener_connected{channel="authgate_signing_keys"}`, 1},
	} {
		if v, ok := got[c.series]; !ok || v != c.want {
			t.Errorf("%s = %v (present %t); want %v", c.series, v, ok, c.want)
		}
	}
	for _, c := range []struct {
		series string
		least  float64
	}{
		// The first use of the key reads Postgres; later ones are answered
		// from the cache, unless an announcement (the key's creation, alice's)
		// made the cache forget it meanwhile.
		{"authgate_verify_cache_hits_total", 1},
		{"authgate_verify_cache_misses_total", 1},
		{"authgate_verify_cache_entries", 0},
		{"authgate_db_pool_max_connections", 1},
		{"authgate_db_pool_acquires_total", 1},
		{"authgate_db_pool_total_connections", 1},
		{`authgate_listener_last_announcement_timestamp_seconds{channel="authgate_keys"}`, float64(time.Now().Add(-time.Minute).Unix())},
		{"go_goroutines", 1},
		{"process_resident_memory_bytes", 1},
	} {
		if v, ok := got[c.series]; !ok || v < c.least {
			t.Errorf("%s = %v (present %t); want at least %v", c.series, v, ok, c.least)
		}
	}
	// Each use of a key, the admin's on the API included, is a hit or a miss.
	if n := got["authgate_verify_cache_hits_total"] + got["authgate_verify_cache_misses_total"]; n < allows+wrong+1 {
		t.Errorf("cache hits + misses = %v; want at least %d, one per use of a key", n, allows+wrong+1)
	}
	if age, ok := got["authgate_deny_list_age_seconds"]; ok && (age < 0 || age > 15) {
		t.Errorf("authgate_deny_list_age_seconds = %v; want 0 to 15 (a read every 5 s)", age)
	}
	for series := range got {
		if strings.Contains(series, "key_") || strings.Contains(series, "/events") || strings.Contains(series, "alice") {
			t.Errorf("series %s holds an id, a path or a name", series)
		}
	}
}

// TestMetrics_Address checks where /metrics is served: with the management
// API by default, never on the proxies' listener once that is separate, and
// only on AUTHGATE_METRICS_ADDR when it is set.
func TestMetrics_Address(t *testing.T) {
	url := dbtest.URL(t)
	for _, c := range []struct {
		name  string
		extra []string
		// where /metrics is (200), and where it is not (404)
		on, off func(m *Main) []string
	}{
		{"OneListener", nil,
			func(m *Main) []string { return []string{m.URL()} }, func(*Main) []string { return nil }},
		{"ManagementAddr", []string{"AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1:0"},
			func(m *Main) []string { return []string{m.ManagementURL()} }, func(m *Main) []string { return []string{m.URL()} }},
		{"MetricsAddr", []string{"AUTHGATE_MANAGEMENT_ADDR", "127.0.0.1:0", "AUTHGATE_METRICS_ADDR", "127.0.0.1:0"},
			func(m *Main) []string { return []string{strings.TrimSuffix(m.MetricsURL(), "/metrics")} },
			func(m *Main) []string { return []string{m.URL(), m.ManagementURL()} }},
		{"MetricsAddrOneListener", []string{"AUTHGATE_METRICS_ADDR", "127.0.0.1:0"},
			func(m *Main) []string { return []string{strings.TrimSuffix(m.MetricsURL(), "/metrics")} },
			func(m *Main) []string { return []string{m.URL()} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := startMain(t, testEnv(url, c.extra...))
			for _, base := range c.on(m) {
				code, _, body := client{t: t}.call("GET", base+"/metrics", "", "")
				if code != 200 || !bytes.Contains(body, []byte("authgate_verify_decisions_total")) {
					t.Errorf("GET %s/metrics: %d; want 200 with the metrics", base, code)
				}
			}
			for _, base := range c.off(m) { // not through client.call: a 404 is no answer of the API's
				resp, err := http.Get(base + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 404 {
					t.Errorf("GET %s/metrics: %d; want 404", base, resp.StatusCode)
				}
			}
		})
	}
}

func TestConfig_MetricsAddr(t *testing.T) {
	for _, c := range []struct {
		name, addr string
		ok         bool
	}{
		{"Empty", "", true},
		{"OwnPort", "127.0.0.1:9090", true},
		{"NotHostPort", "9090", false},
		{"SameAsAddr", "127.0.0.1:8080", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadConfig(testEnv("postgres://x", "AUTHGATE_ADDR", "127.0.0.1:8080", "AUTHGATE_METRICS_ADDR", c.addr), true, true)
			if got := err == nil; got != c.ok {
				t.Fatalf("LoadConfig with AUTHGATE_METRICS_ADDR=%q: err %v; want ok %t", c.addr, err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "AUTHGATE_METRICS_ADDR") {
				t.Errorf("error %q does not name AUTHGATE_METRICS_ADDR", err)
			}
		})
	}
}

// TestMetrics_NotOnThePortalHost: with one listener, /metrics answers the
// management address but not the portal's host, which the shipped proxy
// configurations pass through to authgate whole.
func TestMetrics_NotOnThePortalHost(t *testing.T) {
	m := startMain(t, portalEnv(dbtest.URL(t)))
	get := func(host string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL()+"/metrics", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("auth.home.example"); code != 404 {
		t.Errorf("/metrics for the portal's host: %d; want 404", code)
	}
	if code := get("AUTH.home.example:443"); code != 404 {
		t.Errorf("/metrics for the portal's host with a port: %d; want 404", code)
	}
	if code := get("127.0.0.1"); code != 200 {
		t.Errorf("/metrics for the internal address: %d; want 200", code)
	}
}
