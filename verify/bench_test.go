package verify

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

// nopWriter is a ResponseWriter that keeps only the header map, so benchmarks
// measure the handler and not the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// benchRequest returns a handler accepting every fixture credential, with a
// portal, and a subrequest carrying the one named cred (keys, personal tokens
// and static keys in X-API-Key, JWTs as Bearer, sessions in the cookie of a
// browser's page load).
func benchRequest(b *testing.B, path, cred string, opts ...HandlerOptions) (*echo.Echo, *http.Request) {
	b.Helper()
	return benchRequestLog(b, slog.New(slog.DiscardHandler), path, cred, opts...)
}

// benchRequestLog is benchRequest with the handler logging to log.
func benchRequestLog(b *testing.B, log *slog.Logger, path, cred string, opts ...HandlerOptions) (*echo.Echo, *http.Request) {
	b.Helper()
	keys := newFixtureKeys(b, testHasher(b))
	tokens := newJWTFixture(b, fixedClock(testNow))
	e := echo.New()
	v := newTestVerifierAll(b, keys, fixedClock(testNow), tokens.options())
	o := HandlerOptions{Portal: fakePortal{}}
	if len(opts) > 0 {
		o = opts[0]
		o.Portal = fakePortal{}
	}
	NewHandler(v, log, o).Register(e)
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header = http.Header{
		"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"},
		"X-Forwarded-Uri": {"/events"}, "X-Forwarded-For": {"203.0.113.7"},
		"X-Original-Method": {"GET"}, "X-Original-Uri": {"/events"},
	}
	c, ok := keys.creds[cred]
	switch {
	case ok && strings.HasPrefix(cred, "session-"):
		r.Header["Accept"] = []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
		r.Header["Cookie"] = []string{"theme=dark; " + testCookie + "=" + c + "; lang=en"}
	case ok:
		r.Header["X-Api-Key"] = []string{c}
	}
	if c, ok := tokens.creds(b)[cred]; ok {
		r.Header["Authorization"] = []string{"Bearer " + c}
	}
	return e, r
}

func runHandler(b *testing.B, e *echo.Echo, r *http.Request, want int) {
	b.Helper()
	w := &nopWriter{h: http.Header{}}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r) // warm the cache, and check the answer once
	if rec.Code != want {
		b.Fatalf("status = %d; want %d", rec.Code, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, r)
	}
}

// BenchmarkHandler_ForwardAuthCached is the hot path: a valid, cached key with a scope check.
func BenchmarkHandler_ForwardAuthCached(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "active")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_ForwardAuthCachedRateLimited is the hot path with a rate
// limit on the route (never reached): the limiter's cell lookup and CAS.
func BenchmarkHandler_ForwardAuthCachedRateLimited(b *testing.B) {
	// The limiter's clock moves 1 µs per request, the rule's interval: the
	// limit is never reached, however fast the loop.
	var tick atomic.Int64
	clock := func() time.Time { return testNow.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
	e, r := benchRequest(b, "/forward-auth?scope=events:read&rate=1000000/s", "active",
		HandlerOptions{Limiter: NewLimiter(DefaultLimiterCells, clock)})
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_ForwardAuthCachedSession is the hot path for a browser: a
// valid, cached session cookie among others, with a scope check and the
// deny-list lookup.
func BenchmarkHandler_ForwardAuthCachedSession(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "session-active")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_ForwardAuthSignIn is a browser without a session sent to
// sign in: the portal builds the URL.
func BenchmarkHandler_ForwardAuthSignIn(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "session-none")
	r.Header["Accept"] = []string{"text/html"}
	runHandler(b, e, r, http.StatusFound)
}

func BenchmarkHandler_AuthRequestCached(b *testing.B) {
	e, r := benchRequest(b, "/auth-request?scope=events:read", "active")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_PersonalTokenCached is the hot path for a kiosk or a
// camera viewer: a valid, cached personal token with a scope check.
func BenchmarkHandler_PersonalTokenCached(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=cameras:stream", "token-active")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_StaticKey is a static key: one HMAC and a map lookup, no
// cache and no store.
func BenchmarkHandler_StaticKey(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "static-home-assistant")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_StaticKeyUnknown is a flood of wrong static-shaped keys.
func BenchmarkHandler_StaticKeyUnknown(b *testing.B) {
	e, r := benchRequest(b, "/auth-request", "static-unknown")
	runHandler(b, e, r, http.StatusUnauthorized)
}

// BenchmarkHandler_JWTCached is the hot path for a user: a valid access token
// seen before, with a scope check and the deny-list lookup.
func BenchmarkHandler_JWTCached(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "jwt-active")
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkHandler_JWTRevokedCached is a cached token whose session was revoked.
func BenchmarkHandler_JWTRevokedCached(b *testing.B) {
	e, r := benchRequest(b, "/auth-request", "jwt-revoked-session")
	runHandler(b, e, r, http.StatusUnauthorized)
}

// BenchmarkJWT_VerifyUncached is what a token costs the first time it is seen
// (and every CacheTTL after): decoding, the signature check, the claims and
// the principal.
func BenchmarkJWT_VerifyUncached(b *testing.B) {
	f := newJWTFixture(b, fixedClock(testNow))
	v := newTestVerifierJWT(b, notFoundStore(), fixedClock(testNow), f.options())
	for _, bc := range []struct {
		name string
		tok  string
	}{
		{"ES256", f.token(b, nil)},
		{"EdDSA", signJWT(b, jwt.SigningMethodEdDSA, f.eddsa, kidEdDSA, TypAccessToken, testClaims(nil))},
		{"HS256", signJWT(b, jwt.SigningMethodHS256, f.hs256, kidHS256, TypAccessToken, testClaims(nil))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.jwt.verify(context.Background(), bc.tok, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDenyList_Revoked(b *testing.B) {
	d := NewDenyList(fixedClock(testNow))
	for i := range 10_000 {
		d.Add("ses_"+strconv.Itoa(i), testNow.Add(time.Hour))
	}
	b.ReportAllocs()
	for b.Loop() {
		if d.Revoked("ses_alice") || !d.Revoked("ses_42") {
			b.Fatal("wrong answer")
		}
	}
}

// BenchmarkHandler_UnknownKeyCached is a flood of one unknown key: negative cache.
func BenchmarkHandler_UnknownKeyCached(b *testing.B) {
	e, r := benchRequest(b, "/auth-request", "unknown")
	runHandler(b, e, r, http.StatusUnauthorized)
}

// BenchmarkHandler_Garbage is a flood of junk credentials: refused on the checksum.
// BenchmarkHandler_GarbageWithRequestID is a flood of garbage through nginx,
// which sends its own X-Request-Id: the deny hands it back as it came.
func BenchmarkHandler_GarbageWithRequestID(b *testing.B) {
	e, r := benchRequest(b, "/auth-request", "")
	r.Header["X-Api-Key"] = []string{"agk_0000000000000000000000000000000000000000000000zzzz"}
	r.Header["X-Request-Id"] = []string{"5898f5c1aa9296986c551629fcb7fa1d"}
	runHandler(b, e, r, http.StatusUnauthorized)
}

func BenchmarkHandler_Garbage(b *testing.B) {
	e, r := benchRequest(b, "/auth-request", "")
	r.Header["X-Api-Key"] = []string{"agk_0000000000000000000000000000000000000000000000zzzz"}
	runHandler(b, e, r, http.StatusUnauthorized)
}

// BenchmarkHandler_GarbageLogged is BenchmarkHandler_GarbageWithRequestID
// with the deny line written (JSON, at the default level, to a discarding
// writer): what the README's promise of a line per deny costs at normal
// rates. The deny log budget is lifted so that every deny writes its line.
func BenchmarkHandler_GarbageLogged(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	e, r := benchRequestLog(b, log, "/auth-request", "", HandlerOptions{DenyLogRate: math.MaxInt32})
	r.Header["X-Api-Key"] = []string{"agk_0000000000000000000000000000000000000000000000zzzz"}
	r.Header["X-Request-Id"] = []string{"5898f5c1aa9296986c551629fcb7fa1d"}
	runHandler(b, e, r, http.StatusUnauthorized)
}

// BenchmarkHandler_GarbageFlood is the same with the default deny log
// budget: during a flood, past the first DefaultDenyLogRate denies of a
// second, a deny is counted for the summary line instead of written.
func BenchmarkHandler_GarbageFlood(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	e, r := benchRequestLog(b, log, "/auth-request", "")
	r.Header["X-Api-Key"] = []string{"agk_0000000000000000000000000000000000000000000000zzzz"}
	r.Header["X-Request-Id"] = []string{"5898f5c1aa9296986c551629fcb7fa1d"}
	runHandler(b, e, r, http.StatusUnauthorized)
}

func BenchmarkVerifier_AuthenticateCached(b *testing.B) {
	keys := newFixtureKeys(b, testHasher(b))
	v := newTestVerifier(b, keys.store(), fixedClock(testNow))
	cred := keys.creds["active"]
	ctx := context.Background()
	v.Authenticate(ctx, cred)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(ctx, cred); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifier_AuthenticateJWTCached(b *testing.B) {
	f := newJWTFixture(b, fixedClock(testNow))
	v := newTestVerifierJWT(b, notFoundStore(), fixedClock(testNow), f.options())
	tok := f.token(b, nil)
	ctx := context.Background()
	v.Authenticate(ctx, tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseKey(b *testing.B) {
	s := sampleKey.Reveal()
	b.ReportAllocs()
	for b.Loop() {
		ParseKey(PrefixAPIKey, s)
	}
}

func BenchmarkHasher_Equal(b *testing.B) {
	h := testHasher(b)
	v, mac := h.Sum(sampleKey.Secret)
	b.ReportAllocs()
	for b.Loop() {
		h.Equal(v, sampleKey.Secret, mac)
	}
}

// BenchmarkCleanPath: a path that is already clean costs a scan and no
// allocation; a dirty one costs one allocation, for the result.
func BenchmarkCleanPath(b *testing.B) {
	for _, bc := range []struct{ name, uri string }{
		{"Clean", "/api/v1/events/42?since=2030-01-01"},
		{"Dirty", "/public/..//api/v1/./events/caf%C3%A9%2F42?since=2030-01-01"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CleanPath(bc.uri); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandler_ParallelCached is the cached hot path from every core at
// once (run it with -cpu 1,2,4,8,16): /forward-auth with a scope check, each
// goroutine cycling through its own share of 4096 cached keys, as a proxy
// serving many clients does. How far it speeds up from -cpu 1 shows what
// serialises.
func BenchmarkHandler_ParallelCached(b *testing.B) {
	h := testHasher(b)
	const n = 4096
	records := make(map[string]KeyRecord, n)
	creds := make([]string, n)
	for i := range n {
		k := NewKey(PrefixAPIKey)
		v, mac := h.Sum(k.Secret)
		records[k.LookupID] = KeyRecord{ID: "key_" + strconv.Itoa(i), LookupID: k.LookupID, Subject: "s", Name: "n",
			Scopes: []string{"events:read"}, SecretMAC: mac, MACVersion: v}
		creds[i] = k.Reveal()
	}
	store := &fakeStore{KeyByLookupIDFunc: func(_ context.Context, id string) (KeyRecord, error) {
		if r, ok := records[id]; ok {
			return r, nil
		}
		return KeyRecord{}, ErrNotFound
	}}
	v, err := NewVerifier(store, h, Options{Now: fixedClock(testNow), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	NewHandler(v, slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	request := func(cred string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/forward-auth?scope=events:read", nil)
		r.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
			"X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/events"}, "X-Api-Key": {cred}}
		return r
	}
	reqs := make([]*http.Request, n)
	for i, c := range creds {
		reqs[i] = request(c)
		e.ServeHTTP(&nopWriter{h: http.Header{}}, reqs[i]) // warm the cache
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		i := int(next.Add(997)) % n
		for pb.Next() {
			clear(w.h)
			e.ServeHTTP(w, reqs[i])
			if i++; i == n {
				i = 0
			}
		}
	})
}

// BenchmarkHandler_ParallelOneKey is one busy key (a camera, a kiosk)
// verified from every core at once: every lookup finds the same cache entry,
// so anything a read locks or writes is shared by all cores.
func BenchmarkHandler_ParallelOneKey(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "active")
	runParallel(b, e, r)
}

// BenchmarkHandler_ParallelOneJWT is BenchmarkHandler_ParallelOneKey for an
// access token: one cached JWT from every core at once.
func BenchmarkHandler_ParallelOneJWT(b *testing.B) {
	e, r := benchRequest(b, "/forward-auth?scope=events:read", "jwt-active")
	runParallel(b, e, r)
}

// BenchmarkHandler_ParallelGarbageFlood is BenchmarkHandler_GarbageFlood from
// every core at once, without the proxy's request id (Traefik and Caddy send
// none): a flood of junk keys, each refused on its checksum, given a request
// id and counted against the deny log's budget.
func BenchmarkHandler_ParallelGarbageFlood(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	e, r := benchRequestLog(b, log, "/forward-auth", "")
	r.Header["X-Api-Key"] = []string{"agk_0000000000000000000000000000000000000000000000zzzz"}
	runParallel(b, e, r, http.StatusUnauthorized)
}

// runParallel serves r from every core at once, each goroutine with its own
// copy of the request, checking first that it is answered with want (200 when
// not given).
func runParallel(b *testing.B, e *echo.Echo, r *http.Request, want ...int) {
	b.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r) // warm the cache, and check the answer once
	w := http.StatusOK
	if len(want) > 0 {
		w = want[0]
	}
	if rec.Code != w {
		b.Fatalf("status = %d; want %d", rec.Code, w)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		r := r.Clone(r.Context())
		for pb.Next() {
			clear(w.h)
			e.ServeHTTP(w, r)
		}
	})
}

// BenchmarkBareEcho_Parallel is the ceiling of BenchmarkHandler_ParallelCached:
// an Echo handler answering 200 with no work, from every core at once.
func BenchmarkBareEcho_Parallel(b *testing.B) {
	e := echo.New()
	e.GET("/forward-auth", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	r := httptest.NewRequest(http.MethodGet, "/forward-auth?scope=events:read", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			e.ServeHTTP(w, r)
		}
	})
}
