package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/usage"
	"github.com/authgate/authgate/verify"
)

// memKeys is a verify.KeyStore holding one key in memory: enough for the
// handler benchmark, whose key is cached after the first request.
type memKeys struct{ rec verify.KeyRecord }

var _ verify.KeyStore = (*memKeys)(nil)

func (s *memKeys) KeyByLookupID(_ context.Context, lookupID string) (verify.KeyRecord, error) {
	if lookupID != s.rec.LookupID {
		return verify.KeyRecord{}, verify.ErrNotFound
	}
	return s.rec, nil
}

func (s *memKeys) KeysTouch(context.Context, []string, time.Time) error { return nil }

// nopWriter is a ResponseWriter that keeps only the header map, so the
// benchmark measures the handler and not a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// benchHandler returns the verify handler with observer (none when nil) and
// a /forward-auth subrequest with a valid key and a scope check.
func benchHandler(b *testing.B, observer verify.Observer, query ...string) (*echo.Echo, *http.Request) {
	b.Helper()
	hasher, err := verify.NewHasher(map[int16][]byte{1: []byte("bench-mac-key-0123456789abcdef!!")}, 1)
	if err != nil {
		b.Fatal(err)
	}
	key := verify.NewKey(verify.PrefixAPIKey)
	version, mac := hasher.Sum(key.Secret)
	store := &memKeys{rec: verify.KeyRecord{ID: "key_bench", LookupID: key.LookupID, Subject: "bench", Name: "bench",
		Scopes: []string{"events:read"}, SecretMAC: mac, MACVersion: version}}
	log := slog.New(slog.DiscardHandler)
	v, err := verify.NewVerifier(store, hasher, verify.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	verify.NewHandler(v, log, verify.HandlerOptions{Observer: observer}).Register(e)
	target := "/forward-auth?scope=events:read"
	if len(query) > 0 {
		target = "/forward-auth?" + query[0]
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header = http.Header{
		"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"},
		"X-Forwarded-Uri": {"/events"}, "X-Api-Key": {key.Reveal()},
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r) // warm the cache, and check the answer once
	if rec.Code != http.StatusOK {
		b.Fatalf("status = %d; want 200", rec.Code)
	}
	return e, r
}

func runHandler(b *testing.B, e *echo.Echo, r *http.Request) {
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, r)
	}
}

// BenchmarkHandler_ForwardAuthCached is the verify hot path (a cached key
// with a scope check) without an observer: the baseline of the next.
func BenchmarkHandler_ForwardAuthCached(b *testing.B) {
	e, r := benchHandler(b, nil)
	runHandler(b, e, r)
}

// BenchmarkHandler_ForwardAuthCachedMetrics is the same with Metrics
// observing every answer: the cost of the metrics on the hot path.
func BenchmarkHandler_ForwardAuthCachedMetrics(b *testing.B) {
	m := New()
	e, r := benchHandler(b, m)
	runHandler(b, e, r)
	b.StopTimer()
	series := `authgate_verify_decisions_total{endpoint="forward_auth",kind="api_key",outcome="allow",reason="none"}`
	if got := scrape(b, m.Handler())[series]; got < float64(b.N) {
		b.Fatalf("%s = %v; want at least %d", series, got, b.N)
	}
}

// BenchmarkHandler_ForwardAuthCachedMetricsRateLimited adds a route rate
// limit (never reached) to the previous: the hot path as a production route
// with both runs it.
func BenchmarkHandler_ForwardAuthCachedMetricsRateLimited(b *testing.B) {
	e, r := benchHandler(b, New(), "scope=events:read&rate=1000000/s")
	runHandler(b, e, r)
}

// BenchmarkObserve_Parallel is Observe alone, from every core at once, each
// with a Decision of its own as the handler's pool gives them: run it with
// -cpu 1,2,4,… to see whether the counters scale.
func BenchmarkObserve_Parallel(b *testing.B) {
	m := New()
	var slots atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := &verify.Decision{Endpoint: verify.EndpointForwardAuth, Outcome: verify.OutcomeAllow, Kind: verify.KindAPIKey,
			CredentialID: "key_bench", Elapsed: 800 * time.Nanosecond, Slot: slots.Add(1) - 1}
		for pb.Next() {
			m.Observe(d)
		}
	})
}

// nopUsageStore is a usage.Store that keeps nothing: the counter's flushes
// are not what the next benchmark measures.
type nopUsageStore struct{}

func (nopUsageStore) UsageAdd(context.Context, []issue.UsageCount) error { return nil }

// BenchmarkHandler_ParallelOneKeyObserved is the verify hot path as the server
// runs it, with the metrics and the usage counter observing every answer,
// from every core at once for one busy key: the worst case for anything
// shared between cores (run it with -cpu 1,2,4,…).
func BenchmarkHandler_ParallelOneKeyObserved(b *testing.B) {
	e, r := benchHandler(b, Tee(New(), usage.NewCounter(nopUsageStore{}, usage.Options{})))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := r.Clone(r.Context())
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			e.ServeHTTP(w, r)
		}
	})
}
