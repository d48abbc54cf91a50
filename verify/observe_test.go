package verify

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// recorder is an Observer keeping a copy of every decision.
type recorder struct{ got []Decision }

func (r *recorder) Observe(d *Decision) { r.got = append(r.got, *d) }

// observed serves one subrequest through a handler with an observer and
// returns what the observer was told.
func observed(t *testing.T, keys *fixtureKeys, path, cred string, hdr map[string]string) Decision {
	t.Helper()
	rec := &recorder{}
	e := echo.New()
	NewHandler(newTestVerifierAll(t, keys, fixedClock(testNow), nil), slog.New(slog.DiscardHandler),
		HandlerOptions{Observer: rec}).Register(e)
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("X-Original-Method", "GET")
	r.Header.Set("X-Original-Uri", "/events")
	r.Header.Set("X-Forwarded-Method", "GET")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "app.example")
	r.Header.Set("X-Forwarded-Uri", "/events")
	if cred != "" {
		r.Header.Set("X-Api-Key", keys.creds[cred])
	}
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	e.ServeHTTP(httptest.NewRecorder(), r)
	if len(rec.got) != 1 {
		t.Fatalf("observer told %d times; want 1", len(rec.got))
	}
	return rec.got[0]
}

func TestHandler_Observer(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	for _, tc := range []struct {
		name, path, cred string
		hdr              map[string]string
		want             Decision
	}{
		{"allow", "/forward-auth?scope=events:read", "active", nil,
			Decision{Endpoint: EndpointForwardAuth, Outcome: OutcomeAllow, Reason: ReasonNone, Kind: KindAPIKey, CredentialID: "key_active"}},
		{"wrong secret names the key", "/auth-request", "wrong-secret", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonWrongSecret, Kind: KindAPIKey, CredentialID: "key_active"}},
		{"revoked", "/auth-request", "revoked", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonRevoked, Kind: KindAPIKey, CredentialID: "key_revoked"}},
		{"missing scope", "/auth-request?scope=admin", "active", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonMissingScope, Kind: KindAPIKey, CredentialID: "key_active"}},
		{"unknown key: no id", "/auth-request", "unknown", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonUnknown, Kind: KindAPIKey}},
		{"personal token expired", "/auth-request", "token-expired", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonExpired, Kind: KindPersonalToken, CredentialID: "tok_expired"}},
		{"static key: no id", "/auth-request", "static-home-assistant", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeAllow, Kind: KindStaticKey}},
		{"no credential", "/auth-request", "", nil,
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonNoCredential}},
		{"garbage", "/auth-request", "", map[string]string{"X-Api-Key": "agk_garbage"},
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonMalformed, Kind: KindAPIKey}},
		{"proxy misconfigured", "/auth-request", "active", map[string]string{"X-Original-Method": ""},
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeError, Reason: ReasonMisconfigured}},
		{"bad path", "/auth-request", "active", map[string]string{"X-Original-Uri": "/../etc"},
			Decision{Endpoint: EndpointAuthRequest, Outcome: OutcomeDeny, Reason: ReasonBadPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := observed(t, keys, tc.path, tc.cred, tc.hdr)
			if got.Elapsed <= 0 {
				t.Errorf("Elapsed = %v", got.Elapsed)
			}
			if !got.At.Equal(testNow) {
				t.Errorf("At = %v; want the verifier's clock, %v", got.At, testNow)
			}
			got.Elapsed, got.At = 0, time.Time{}
			if got != tc.want {
				t.Errorf("decision = %+v; want %+v", got, tc.want)
			}
		})
	}
}

// countingObserver counts, allocating nothing.
type countingObserver struct{ n int }

func (o *countingObserver) Observe(*Decision) { o.n++ }

// TestHandler_ObserverDoesNotAllocate: telling an observer costs a cached
// allow no allocation.
func TestHandler_ObserverDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		skipOrFail(t, "allocation counts mean nothing under the race detector; scripts/test.sh runs the *DoesNotAllocate tests without -race")
	}
	keys := newFixtureKeys(t, testHasher(t))
	obs := &countingObserver{}
	e := echo.New()
	NewHandler(newTestVerifierAll(t, keys, fixedClock(testNow), nil), slog.New(slog.DiscardHandler),
		HandlerOptions{Observer: obs}).Register(e)
	r := httptest.NewRequest(http.MethodGet, "/auth-request?scope=events:read", nil)
	r.Header = http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/events"}, "X-Api-Key": {keys.creds["active"]}}
	w := &nopWriter{h: http.Header{}}
	e.ServeHTTP(w, r)
	if allocs := testing.AllocsPerRun(100, func() { clear(w.h); e.ServeHTTP(w, r) }); allocs != 0 {
		t.Errorf("a cached allow with an observer: %v allocs; want 0", allocs)
	}
	if obs.n != 102 {
		t.Errorf("observer told %d times; want 102", obs.n)
	}
}

// TestHandler_DenyLineDoesNotAllocate: writing the JSON line of a deny
// allocates nothing beyond what the same deny allocates unlogged, but the
// text of a reason made for the request (a missing scope names it), so the
// log at normal rates stays cheap.
func TestHandler_DenyLineDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		skipOrFail(t, "allocation counts mean nothing under the race detector; scripts/test.sh runs the *DoesNotAllocate tests without -race")
	}
	keys := newFixtureKeys(t, testHasher(t))
	var lines countingWriter
	handler := func(log *slog.Logger) *echo.Echo {
		e := echo.New()
		NewHandler(newTestVerifierAll(t, keys, fixedClock(testNow), nil), log, HandlerOptions{DenyLogRate: 1 << 30}).Register(e)
		return e
	}
	logged, unlogged := handler(slog.New(slog.NewJSONHandler(&lines, nil))), handler(slog.New(slog.DiscardHandler))
	for name, c := range map[string]struct {
		cred  string
		extra float64 // allocations the line may add
	}{
		"Garbage":      {"agk_0000000000000000000000000000000000000000000000zzzz", 0},
		"MissingScope": {keys.creds["active"], 1}, // "missing scope admin:all"
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/auth-request?scope=admin:all", nil)
			r.Header = http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/events"}, "X-Api-Key": {c.cred},
				"X-Request-Id": {"5898f5c1aa9296986c551629fcb7fa1d"}}
			w := &nopWriter{h: http.Header{}}
			allocs := func(e *echo.Echo) float64 {
				e.ServeHTTP(w, r)
				return testing.AllocsPerRun(100, func() { clear(w.h); e.ServeHTTP(w, r) })
			}
			before := lines.n
			withLine, without := allocs(logged), allocs(unlogged)
			if withLine != without+c.extra {
				t.Errorf("a logged deny: %v allocs, unlogged %v; want the line to add %v", withLine, without, c.extra)
			}
			if lines.n-before != 102 {
				t.Errorf("%d deny lines written; want 102, one per deny", lines.n-before)
			}
		})
	}
}

// countingWriter counts the lines written to it, keeping none.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// With the wall clock (Options.Now nil), the handler's one clock read is the
// time the credential is judged at and the Decision's At.
func TestHandler_WallClockDecisionAt(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.store()
	v, err := NewVerifier(store, testHasher(t), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e := echo.New()
	NewHandler(v, slog.New(slog.DiscardHandler), HandlerOptions{Observer: rec}).Register(e)
	r := httptest.NewRequest(http.MethodGet, "/forward-auth", nil)
	r.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/events"}, "X-Api-Key": {keys.creds["active"]}}
	before := time.Now()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	after := time.Now()
	if w.Code != http.StatusOK || len(rec.got) != 1 {
		t.Fatalf("status %d, %d decisions; want 200 and 1", w.Code, len(rec.got))
	}
	if at := rec.got[0].At; at.Before(before) || at.After(after) {
		t.Fatalf("At = %v; want the wall clock, between %v and %v", at, before, after)
	}
}

func TestStripeCount(t *testing.T) {
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 16: 16, 17: 32, 64: maxStripes, 1000: maxStripes} {
		if got := stripeCount(n); got != want {
			t.Errorf("stripeCount(%d) = %d; want %d", n, got, want)
		}
	}
	// Every slot lands in range, consecutive ones on different stripes.
	for slot := range uint32(1000) {
		s := (&Decision{Slot: slot}).Stripe()
		if s < 0 || s >= Stripes {
			t.Fatalf("Stripe of slot %d = %d; want 0 <= s < %d", slot, s, Stripes)
		}
		if next := (&Decision{Slot: slot + 1}).Stripe(); Stripes > 1 && next == s {
			t.Fatalf("slots %d and %d share stripe %d", slot, slot+1, s)
		}
	}
}
