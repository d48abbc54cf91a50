package verify

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	b := &denyLogBudget{rate: 1}
	b.take(testNow, ReasonMalformed)
	if n := testing.AllocsPerRun(100, func() { b.take(testNow, ReasonMalformed) }); n != 0 {
		t.Errorf("take over the budget: %v allocs; want 0", n)
	}
}
