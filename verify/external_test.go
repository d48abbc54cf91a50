package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

// The external issuer the fixture tokens come from (a CI system), and its kids.
const (
	extIssuer   = "https://ci.example"
	extAudience = "https://auth.example"
	kidExtRSA   = "ci-rsa-1"
	kidExtEC    = "ci-ec-1"
)

// fakeExternalKeys is an ExternalKeys over a map, counting lookups.
type fakeExternalKeys struct {
	keys    map[string]any
	lookups atomic.Int64
}

func (k *fakeExternalKeys) Key(_ context.Context, kid, _ string) (any, error) {
	k.lookups.Add(1)
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	return nil, errors.New("no such kid")
}

// extFixture is an external issuer: an RSA and an EC key it signs with.
type extFixture struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	keys *fakeExternalKeys
}

func newExtFixture(t testing.TB) *extFixture {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &extFixture{rsa: rk, ec: ek, keys: &fakeExternalKeys{keys: map[string]any{
		kidExtRSA: &rk.PublicKey, kidExtEC: &ek.PublicKey}}}
}

// issuer is how an operator would configure the CI system: only its own
// organisation's repositories, read access for all, deploy for one.
func (f *extFixture) issuer() ExternalIssuer {
	return ExternalIssuer{ID: "ci", Issuer: extIssuer, Audiences: []string{extAudience, "other-aud"},
		Algorithms: []string{"RS256"}, Keys: f.keys, Require: map[string]string{"repository_owner": "acme"},
		Scopes:      []string{"events:read"},
		ClaimScopes: []ClaimScopes{{Claim: "repository", Value: "acme/site", Scopes: []string{"deploy:write"}}},
		UserClaim:   "actor"}
}

// claims are a valid token's, issued a minute before testNow, changed by edit.
func extClaims(edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": extIssuer, "aud": extAudience, "sub": "repo:acme/site:ref:refs/heads/main",
		"exp": testNow.Add(5 * time.Minute).Unix(), "iat": testNow.Add(-time.Minute).Unix(),
		"repository": "acme/site", "repository_owner": "acme", "actor": "octocat"}
	if edit != nil {
		edit(c)
	}
	return c
}

func (f *extFixture) token(t testing.TB, edit func(jwt.MapClaims)) string {
	t.Helper()
	return signJWT(t, jwt.SigningMethodRS256, f.rsa, kidExtRSA, "JWT", extClaims(edit))
}

func newExtVerifier(t testing.TB, f *extFixture, own *JWTOptions) *Verifier {
	t.Helper()
	v, err := NewVerifier(notFoundStore(), testHasher(t), Options{Now: fixedClock(testNow),
		Logger: slog.New(slog.DiscardHandler), JWT: own, External: []ExternalIssuer{f.issuer()}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExternalJWT_Admitted(t *testing.T) {
	f := newExtFixture(t)
	own := newJWTFixture(t, fixedClock(testNow))
	v := newExtVerifier(t, f, own.options())
	p, err := v.Authenticate(context.Background(), f.token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindExternalJWT || p.Subject != "ext:ci:repo:acme/site:ref:refs/heads/main" || p.User != "ext:ci:octocat" ||
		strings.Join(p.Scopes, " ") != "deploy:write events:read" || p.SessionID != "" {
		t.Errorf("principal = %+v", p)
	}
	// Another repository of the organisation: the common scope only.
	p, err = v.Authenticate(context.Background(), f.token(t, func(c jwt.MapClaims) { c["repository"] = "acme/blog" }))
	if err != nil || strings.Join(p.Scopes, " ") != "events:read" {
		t.Errorf("other repository: %v, %v", p, err)
	}
	// authgate's own tokens still pass beside it.
	if p, err := v.Authenticate(context.Background(), own.token(t, nil)); err != nil || p.Kind != KindJWT {
		t.Errorf("own token: %v, %v", p, err)
	}
}

func TestExternalJWT_Refused(t *testing.T) {
	f := newExtFixture(t)
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"other audience", f.token(t, func(c jwt.MapClaims) { c["aud"] = "https://another.example" }), ErrInvalidClaims},
		{"no audience", f.token(t, func(c jwt.MapClaims) { delete(c, "aud") }), ErrInvalidClaims},
		{"expired", f.token(t, func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Minute).Unix() }), ErrExpired},
		{"no exp", f.token(t, func(c jwt.MapClaims) { delete(c, "exp") }), ErrInvalidClaims},
		{"issued in the future", f.token(t, func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() }), ErrInvalidClaims},
		{"not yet valid", f.token(t, func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Hour).Unix() }), ErrInvalidClaims},
		{"untrusted issuer", f.token(t, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), ErrInvalidClaims},
		{"no issuer", f.token(t, func(c jwt.MapClaims) { delete(c, "iss") }), ErrMalformed},
		{"other organisation", f.token(t, func(c jwt.MapClaims) { c["repository_owner"] = "evil" }), ErrInvalidClaims},
		{"required claim missing", f.token(t, func(c jwt.MapClaims) { delete(c, "repository_owner") }), ErrInvalidClaims},
		{"required claim not a string", f.token(t, func(c jwt.MapClaims) { c["repository_owner"] = map[string]any{"x": "acme"} }), ErrInvalidClaims},
		{"no sub", f.token(t, func(c jwt.MapClaims) { delete(c, "sub") }), ErrInvalidClaims},
		{"signed by a stranger", signJWT(t, jwt.SigningMethodRS256, stranger, kidExtRSA, "JWT", extClaims(nil)), ErrBadSignature},
		{"unknown kid", signJWT(t, jwt.SigningMethodRS256, stranger, "made-up", "JWT", extClaims(nil)), ErrUnknownSigningKey},
		{"no kid", signJWT(t, jwt.SigningMethodRS256, f.rsa, "", "JWT", extClaims(nil)), ErrMalformed},
		{"alg not allowed for the issuer", signJWT(t, jwt.SigningMethodES256, f.ec, kidExtEC, "JWT", extClaims(nil)), ErrBadSignature},
		{"alg none", unsignedJWT(t, kidExtRSA, extClaims(nil)), ErrMalformed},
		{"HS256 over the public key", signJWT(t, jwt.SigningMethodHS256, []byte("whatever"), kidExtRSA, "JWT", extClaims(nil)), ErrBadSignature},
		{"crit header", critJWT(t, f), ErrMalformed},
		{"payload not JSON", "eyJhbGciOiJSUzI1NiJ9." + b64("not json") + ".c2ln", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newExtVerifier(t, f, nil)
			p, err := v.Authenticate(context.Background(), tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, %v; want %v", p, err, tc.want)
			}
			if status, _ := Status(err); status != http.StatusUnauthorized {
				t.Errorf("status = %d; want 401", status)
			}
		})
	}
}

func unsignedJWT(t testing.TB, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func critJWT(t testing.TB, f *extFixture) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, extClaims(nil))
	tok.Header["kid"], tok.Header["crit"] = kidExtRSA, []string{"exp"}
	s, err := tok.SignedString(f.rsa)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExternalJWT_CachedUntilExp(t *testing.T) {
	f := newExtFixture(t)
	now := testNow
	v, err := NewVerifier(notFoundStore(), testHasher(t), Options{Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler), External: []ExternalIssuer{f.issuer()}, CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.token(t, nil) // exp: testNow + 5 min
	for range 3 {
		if _, err := v.Authenticate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.keys.lookups.Load(); n != 1 {
		t.Errorf("key lookups = %d; want 1 (then cached)", n)
	}
	now = testNow.Add(5*time.Minute + defaultLeeway + time.Second)
	if _, err := v.Authenticate(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after exp: %v; want ErrExpired (the cache never outlives exp)", err)
	}
}

func TestExternalIssuer_Validate(t *testing.T) {
	f := newExtFixture(t)
	own := newJWTFixture(t, fixedClock(testNow))
	for _, tc := range []struct {
		name string
		edit func(*ExternalIssuer)
		want string
	}{
		{"bad id", func(x *ExternalIssuer) { x.ID = "CI!" }, "id:"},
		{"no issuer", func(x *ExternalIssuer) { x.Issuer = "" }, "issuer:"},
		{"no audience", func(x *ExternalIssuer) { x.Audiences = nil }, "audience:"},
		{"empty audience", func(x *ExternalIssuer) { x.Audiences = []string{""} }, "audience:"},
		{"no algorithms", func(x *ExternalIssuer) { x.Algorithms = nil }, "algorithms:"},
		{"HS256", func(x *ExternalIssuer) { x.Algorithms = []string{"HS256"} }, `"HS256" is not allowed`},
		{"none", func(x *ExternalIssuer) { x.Algorithms = []string{"none"} }, `"none" is not allowed`},
		{"bad scope", func(x *ExternalIssuer) { x.Scopes = []string{"has space"} }, "scopes:"},
		{"bad claim scope", func(x *ExternalIssuer) { x.ClaimScopes[0].Scopes = nil }, "claim_scopes:"},
		{"empty require", func(x *ExternalIssuer) { x.Require = map[string]string{"x": ""} }, "require:"},
		{"own issuer", func(x *ExternalIssuer) { x.Issuer = testIssuer }, "authgate's own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := f.issuer()
			tc.edit(&x)
			_, err := NewVerifier(notFoundStore(), testHasher(t), Options{JWT: own.options(), External: []ExternalIssuer{x}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "external issuer") {
				t.Errorf("err = %v; want one naming %q", err, tc.want)
			}
		})
	}
	twice := []ExternalIssuer{f.issuer(), f.issuer()}
	twice[1].ID = "ci2"
	if _, err := NewVerifier(notFoundStore(), testHasher(t), Options{External: twice}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("an issuer twice: %v", err)
	}
}

// TestExternalJWT_OwnRefusedWithoutJWT: with external issuers only, a token
// naming authgate's issuer is not trusted.
func TestExternalJWT_OwnRefusedWithoutJWT(t *testing.T) {
	f := newExtFixture(t)
	own := newJWTFixture(t, fixedClock(testNow))
	v := newExtVerifier(t, f, nil)
	if _, err := v.Authenticate(context.Background(), own.token(t, nil)); !errors.Is(err, ErrInvalidClaims) {
		t.Errorf("own token without JWT options: %v; want ErrInvalidClaims", err)
	}
}

func TestHandler_ExternalJWT(t *testing.T) {
	f := newExtFixture(t)
	e := echo.New()
	NewHandler(newExtVerifier(t, f, nil), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	for _, tc := range []struct {
		path  string
		token string
		want  int
	}{
		{"/auth-request?scope=deploy:write", f.token(t, nil), http.StatusOK},
		{"/auth-request?scope=deploy:write", f.token(t, func(c jwt.MapClaims) { c["repository"] = "acme/blog" }), http.StatusForbidden},
		{"/auth-request", f.token(t, func(c jwt.MapClaims) { c["aud"] = "x" }), http.StatusUnauthorized},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		r.Header.Set("Authorization", "Bearer "+tc.token)
		r.Header.Set("X-Original-Uri", "/deploy")
		r.Header.Set("X-Original-Method", "POST")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d; want %d: %s", tc.path, rec.Code, tc.want, rec.Body)
		}
		if tc.want == http.StatusOK && (rec.Header().Get(HeaderKind) != "external_jwt" ||
			rec.Header().Get(HeaderSubject) != "ext:ci:repo:acme/site:ref:refs/heads/main" || rec.Header().Get(HeaderUser) != "ext:ci:octocat") {
			t.Errorf("identity headers: %v", rec.Header())
		}
	}
}

// BenchmarkHandler_ExternalJWTCached is the hot path for a machine with an
// external issuer's token, seen before: compare BenchmarkHandler_JWTCached.
// The verifier admits authgate's own JWTs too, as a real configuration does.
func BenchmarkHandler_ExternalJWTCached(b *testing.B) {
	f := newExtFixture(b)
	own := newJWTFixture(b, fixedClock(testNow))
	e := echo.New()
	NewHandler(newExtVerifier(b, f, own.options()), slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	r := httptest.NewRequest(http.MethodGet, "/forward-auth?scope=events:read", nil)
	r.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host": {"app.example"}, "X-Forwarded-Uri": {"/events"}, "X-Forwarded-For": {"203.0.113.7"},
		"Authorization": {"Bearer " + f.token(b, nil)}}
	runHandler(b, e, r, http.StatusOK)
}

// BenchmarkExternalJWT_VerifyUncached is what an external token costs the
// first time it is seen: its iss read, the RS256 signature checked, the
// claims mapped.
func BenchmarkExternalJWT_VerifyUncached(b *testing.B) {
	f := newExtFixture(b)
	v := newExtVerifier(b, f, nil)
	tok := f.token(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.jwt.verify(context.Background(), tok, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
