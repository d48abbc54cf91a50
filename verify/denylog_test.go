package verify

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestHandler_DenyLogBounded: in a flood, the first DenyLogRate denies of a
// second are logged in full (with their request ids), the rest only counted
// by reason, and the first deny of a later second writes the summary.
func TestHandler_DenyLogBounded(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	now := testNow
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := NewHandler(newTestVerifierAll(t, keys, func() time.Time { return now }, nil), log, HandlerOptions{DenyLogRate: 3})
	e := echo.New()
	h.Register(e)
	deny := func(cred string) string {
		r := httptest.NewRequest(http.MethodGet, "/auth-request", nil)
		r.Header = http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/"}, "X-Api-Key": {cred}}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w.Header().Get("X-Request-Id")
	}
	var ids []string
	for range 8 {
		ids = append(ids, deny("agk_garbage"))
	}
	ids = append(ids, deny(keys.creds["wrong-secret"]), deny(keys.creds["revoked"]))
	lines := func() []map[string]any {
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			out = append(out, m)
		}
		return out
	}
	got := lines()
	if len(got) != 3 {
		t.Fatalf("%d lines in the flood's second; want 3 (the limit)", len(got))
	}
	for i, l := range got {
		if l["msg"] != "deny" || l["request_id"] != ids[i] {
			t.Errorf("line %d = %v; want the deny of request %s", i, l, ids[i])
		}
	}
	now = now.Add(time.Second)
	last := deny(keys.creds["revoked"])
	got = lines()
	if len(got) != 5 {
		t.Fatalf("%d lines after the second passed; want the summary and the new deny", len(got))
	}
	sum, by := got[3], got[3]["by_reason"].(map[string]any)
	if sum["msg"] != "deny log suppressed" || sum["suppressed"] != 7.0 || by["malformed"] != 5.0 ||
		by["wrong_secret"] != 1.0 || by["revoked"] != 1.0 {
		t.Errorf("summary = %v", sum)
	}
	if got[4]["request_id"] != last {
		t.Errorf("the next second's deny was not logged in full: %v", got[4])
	}
}

func TestDenyLogBudget_TakeDoesNotAllocate(t *testing.T) {
	b := newDenyLogBudget(1)
	b.take(testNow, ReasonMalformed, 0)
	if n := testing.AllocsPerRun(100, func() { b.take(testNow, ReasonMalformed, Stripes-1) }); n != 0 {
		t.Errorf("take over the budget: %v allocs; want 0", n)
	}
}

// Denies suppressed on every stripe, from many goroutines at once, all reach
// the next second's summary, by reason; the full lines never exceed the rate.
func TestDenyLogBudget_SummarySumsTheStripes(t *testing.T) {
	const rate, goroutines, each = 3, 8, 500
	b := newDenyLogBudget(rate)
	var full atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				reason := ReasonMalformed
				if i%5 == 0 {
					reason = ReasonRevoked
				}
				if ok, sum := b.take(testNow, reason, (g+i)%Stripes); ok {
					full.Add(1)
				} else if sum != nil {
					t.Errorf("a summary within the second: %v", sum)
				}
			}
		})
	}
	wg.Wait()
	if full.Load() != rate {
		t.Fatalf("%d full lines in one second; want the rate, %d", full.Load(), rate)
	}
	ok, sum := b.take(testNow.Add(time.Second), ReasonMalformed, 0)
	if !ok || sum == nil {
		t.Fatalf("the next second's first deny: full %t, summary %v; want a full line after a summary", ok, sum)
	}
	got := map[string]int64{}
	for _, a := range sum {
		if a.Key == "by_reason" {
			for _, r := range a.Value.Group() {
				got[r.Key] = r.Value.Int64()
			}
			continue
		}
		got[a.Key] = a.Value.Int64()
	}
	revoked := int64(goroutines * each / 5)
	want := map[string]int64{"suppressed": goroutines*each - rate, "seconds": 1, "limit_per_second": rate,
		"revoked": revoked, "malformed": goroutines*each - rate - revoked}
	// The rate's full lines went to whichever reasons came first: only the
	// total and the sum of both are exact.
	if got["suppressed"] != want["suppressed"] || got["revoked"]+got["malformed"] != want["suppressed"] ||
		got["revoked"] > revoked || got["revoked"] < revoked-rate || got["limit_per_second"] != rate {
		t.Errorf("summary = %v; want about %v", got, want)
	}
}
