package verify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestVerifier_AuthenticateSession(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	v, err := NewVerifier(keys.store(), testHasher(t), Options{Now: fixedClock(testNow), Sessions: keys.sessionOptions(nil)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cred    string
		wantErr error
	}{
		{"Active", keys.creds["session-active"], nil},
		{"Expired", keys.creds["session-expired"], ErrExpired},
		{"Revoked", keys.creds["session-revoked"], ErrRevoked},
		{"EndedOnDenyList", keys.creds["session-ended"], ErrRevoked},
		{"UserDisabled", keys.creds["session-user-disabled"], ErrDisabled},
		{"WrongSecret", keys.creds["session-wrong-secret"], ErrWrongSecret},
		{"Unknown", keys.creds["session-unknown"], ErrUnknownKey},
		{"Malformed", "ags_x", ErrMalformed},
		{"KeyWithTheSessionsLookupID", keys.creds["active"], nil}, // the key store's, not the session's
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tt.cred)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (p != nil) {
				t.Fatalf("Authenticate = %v, %v; want %v", p, err, tt.wantErr)
			}
		})
	}
	p, _ := v.Authenticate(context.Background(), keys.creds["session-active"])
	want := Principal{Kind: KindSession, Subject: "usr_alice", User: "alice", Email: "alice@example.com",
		Roles: []string{"operator", "viewer"}, Scopes: []string{"cameras:stream", "events:read"}, SessionID: "ses_active"}
	if p.Kind != want.Kind || p.Subject != want.Subject || p.User != want.User || p.Email != want.Email ||
		p.KeyID != "" || p.KeyName != "" || p.SessionID != want.SessionID ||
		!slices.Equal(p.Roles, want.Roles) || !slices.Equal(p.Scopes, want.Scopes) {
		t.Fatalf("principal = %+v; want %+v", p, want)
	}
}

func TestVerifier_SessionsDisabled(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	v := newTestVerifier(t, keys.store(), fixedClock(testNow))
	if _, err := v.Authenticate(context.Background(), keys.creds["session-active"]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v; want ErrMalformed", err)
	}
	if _, err := v.authenticateCookie(context.Background(), http.Header{"Cookie": {testCookie + "=" + keys.creds["session-active"]}}, "app.example", v.now()); err != ErrNoCredential {
		t.Fatalf("cookie err = %v; want ErrNoCredential", err)
	}
}

func TestNewVerifier_SessionOptions(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	for _, tt := range []struct {
		name string
		edit func(*SessionOptions)
	}{
		{"NoStore", func(o *SessionOptions) { o.Store = nil }},
		{"NoDenyList", func(o *SessionOptions) { o.Revoked = nil }},
		{"NoCookie", func(o *SessionOptions) { o.Cookie = "" }},
		{"BadCookieName", func(o *SessionOptions) { o.Cookie = "a session" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := keys.sessionOptions(nil)
			tt.edit(o)
			if _, err := NewVerifier(keys.store(), testHasher(t), Options{Sessions: o}); err == nil {
				t.Fatal("NewVerifier accepted the options; want an error")
			}
		})
	}
}

// A cached session is served without the store, but asked of the deny list
// on every use: a sign-out takes effect at once. ForgetAll drops it.
func TestVerifier_SessionCache(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	store := keys.sessionStore()
	var down atomic.Bool
	inner := store.SessionByCookieFunc
	store.SessionByCookieFunc = func(ctx context.Context, id string) (SessionRecord, error) {
		if down.Load() {
			return SessionRecord{}, errors.New("connection refused")
		}
		return inner(ctx, id)
	}
	now := testNow
	v, err := NewVerifier(keys.store(), testHasher(t), Options{Now: func() time.Time { return now },
		Sessions: keys.sessionOptions(store)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cred := context.Background(), keys.creds["session-active"]
	use := func(wantErr error) {
		t.Helper()
		if _, err := v.Authenticate(ctx, cred); !errors.Is(err, wantErr) {
			t.Fatalf("Authenticate err = %v; want %v", err, wantErr)
		}
	}
	use(nil)
	down.Store(true)
	use(nil) // Postgres is down: the cached session still passes, as a key would
	if got := store.lookups.Load(); got != 1 {
		t.Fatalf("store reads = %d; want 1", got)
	}
	v.ForgetAll()
	_, err = v.Authenticate(ctx, cred)
	if status, _ := Status(err); status != http.StatusInternalServerError {
		t.Fatalf("after ForgetAll with the store down err = %v (status %d); want a 500 (fail closed)", err, status)
	}
	down.Store(false)
	use(nil)
	for range 10 {
		v.Authenticate(ctx, keys.creds["session-unknown"])
	}
	if got := store.lookups.Load(); got != 4 {
		t.Fatalf("store reads = %d; want 4 (an unknown cookie is read once)", got)
	}
	keys.ended.Add("ses_active", testNow.Add(time.Hour))
	use(ErrRevoked)
	if got := store.lookups.Load(); got != 4 {
		t.Fatalf("store reads = %d; want 4: the deny list is asked, not the store", got)
	}
}

// sessionHandler returns a handler with the fixture's sessions and a portal,
// logging to log.
func sessionHandler(t testing.TB, keys *fixtureKeys, log *slog.Logger) *echo.Echo {
	t.Helper()
	v, err := NewVerifier(keys.store(), testHasher(t), Options{Now: fixedClock(testNow),
		Logger: slog.New(slog.DiscardHandler), Sessions: keys.sessionOptions(nil)})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	NewHandler(v, log, HandlerOptions{Portal: fakePortal{}}).Register(e)
	return e
}

func sessionRequest(path, cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header = http.Header{
		"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"},
		"X-Forwarded-Uri": {"/events"}, "X-Forwarded-For": {"203.0.113.7"},
		"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Cookie": {"theme=dark; " + testCookie + "=" + cookie + "; lang=en"},
	}
	return r
}

// The allow path of a cached session cookie: reading the cookie, the cache,
// the deny list and the identity headers cost no allocation.
func TestHandler_CachedSessionDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		skipOrFail(t, "allocation counts mean nothing under the race detector; scripts/test.sh runs the *DoesNotAllocate tests without -race")
	}
	keys := newFixtureKeys(t, testHasher(t))
	e := sessionHandler(t, keys, slog.New(slog.DiscardHandler))
	r := sessionRequest("/forward-auth?scope=events:read", keys.creds["session-active"])
	w := &nopWriter{h: http.Header{}}
	e.ServeHTTP(w, r) // warm the cache
	if got := w.h.Get(HeaderKind); got != string(KindSession) {
		t.Fatalf("X-Auth-Kind = %q; want session", got)
	}
	if n := testing.AllocsPerRun(100, func() { clear(w.h); e.ServeHTTP(w, r) }); n != 0 {
		t.Fatalf("allocs per cached session allow = %v; want 0", n)
	}
}

// Log lines name a session by its id, never by its cookie, and say why a
// cookie was refused.
func TestHandler_LogsSessionNotCookie(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	for _, tt := range []struct {
		name, path, cookie string
		want               []string
	}{
		{"LacksScope", "/forward-auth?scope=cameras:stream", "session-reader",
			[]string{"session_id=ses_reader", "subject=usr_bob", "redirect=denied", "status=302"}},
		{"Ended", "/auth-request?scope=events:read", "session-ended",
			[]string{"level=INFO", "the session ended", "redirect=login", "status=401"}},
		{"WrongSecret", "/forward-auth", "session-wrong-secret", []string{"level=INFO", "wrong secret", "redirect=login"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := sessionHandler(t, keys, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
			r := sessionRequest(tt.path, keys.creds[tt.cookie])
			r.Header["X-Original-Method"], r.Header["X-Original-Uri"] = []string{"GET"}, []string{"/events"}
			e.ServeHTTP(httptest.NewRecorder(), r)
			line := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("log %q does not hold %q", line, w)
				}
			}
			if k, _ := ParseKey(PrefixSession, keys.creds[tt.cookie]); strings.Contains(line, k.Secret) {
				t.Errorf("log %q holds the cookie's secret", line)
			}
		})
	}
}
