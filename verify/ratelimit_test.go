package verify

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		rate, burst string
		want        RateRule
		err         string
	}{
		{"100/m", "", RateRule{100, time.Minute, 100}, ""},
		{"10/s", "20", RateRule{10, time.Second, 20}, ""},
		{"5/10s", "1", RateRule{5, 10 * time.Second, 1}, ""},
		{"1000/h", "", RateRule{1000, time.Hour, 1000}, ""},
		{"100", "", RateRule{}, "requests/window"},
		{"0/m", "", RateRule{}, "from 1 to"},
		{"-1/m", "", RateRule{}, "from 1 to"},
		{"1/ms", "", RateRule{}, "window must be s, m, h"},
		{"1/500ms", "", RateRule{}, "from 1s to 24h"},
		{"1/48h", "", RateRule{}, "from 1s to 24h"},
		{"10/m", "0", RateRule{}, "burst"},
		{"10/m", "x", RateRule{}, "burst"},
		{"99999999/m", "", RateRule{}, "from 1 to"},
	} {
		got, err := ParseRate(tc.rate, tc.burst)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRate(%q, %q) = %v, %v; want error with %q", tc.rate, tc.burst, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseRate(%q, %q) = %v, %v; want %v", tc.rate, tc.burst, got, err, tc.want)
		}
	}
}

// TestLimiter_GCRA: a burst passes at once, then one request per interval;
// each credential and each rule has its own bucket.
func TestLimiter_GCRA(t *testing.T) {
	now := testNow
	l := NewLimiter(1000, func() time.Time { return now })
	rule := RateRule{Requests: 6, Window: time.Minute, Burst: 3} // one per 10 s, 3 at once
	for i := range 3 {
		if v := l.Allow("key_a", "q", rule); !v.Allowed || v.Remaining != 2-i {
			t.Fatalf("request %d of the burst: %+v", i+1, v)
		}
	}
	v := l.Allow("key_a", "q", rule)
	if v.Allowed || v.RetryAfter != 10*time.Second {
		t.Fatalf("over the burst: %+v; want refused, retry after 10s", v)
	}
	if v := l.Allow("key_b", "q", rule); !v.Allowed {
		t.Error("another credential shares the bucket")
	}
	if v := l.Allow("key_a", "another route", rule); !v.Allowed {
		t.Error("another verify URL shares the bucket")
	}
	if v := l.Allow("key_a", "q", RateRule{Requests: 100, Window: time.Minute, Burst: 100}); !v.Allowed {
		t.Error("another rule shares the bucket")
	}
	now = now.Add(10 * time.Second)
	if v := l.Allow("key_a", "q", rule); !v.Allowed {
		t.Errorf("after one interval: %+v; want allowed", v)
	}
	if v := l.Allow("key_a", "q", rule); v.Allowed {
		t.Error("two after one interval")
	}
	now = now.Add(time.Hour)
	for i := range 3 {
		if v := l.Allow("key_a", "q", rule); !v.Allowed {
			t.Fatalf("after an idle hour, request %d: refused; want the whole burst", i+1)
		}
	}
}

// TestLimiter_Bounded: the limiter never holds more cells than its bound.
func TestLimiter_Bounded(t *testing.T) {
	l := NewLimiter(limiterShards*4, fixedClock(testNow))
	rule := RateRule{Requests: 10, Window: time.Second, Burst: 10}
	for i := range 10_000 {
		l.Allow("key_"+strconv.Itoa(i), "q", rule)
	}
	if n := l.Len(); n > limiterShards*4 {
		t.Errorf("cells = %d; want at most %d", n, limiterShards*4)
	}
}

// TestLimiter_Concurrent: concurrent requests of one credential never pass
// more than the burst (run with -race).
func TestLimiter_Concurrent(t *testing.T) {
	l := NewLimiter(1000, fixedClock(testNow))
	rule := RateRule{Requests: 50, Window: time.Hour, Burst: 50}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if l.Allow("key_a", "q", rule).Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("allowed %d of 800 concurrent requests; want exactly the burst, 50", allowed)
	}
}

func TestLimiter_AllowDoesNotAllocate(t *testing.T) {
	l := NewLimiter(1000, fixedClock(testNow))
	rule := RateRule{Requests: 1_000_000, Window: time.Second, Burst: 1_000_000}
	l.Allow("key_a", "q", rule)
	if n := testing.AllocsPerRun(100, func() { l.Allow("key_a", "q", rule) }); n != 0 {
		t.Errorf("Allow: %v allocs; want 0", n)
	}
}

// TestHandler_RateLimit: over a route's limit, /forward-auth answers 429
// with Retry-After and the RateLimit headers, /auth-request a 403 with the
// same headers (nginx turns it into a 429); other credentials pass.
func TestHandler_RateLimit(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	e := echo.New()
	NewHandler(newTestVerifierAll(t, keys, fixedClock(testNow), nil), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	call := func(path, cred string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header = http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/x"}, "X-Forwarded-Method": {"GET"},
			"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/x"},
			"X-Api-Key": {keys.creds[cred]}}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	for _, ep := range []struct {
		path string
		over int
	}{{"/forward-auth?rate=2/m", 429}, {"/auth-request?rate=2/m&scope=events:read", 403}} {
		for i := range 2 {
			if w := call(ep.path, "active"); w.Code != 200 {
				t.Fatalf("%s request %d: %d", ep.path, i+1, w.Code)
			}
		}
		w := call(ep.path, "active")
		if w.Code != ep.over || w.Header().Get("Retry-After") != "30" ||
			w.Header().Get("RateLimit") != `"route";r=0;t=30` || w.Header().Get("RateLimit-Policy") != `"route";q=2;w=60` ||
			w.Header().Get("X-Auth-Subject") != "" {
			t.Errorf("%s over the limit: %d %v", ep.path, w.Code, w.Header())
		}
		if ep.over == 429 && !strings.Contains(w.Body.String(), `"error":"rate_limited"`) {
			t.Errorf("body = %s", w.Body)
		}
		if w := call(ep.path, "token-active"); w.Code != 200 {
			t.Errorf("another credential on the same route: %d", w.Code)
		}
	}
	if w := call("/auth-request?burst=2", "active"); w.Code != 500 {
		t.Errorf("burst without rate: %d; want 500 (misconfigured)", w.Code)
	}
}

// TestLimiter_DrainAbsorb: what one instance admitted, charged to another,
// leaves the other only the rest of the burst; draining empties the share.
func TestLimiter_DrainAbsorb(t *testing.T) {
	a, b := NewLimiter(1000, fixedClock(testNow)), NewLimiter(1000, fixedClock(testNow))
	rule := RateRule{Requests: 6, Window: time.Minute, Burst: 3}
	a.Allow("key_a", "q", rule)
	a.Allow("key_a", "q", rule)
	counts := a.Drain()
	if len(counts) != 1 || counts[0] != (RateCount{"key_a", "q", rule, 2}) {
		t.Fatalf("Drain = %+v", counts)
	}
	if again := a.Drain(); len(again) != 0 {
		t.Errorf("second Drain = %+v; want nothing new", again)
	}
	b.Absorb(counts)
	if v := b.Allow("key_a", "q", rule); !v.Allowed || v.Remaining != 0 {
		t.Fatalf("b after absorbing 2 of 3: %+v; want one allowed, none remaining", v)
	}
	if v := b.Allow("key_a", "q", rule); v.Allowed {
		t.Error("b allowed a fourth request")
	}
	if d := b.Drain(); len(d) != 1 || d[0].N != 1 {
		t.Errorf("b's own share = %+v; want only the one it admitted", d)
	}
	b.Absorb([]RateCount{{"key_c", "q", rule, 1000}})
	if v := b.Allow("key_c", "q", rule); v.Allowed || v.RetryAfter > 10*time.Second {
		t.Errorf("after a huge absorb: %+v; want refused for at most one interval", v)
	}
}

// TestHandler_OwnRateLimit: a key's own limit holds on every route, beside
// the route's, and its 429 names the credential's policy.
func TestHandler_OwnRateLimit(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	e := echo.New()
	NewHandler(newTestVerifierAll(t, keys, fixedClock(testNow), nil), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	call := func(path string, cred ...string) *httptest.ResponseRecorder {
		name := "limited"
		if len(cred) > 0 {
			name = cred[0]
		}
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
			"X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/x"}, "X-Api-Key": {keys.creds[name]}}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	if w := call("/forward-auth?scope=events:read"); w.Code != 200 {
		t.Fatalf("first: %d", w.Code)
	}
	if w := call("/forward-auth?rate=100/m"); w.Code != 200 { // another route: the same budget
		t.Fatalf("second, on another route: %d", w.Code)
	}
	w := call("/forward-auth")
	if w.Code != 429 || w.Header().Get("RateLimit-Policy") != `"credential";q=2;w=60` || w.Header().Get("Retry-After") != "30" ||
		!strings.Contains(w.Body.String(), "this credential's rate limit") {
		t.Errorf("third: %d %v %s", w.Code, w.Header(), w.Body)
	}
	// A personal token's own limit, the same way.
	if w := call("/forward-auth", "token-limited"); w.Code != 200 {
		t.Errorf("the token's first: %d", w.Code)
	}
	if w := call("/forward-auth", "token-limited"); w.Code != 429 {
		t.Errorf("the token's second: %d; want 429", w.Code)
	}
}

func TestParseRate_Refusals(t *testing.T) {
	for _, tc := range []struct{ rate, burst, want string }{
		{"1/24h", "1000000", "longer than 24h"},
		{"10/1.5s", "", "whole seconds"},
	} {
		if _, err := ParseRate(tc.rate, tc.burst); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRate(%q, %q) = %v; want %q", tc.rate, tc.burst, err, tc.want)
		}
	}
	if (RateRule{Requests: 1, Window: 24 * time.Hour, Burst: 1_000_000}).Valid() {
		t.Error("a rule whose burst takes 2700 years to refill is valid")
	}
}
