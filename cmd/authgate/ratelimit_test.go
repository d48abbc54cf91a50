package main

import (
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
)

// absorbed finds the requests an instance charged itself with in its debug log.
var absorbed = regexp.MustCompile(`"msg":"rate limit exchange","rows":\d+,"requests":(\d+)`)

// TestMain_RateLimitAcrossInstances: two instances share a route's rate
// limit through Postgres. A client spread over both gets at most one burst
// per instance at once (the documented bound), and once the instances have
// exchanged counts, what one admitted is refused by the other.
func TestMain_RateLimitAcrossInstances(t *testing.T) {
	env := testEnv(dbtest.URL(t), "AUTHGATE_RATE_SYNC_INTERVAL", "100ms")
	key := bootstrap(t, env)
	var logsB syncBuffer
	a := client{t, startMain(t, env).URL()}
	b := client{t, startMain(t, env, &logsB).URL()}
	verifyAt := func(c client, route string) int {
		t.Helper()
		code, _, _ := c.call("GET", "/auth-request?"+route, key, "", "X-Original-Method", "GET", "X-Original-URI", "/export")
		return code
	}

	// Converged: three through A, then B, having heard, refuses.
	const converge = "rate=6/m&burst=3"
	for i := range 3 {
		if code := verifyAt(a, converge); code != 200 {
			t.Fatalf("request %d through A: %d", i+1, code)
		}
	}
	heard := func() int { // the requests of A that B has charged itself with
		n := 0
		for _, m := range absorbed.FindAllStringSubmatch(logsB.String(), -1) {
			k, _ := strconv.Atoi(m[1])
			n += k
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); heard() < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := heard(); n != 3 {
		t.Fatalf("B charged itself with %d of A's 3 requests", n)
	}
	if code := verifyAt(b, converge); code != 403 {
		t.Errorf("through B after A used the burst: %d; want 403 (nginx's 429)", code)
	}

	// Spread: both instances at once, on another route. At most a burst
	// each passes (2 × 3), then the exchange stops the rest.
	const spread = "burst=3&rate=6/m"
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for _, c := range []client{a, b} {
		wg.Go(func() {
			for range 20 {
				if verifyAt(c, spread) == 200 {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if allowed < 3 || allowed > 6 {
		t.Errorf("spread over two instances, %d of 40 passed; want 3 to 6 (a burst per instance at most)", allowed)
	}
	t.Logf("spread over two instances: %d of 40 passed (limit: bursts of 3, 6 a minute)", allowed)
}

// TestMain_KeyRateLimit: a key created with its own rate limit is refused
// over it on every route (429 through /forward-auth), and a change through
// the API reaches the verify path at once (the change is announced).
func TestMain_KeyRateLimit(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	a := client{t, startMain(t, env).URL()}
	id, key := a.createKey(admin, `{"name":"exporter","rate_limit":{"requests":2,"window_seconds":3600}}`)
	verifyAt := func(route string) int {
		t.Helper()
		code, _, _ := a.call("GET", "/forward-auth?"+route, key, "", "X-Forwarded-Method", "GET",
			"X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example", "X-Forwarded-Uri", "/export")
		return code
	}
	for i, route := range []string{"", "rate=100/m", ""} { // the key's own limit holds on every route
		code := verifyAt(route)
		if want := map[bool]int{true: 200, false: 429}[i < 2]; code != want {
			t.Fatalf("request %d: %d; want %d", i+1, code, want)
		}
	}
	if code, _, body := a.call("DELETE", "/v1/keys/"+id+"/rate-limit", admin, ""); code != 200 {
		t.Fatalf("clear the limit: %d %s", code, body)
	}
	passed := false
	for deadline := time.Now().Add(10 * time.Second); !passed && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		passed = verifyAt("") == 200
	}
	if !passed {
		t.Error("the key stayed limited after its limit was removed")
	}
}
