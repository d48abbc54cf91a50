package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

type jwtCase struct {
	name    string
	token   string
	wantErr error // nil: the token is admitted
}

// jwtCases are tokens an attacker, a buggy client or a clock can produce, and
// what authgate must make of each. Every refusal is a 401.
func jwtCases(t testing.TB, f *jwtFixture) []jwtCase {
	t.Helper()
	es := func(edit func(*AccessClaims)) string { return f.token(t, edit) }
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(testNow.Add(d)) }
	withHeader := func(name string, value any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, testClaims(nil))
		tok.Header["typ"], tok.Header["kid"], tok.Header[name] = TypAccessToken, kidES256, value
		s, err := tok.SignedString(f.es256)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := es(nil)
	segs := strings.Split(valid, ".")
	forged, _ := json.Marshal(testClaims(func(c *AccessClaims) { c.Subject, c.Scope = "usr_admin", "authgate:admin" }))
	sig := []byte(segs[2])
	if mid := len(sig) / 2; sig[mid] == 'A' { // another base64url character in the middle
		sig[mid] = 'B'
	} else {
		sig[mid] = 'A'
	}
	none := signJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kidES256, TypAccessToken, testClaims(nil))
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: f.es256PublicDER(t)})
	leeway := defaultLeeway

	return []jwtCase{
		{"ValidES256", valid, nil},
		{"ValidEdDSA", signJWT(t, jwt.SigningMethodEdDSA, f.eddsa, kidEdDSA, TypAccessToken, testClaims(nil)), nil},
		{"ValidHS256", signJWT(t, jwt.SigningMethodHS256, f.hs256, kidHS256, TypAccessToken, testClaims(nil)), nil},
		{"ValidWithoutScopes", es(func(c *AccessClaims) { c.Scope, c.Roles = "", nil }), nil},
		{"ExpiredWithinLeeway", es(func(c *AccessClaims) { c.ExpiresAt = at(-leeway + time.Second) }), nil},
		{"IssuedAheadWithinLeeway", es(func(c *AccessClaims) { c.IssuedAt = at(leeway - time.Second) }), nil},

		{"AlgNone", none, errUnknownShape}, // an empty signature is not even JWT-shaped
		{"AlgNoneWithASignature", none + "c2ln", ErrBadSignature},
		{"AlgUnknown", withHeader("alg", "XS999"), ErrMalformed},
		{"KeyConfusionHS256WithES256PublicKeyDER",
			signJWT(t, jwt.SigningMethodHS256, f.es256PublicDER(t), kidES256, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"KeyConfusionHS256WithES256PublicKeyPEM",
			signJWT(t, jwt.SigningMethodHS256, pemKey, kidES256, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"EdDSAKeyWithES256Alg", signJWT(t, jwt.SigningMethodES256, f.es256, kidEdDSA, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"ES256KeyWithEdDSAAlg", signJWT(t, jwt.SigningMethodEdDSA, f.eddsa, kidES256, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"HS256KeyWithES256Alg", signJWT(t, jwt.SigningMethodES256, f.stranger, kidHS256, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"UnknownKid", signJWT(t, jwt.SigningMethodES256, f.stranger, "es256-unknown", TypAccessToken, testClaims(nil)), ErrUnknownSigningKey},
		{"KnownKidOtherKey", signJWT(t, jwt.SigningMethodES256, f.stranger, kidES256, TypAccessToken, testClaims(nil)), ErrBadSignature},
		{"MissingKid", signJWT(t, jwt.SigningMethodES256, f.es256, "", TypAccessToken, testClaims(nil)), errNoKid},
		{"KidNotAString", withHeader("kid", 42), errNoKid},
		{"WrongTyp", signJWT(t, jwt.SigningMethodES256, f.es256, kidES256, "JWT", testClaims(nil)), errWrongTyp},
		{"MissingTyp", signJWT(t, jwt.SigningMethodES256, f.es256, kidES256, "", testClaims(nil)), errWrongTyp},
		{"CritHeader", withHeader("crit", []string{"exp"}), errCrit},
		{"EmbeddedJWKIgnored", withHeader("jwk", map[string]string{"kty": "oct", "k": "c2VjcmV0"}), nil},

		{"Expired", es(func(c *AccessClaims) { c.ExpiresAt = at(-leeway) }), ErrExpired},
		{"NotYetValid", es(func(c *AccessClaims) { c.NotBefore = at(leeway + time.Second) }), ErrInvalidClaims},
		{"IssuedInTheFuture", es(func(c *AccessClaims) { c.IssuedAt = at(leeway + time.Second) }), ErrInvalidClaims},
		{"WrongAudience", es(func(c *AccessClaims) { c.Audience = jwt.ClaimStrings{"another-service"} }), ErrInvalidClaims},
		{"NoAudience", es(func(c *AccessClaims) { c.Audience = nil }), ErrInvalidClaims},
		{"AudienceAmongOthers", es(func(c *AccessClaims) { c.Audience = jwt.ClaimStrings{"other", testAudience} }), nil},
		{"WrongIssuer", es(func(c *AccessClaims) { c.Issuer = "https://evil.example" }), ErrInvalidClaims},
		{"NoIssuer", es(func(c *AccessClaims) { c.Issuer = "" }), ErrInvalidClaims},
		{"MissingExp", es(func(c *AccessClaims) { c.ExpiresAt = nil }), ErrInvalidClaims},
		{"MissingSid", es(func(c *AccessClaims) { c.SessionID = "" }), ErrInvalidClaims},
		{"MissingSub", es(func(c *AccessClaims) { c.Subject = "" }), ErrInvalidClaims},
		{"MissingJti", es(func(c *AccessClaims) { c.ID = "" }), ErrInvalidClaims},
		{"InvalidScope", es(func(c *AccessClaims) { c.Scope = `events:read "quoted"` }), ErrInvalidClaims},
		{"DoubleSpaceInScope", es(func(c *AccessClaims) { c.Scope = "events:read  cameras:stream" }), ErrInvalidClaims},
		{"InvalidRole", es(func(c *AccessClaims) { c.Roles = []string{"viewer", "has space"} }), ErrInvalidClaims},
		{"RevokedSession", es(func(c *AccessClaims) { c.SessionID = "ses_revoked" }), ErrRevoked},

		{"Oversized", es(func(c *AccessClaims) { c.Scope = strings.Repeat("events:read ", 400) + "x" }), errTooLong},
		{"GarbageSegments", "abc.def.ghi", ErrMalformed},
		{"JSONButNotAToken", b64("{}") + "." + b64("{}") + "." + b64("sig"), ErrMalformed},
		{"TwoSegments", segs[0] + "." + segs[1], errUnknownShape},
		{"FourSegments", valid + ".e30", errUnknownShape},
		{"EmptyPayload", segs[0] + ".." + segs[2], errUnknownShape},
		{"Padded", valid + "=", errUnknownShape},
		{"StandardBase64", strings.Replace(valid, segs[0][:2], "+/", 1), errUnknownShape},
		{"TamperedPayload", segs[0] + "." + b64(string(forged)) + "." + segs[2], ErrBadSignature},
		{"TamperedSignature", segs[0] + "." + segs[1] + "." + string(sig), ErrBadSignature},
		{"RefreshToken", NewKey(PrefixRefreshToken).Reveal(), errRefreshToken},
		{"PersonalTokenNotEnabled", NewKey(PrefixPersonalToken).Reveal(), errTokensDisabled},
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// notFoundStore is a KeyStore holding no keys.
func notFoundStore() *fakeStore {
	return &fakeStore{KeyByLookupIDFunc: func(context.Context, string) (KeyRecord, error) {
		return KeyRecord{}, ErrNotFound
	}}
}

func TestJWT_Authenticate(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	store := notFoundStore()
	v := newTestVerifierJWT(t, store, fixedClock(testNow), f.options())
	for _, tc := range jwtCases(t, f) {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Authenticate err = %v; want %v", err, tc.wantErr)
			}
			if err != nil {
				if status, code := Status(err); p != nil || status != 401 || code != CodeInvalidToken {
					t.Fatalf("Authenticate = %v, %v (%d %s); want no principal and 401 invalid_token", p, err, status, code)
				}
				return
			}
			if p == nil || p.Kind != KindJWT || p.Subject != "usr_alice" {
				t.Fatalf("Authenticate = %+v; want alice's principal", p)
			}
		})
	}
	if got := store.lookups.Load(); got != 0 {
		t.Fatalf("key store lookups for JWTs = %d; want 0", got)
	}
}

func TestJWT_Principal(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	v := newTestVerifierJWT(t, notFoundStore(), fixedClock(testNow), f.options())
	p, err := v.Authenticate(context.Background(), f.token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Kind: KindJWT, Subject: "usr_alice", User: "alice", Email: "alice@example.com",
		Roles: []string{"operator", "viewer"}, Scopes: []string{"cameras:stream", "events:read"}, SessionID: "ses_alice"}
	if p.Kind != want.Kind || p.Subject != want.Subject || p.User != want.User || p.Email != want.Email ||
		p.KeyID != "" || p.KeyName != "" || p.SessionID != want.SessionID ||
		!slices.Equal(p.Roles, want.Roles) || !slices.Equal(p.Scopes, want.Scopes) {
		t.Fatalf("principal = %+v; want %+v", *p, want)
	}
	h := make(map[string][]string)
	p.WriteHeaders(h)
	for name, value := range map[string]string{
		HeaderSubject: "usr_alice", HeaderKind: "jwt", HeaderKeyID: "", HeaderKeyName: "",
		HeaderScopes: "cameras:stream events:read", HeaderUser: "alice", HeaderEmail: "alice@example.com",
		HeaderRoles: "operator viewer",
	} {
		if got := h[name]; len(got) != 1 || got[0] != value {
			t.Errorf("header %s = %q; want [%q]", name, got, value)
		}
	}
	if len(h) != len(IdentityHeaders) {
		t.Errorf("WriteHeaders set %d headers; want the %d identity headers only", len(h), len(IdentityHeaders))
	}
}

// A token seen before costs no key lookup and no signature check, until
// CacheTTL or its exp, whichever is first.
func TestJWT_CacheSkipsVerification(t *testing.T) {
	now := testNow
	clock := func() time.Time { return now }
	f := newJWTFixture(t, clock)
	v := newTestVerifierJWT(t, notFoundStore(), clock, f.options())
	ctx := context.Background()
	long := f.token(t, nil)                                                                                                    // exp in 14 min
	short := f.token(t, func(c *AccessClaims) { c.ID, c.ExpiresAt = "jti_2", jwt.NewNumericDate(testNow.Add(5*time.Second)) }) // exp in 5 s

	steps := []struct {
		name        string
		at          time.Duration
		token       string
		wantLookups int64
		wantErr     error
	}{
		{"FirstUse", 0, long, 1, nil},
		{"Repeated", 0, long, 1, nil},
		{"JustInsideCacheTTL", 10*time.Second - time.Nanosecond, long, 1, nil},
		{"AtCacheTTL", 10 * time.Second, long, 2, nil},
		{"CachedAgain", 11 * time.Second, long, 2, nil},
		{"ShortFirstUse", 0, short, 3, nil},
		{"ShortJustBeforeExp", 5*time.Second - time.Nanosecond, short, 3, nil},
		{"ShortAtExpWithinLeeway", 5 * time.Second, short, 4, nil},
		{"ShortPastExpNotCached", 6 * time.Second, short, 5, nil},
		{"ShortPastLeeway", 35 * time.Second, short, 6, ErrExpired},
	}
	for _, s := range steps {
		now = testNow.Add(s.at)
		if _, err := v.Authenticate(ctx, s.token); !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v; want %v", s.name, err, s.wantErr)
		}
		if got := f.keys.lookups.Load(); got != s.wantLookups {
			t.Fatalf("%s: key lookups = %d; want %d", s.name, got, s.wantLookups)
		}
	}
}

func TestJWT_RevokedSessionEvenWhenCached(t *testing.T) {
	now := testNow
	clock := func() time.Time { return now }
	f := newJWTFixture(t, clock)
	v := newTestVerifierJWT(t, notFoundStore(), clock, f.options())
	ctx := context.Background()
	tok := f.token(t, nil)
	if _, err := v.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.deny.Add("ses_alice", testNow.Add(20*time.Minute))
	if p, err := v.Authenticate(ctx, tok); !errors.Is(err, ErrRevoked) || p != nil {
		t.Fatalf("cached token of a revoked session = %v, %v; want ErrRevoked", p, err)
	}
	if got := f.keys.lookups.Load(); got != 1 {
		t.Fatalf("key lookups = %d; want 1 (the refusal came from the cache and the deny list)", got)
	}
	other := f.token(t, func(c *AccessClaims) { c.ID = "jti_other" })
	if _, err := v.Authenticate(ctx, other); !errors.Is(err, ErrRevoked) {
		t.Fatalf("another token of the revoked session: err = %v; want ErrRevoked", err)
	}
}

func TestJWT_ForgetAllDropsTokens(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	v := newTestVerifierJWT(t, notFoundStore(), fixedClock(testNow), f.options())
	tok := f.token(t, nil)
	v.Authenticate(context.Background(), tok)
	delete(f.keys.keys, kidES256) // the signing key is retired, and the verifier told
	v.ForgetAll()
	if _, err := v.Authenticate(context.Background(), tok); !errors.Is(err, ErrUnknownSigningKey) {
		t.Fatalf("after the key is gone and ForgetAll: err = %v; want ErrUnknownSigningKey", err)
	}
}

func TestJWT_Disabled(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	v := newTestVerifier(t, notFoundStore(), fixedClock(testNow))
	_, err := v.Authenticate(context.Background(), f.token(t, nil))
	if !errors.Is(err, errJWTDisabled) {
		t.Fatalf("err = %v; want %v", err, errJWTDisabled)
	}
	if status, _ := Status(err); status != 401 {
		t.Fatalf("status = %d; want 401", status)
	}
}

func TestNewVerifier_JWTOptions(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	tests := []struct {
		name    string
		edit    func(*JWTOptions)
		wantErr bool
	}{
		{"Complete", func(*JWTOptions) {}, false},
		{"NoIssuer", func(o *JWTOptions) { o.Issuer = "" }, true},
		{"NoAudience", func(o *JWTOptions) { o.Audience = "" }, true},
		{"NoKeys", func(o *JWTOptions) { o.Keys = nil }, true},
		{"NoDenyList", func(o *JWTOptions) { o.Revoked = nil }, true},
		{"NegativeLeeway", func(o *JWTOptions) { o.Leeway = -time.Second }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := f.options()
			tt.edit(o)
			_, err := NewVerifier(notFoundStore(), testHasher(t), Options{JWT: o})
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewVerifier err = %v; want an error: %t", err, tt.wantErr)
			}
		})
	}
}

// A token's scopes are judged against the route exactly as a key's are.
func TestHandler_JWTScopes(t *testing.T) {
	f := newJWTFixture(t, fixedClock(testNow))
	e := echo.New()
	NewHandler(newTestVerifierJWT(t, notFoundStore(), fixedClock(testNow), f.options()),
		slog.New(slog.DiscardHandler), HandlerOptions{}).Register(e)
	tokens := map[string]string{}
	for name, scope := range map[string]string{"None": "", "Reader": "events:read", "Both": "events:read cameras:stream"} {
		tokens[name] = f.token(t, func(c *AccessClaims) { c.Scope = scope })
	}
	tests := []struct {
		token, route string
		want         int
	}{
		{"None", "", 200},
		{"None", "scope=events:read", 403},
		{"Reader", "", 200},
		{"Reader", "scope=events:read", 200},
		{"Reader", "scope=events:read&scope=cameras:stream", 403},
		{"Reader", "scope=cameras:stream", 403},
		{"Both", "scope=events:read", 200},
		{"Both", "scope=events:read&scope=cameras:stream", 200},
		{"Both", "scope=admin:write", 403},
		{"Both", "scope=events", 403}, // no prefix matching
	}
	for _, tt := range tests {
		t.Run(tt.token+"/"+strings.NewReplacer("scope=", "", "&", "+", ":", "-").Replace(tt.route), func(t *testing.T) {
			r := httptest.NewRequest("GET", "/forward-auth?"+tt.route, nil)
			r.Header.Set("X-Forwarded-Method", "GET")
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "app.example")
			r.Header.Set("X-Forwarded-Uri", "/events")
			r.Header.Set("Authorization", "Bearer "+tokens[tt.token])
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d; want %d (%s)", w.Code, tt.want, w.Body)
			}
		})
	}
}

// FuzzJWT checks that no input panics, every refusal is a 401, and nothing
// is admitted that a trusted key did not sign.
func FuzzJWT(f *testing.F) {
	fx := newJWTFixture(f, fixedClock(testNow))
	v := newTestVerifierJWT(f, notFoundStore(), fixedClock(testNow), fx.options())
	for _, tc := range jwtCases(f, fx) {
		f.Add(tc.token)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Authenticate(context.Background(), token)
		if err != nil {
			if status, _ := Status(err); status != 401 || p != nil {
				t.Fatalf("Authenticate(%q) = %v, %v (status %d); want a 401 and no principal", token, p, err, status)
			}
			return
		}
		if p.Kind != KindJWT || !fx.signedByTrustedKey(token) {
			t.Fatalf("Authenticate admitted %q, which no trusted key signed", token)
		}
		if fx.deny.Revoked(p.SessionID) {
			t.Fatalf("Authenticate admitted %q, of revoked session %s", token, p.SessionID)
		}
	})
}

// signedByTrustedKey checks the signature the way RFC 7515 states it, with the
// standard library only: by the key the kid names, in that key's algorithm.
func (f *jwtFixture) signedByTrustedKey(token string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	input := token[:i]
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return false
	}
	head, _, _ := strings.Cut(input, ".")
	hb, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Kid string `json:"kid"`
	}
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return false
	}
	switch h.Kid {
	case kidES256:
		d := sha256.Sum256([]byte(input))
		return len(sig) == 64 &&
			ecdsa.Verify(&f.es256.PublicKey, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case kidEdDSA:
		return ed25519.Verify(f.eddsa.Public().(ed25519.PublicKey), []byte(input), sig)
	case kidHS256:
		m := hmac.New(sha256.New, f.hs256)
		m.Write([]byte(input))
		return hmac.Equal(m.Sum(nil), sig)
	}
	return false
}

func TestJWT_StaleDenyListFailsClosed(t *testing.T) {
	now := testNow
	clock := func() time.Time { return now }
	f := newJWTFixture(t, clock)
	v := newTestVerifierJWT(t, notFoundStore(), clock, f.options())
	ctx := context.Background()
	tok := f.token(t, nil)
	f.deny.TrustUntil(testNow.Add(15 * time.Second)) // the feed read the revocations just now
	if _, err := v.Authenticate(ctx, tok); err != nil {
		t.Fatalf("with a current deny-list: %v; want the token allowed", err)
	}
	now = testNow.Add(16 * time.Second) // and has not managed to since
	_, err := v.Authenticate(ctx, tok)
	if status, code := Status(err); status != 500 || code != CodeServerError {
		t.Fatalf("with a stale deny-list: %v (%d %s); want a 500 server_error, never an allow", err, status, code)
	}
	f.deny.TrustUntil(now.Add(15 * time.Second)) // it reads them again
	if _, err := v.Authenticate(ctx, tok); err != nil {
		t.Fatalf("once current again: %v; want the token allowed", err)
	}
}

// revokedOnly is a deny list that cannot tell whether it is up to date.
type revokedOnly struct{}

func (revokedOnly) RevokedAt(string, time.Time) bool { return false }

// fixedDenyList is a deny list other than DenyList, revoking nothing.
type fixedDenyList struct{ current bool }

func (fixedDenyList) RevokedAt(string, time.Time) bool { return false }
func (l fixedDenyList) CurrentAt(time.Time) bool       { return l.current }

// The staleness check cannot be left out by accident: a list that cannot say
// whether it is current is no SessionDenyList, and any list that can is asked.
func TestJWT_DenyListMustSayWhetherCurrent(t *testing.T) {
	if _, ok := any(revokedOnly{}).(SessionDenyList); ok {
		t.Fatal("a list without CurrentAt is a SessionDenyList; want it to need CurrentAt")
	}
	f := newJWTFixture(t, fixedClock(testNow))
	for _, tt := range []struct {
		name       string
		list       fixedDenyList
		wantStatus int
	}{
		{"Current", fixedDenyList{current: true}, 200},
		{"Stale", fixedDenyList{current: false}, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := f.options()
			o.Revoked = tt.list
			v := newTestVerifierJWT(t, notFoundStore(), fixedClock(testNow), o)
			status := 200
			if _, err := v.Authenticate(context.Background(), f.token(t, nil)); err != nil {
				status, _ = Status(err)
			}
			if status != tt.wantStatus {
				t.Fatalf("status = %d; want %d", status, tt.wantStatus)
			}
		})
	}
}
