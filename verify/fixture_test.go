package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeStore is a KeyStore and a TokenStore whose behaviour each test sets
// through Func fields.
type fakeStore struct {
	KeyByLookupIDFunc   func(ctx context.Context, lookupID string) (KeyRecord, error)
	KeysTouchFunc       func(ctx context.Context, ids []string, at time.Time) error
	TokenByLookupIDFunc func(ctx context.Context, lookupID string) (TokenRecord, error)
	TokensTouchFunc     func(ctx context.Context, ids []string, at time.Time) error
	lookups             atomic.Int64 // of keys
	tokenLookups        atomic.Int64
}

var (
	_ KeyStore   = (*fakeStore)(nil)
	_ TokenStore = (*fakeStore)(nil)
)

func (s *fakeStore) KeyByLookupID(ctx context.Context, lookupID string) (KeyRecord, error) {
	s.lookups.Add(1)
	return s.KeyByLookupIDFunc(ctx, lookupID)
}

func (s *fakeStore) KeysTouch(ctx context.Context, ids []string, at time.Time) error {
	if s.KeysTouchFunc == nil {
		return nil
	}
	return s.KeysTouchFunc(ctx, ids, at)
}

func (s *fakeStore) TokenByLookupID(ctx context.Context, lookupID string) (TokenRecord, error) {
	s.tokenLookups.Add(1)
	if s.TokenByLookupIDFunc == nil {
		return TokenRecord{}, ErrNotFound
	}
	return s.TokenByLookupIDFunc(ctx, lookupID)
}

func (s *fakeStore) TokensTouch(ctx context.Context, ids []string, at time.Time) error {
	if s.TokensTouchFunc == nil {
		return nil
	}
	return s.TokensTouchFunc(ctx, ids, at)
}

// testNow is the fixed time fixtures are judged at.
var testNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func testHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(map[int16][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fixtureKeys are stored keys, personal tokens and browser sessions in each
// state, and static keys, by name, with their full credentials. Token names
// start "token-", session names "session-", static key names "static-".
type fixtureKeys struct {
	creds    map[string]string
	records  map[string]KeyRecord     // by lookup id
	tokens   map[string]TokenRecord   // by lookup id
	sessions map[string]SessionRecord // by lookup id
	ended    *DenyList                // sessions signed out since they were read
	static   []StaticKey
}

func newFixtureKeys(t testing.TB, h *Hasher) *fixtureKeys {
	t.Helper()
	f := &fixtureKeys{creds: map[string]string{}, records: map[string]KeyRecord{}, tokens: map[string]TokenRecord{}}
	add := func(name string, scopes []string, edit func(*KeyRecord)) {
		k := NewKey(PrefixAPIKey)
		v, mac := h.Sum(k.Secret)
		r := KeyRecord{ID: "key_" + name, LookupID: k.LookupID, Subject: "sub_" + name, Name: name + " key",
			Scopes: scopes, SecretMAC: mac, MACVersion: v}
		if edit != nil {
			edit(&r)
		}
		f.creds[name] = k.Reveal()
		f.records[k.LookupID] = r
	}
	add("active", []string{"events:read", "cameras:stream"}, nil)
	add("expiring", []string{"events:read"}, func(r *KeyRecord) { r.ExpiresAt = testNow.Add(time.Hour) })
	add("expired", []string{"events:read"}, func(r *KeyRecord) { r.ExpiresAt = testNow })
	add("disabled", []string{"events:read"}, func(r *KeyRecord) { r.DisabledAt = testNow.Add(-time.Hour) })
	add("revoked", []string{"events:read"}, func(r *KeyRecord) { r.RevokedAt = testNow.Add(-time.Hour) })
	add("limited", []string{"events:read"}, func(r *KeyRecord) { r.RateLimit = RateRule{Requests: 2, Window: time.Minute, Burst: 2} })
	// Same lookup id as "active", another secret: a guess at the secret.
	guess := NewKey(PrefixAPIKey)
	active, _ := ParseKey(PrefixAPIKey, f.creds["active"])
	guess.LookupID = active.LookupID
	f.creds["wrong-secret"] = guess.Reveal()
	f.creds["unknown"] = NewKey(PrefixAPIKey).Reveal()

	// Personal tokens of alice. Scopes are the effective ones, as the store
	// returns them: "token-scope-lost" was issued for events:read, which alice
	// no longer holds.
	addToken := func(name string, k Key, scopes []string, edit func(*TokenRecord)) {
		v, mac := h.Sum(k.Secret)
		r := TokenRecord{ID: "tok_" + name[len("token-"):], LookupID: k.LookupID, Name: name[len("token-"):] + " kiosk",
			SecretMAC: mac, MACVersion: v, Scopes: scopes, ExpiresAt: testNow.Add(30 * 24 * time.Hour),
			UserID: "usr_alice", Username: "alice", Email: "alice@example.com", Roles: []string{"viewer", "operator"}}
		if edit != nil {
			edit(&r)
		}
		f.creds[name] = k.Reveal()
		f.tokens[k.LookupID] = r
	}
	// "token-active" shares its lookup id with the key "active": each must
	// verify only as itself, with its own secret.
	addToken("token-active", Key{Prefix: PrefixPersonalToken, LookupID: active.LookupID, Secret: RandomString(secretLen)},
		[]string{"cameras:stream", "events:read"}, nil)
	addToken("token-expired", NewKey(PrefixPersonalToken), []string{"events:read"}, func(r *TokenRecord) { r.ExpiresAt = testNow })
	addToken("token-revoked", NewKey(PrefixPersonalToken), []string{"events:read"}, func(r *TokenRecord) {
		r.RevokedAt = testNow.Add(-time.Hour)
	})
	addToken("token-user-disabled", NewKey(PrefixPersonalToken), []string{"events:read"}, func(r *TokenRecord) {
		r.UserDisabled = true
	})
	addToken("token-scope-lost", NewKey(PrefixPersonalToken), []string{"cameras:stream"}, nil)
	addToken("token-limited", NewKey(PrefixPersonalToken), []string{"events:read"}, func(r *TokenRecord) {
		r.RateLimit = RateRule{Requests: 1, Window: time.Minute, Burst: 1}
	})
	tokenGuess := NewKey(PrefixPersonalToken)
	tokenGuess.LookupID = active.LookupID
	f.creds["token-wrong-secret"] = tokenGuess.Reveal()
	f.creds["token-unknown"] = NewKey(PrefixPersonalToken).Reveal()

	// Static keys, from the configuration.
	f.static = []StaticKey{
		{Key: "home-assistant-" + RandomString(24), Name: "home assistant", Scopes: []string{"events:read", "cameras:stream"}},
		{Key: "kiosk-" + RandomString(24)}, // named static-2, no scopes
	}
	f.creds["static-home-assistant"] = f.static[0].Key
	f.creds["static-2"] = f.static[1].Key
	f.creds["static-unknown"] = "home-assistant-" + RandomString(24)
	f.addSessions(t, h)
	return f
}

func (f *fixtureKeys) store() *fakeStore {
	return &fakeStore{
		KeyByLookupIDFunc: func(_ context.Context, id string) (KeyRecord, error) {
			if r, ok := f.records[id]; ok {
				return r, nil
			}
			return KeyRecord{}, ErrNotFound
		},
		TokenByLookupIDFunc: func(_ context.Context, id string) (TokenRecord, error) {
			if r, ok := f.tokens[id]; ok {
				return r, nil
			}
			return TokenRecord{}, ErrNotFound
		},
	}
}

// staticKeys returns the fixture's static keys, hashed with h.
func (f *fixtureKeys) staticKeys(t testing.TB, h *Hasher) *StaticKeys {
	t.Helper()
	s, err := NewStaticKeys(f.static, h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestVerifierAll returns a verifier accepting every kind of credential:
// the fixture's keys, personal tokens, sessions and static keys, and the JWTs
// o admits.
func newTestVerifierAll(t testing.TB, f *fixtureKeys, now func() time.Time, o *JWTOptions) *Verifier {
	t.Helper()
	h := testHasher(t)
	store := f.store()
	v, err := NewVerifier(store, h, Options{Now: now, Logger: slog.New(slog.DiscardHandler), JWT: o,
		Tokens: store, StaticKeys: f.staticKeys(t, h), Sessions: f.sessionOptions(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newTestVerifier(t testing.TB, store KeyStore, now func() time.Time) *Verifier {
	t.Helper()
	return newTestVerifierJWT(t, store, now, nil)
}

// newTestVerifierJWT is newTestVerifier accepting JWTs as o says (none if nil).
func newTestVerifierJWT(t testing.TB, store KeyStore, now func() time.Time, o *JWTOptions) *Verifier {
	t.Helper()
	v, err := NewVerifier(store, testHasher(t), Options{Now: now, Logger: slog.New(slog.DiscardHandler), JWT: o})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// The issuer and audience fixture tokens are verified against, and the kid of
// each trusted signing key.
const (
	testIssuer   = "https://auth.example"
	testAudience = "authgate"
	kidES256     = "es256-test-1"
	kidEdDSA     = "eddsa-test-1"
	kidHS256     = "hs256-test-1"
)

// fakeJWTKeys is a JWTKeys over a map, counting lookups.
type fakeJWTKeys struct {
	keys    map[string]fakeJWTKey
	lookups atomic.Int64
}

type fakeJWTKey struct {
	alg string
	key any
}

var _ JWTKeys = (*fakeJWTKeys)(nil)

func (k *fakeJWTKeys) VerificationKey(kid string) (string, any, bool) {
	k.lookups.Add(1)
	e, ok := k.keys[kid]
	return e.alg, e.key, ok
}

// jwtFixture is an issuer: one trusted signing key per algorithm, a key nobody
// trusts, and the deny list the verifier consults.
type jwtFixture struct {
	es256    *ecdsa.PrivateKey
	eddsa    ed25519.PrivateKey
	hs256    []byte
	stranger *ecdsa.PrivateKey
	keys     *fakeJWTKeys
	deny     *DenyList
}

func newJWTFixture(t testing.TB, now func() time.Time) *jwtFixture {
	t.Helper()
	es, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hs := []byte(RandomString(43))
	f := &jwtFixture{es256: es, eddsa: ed, hs256: hs, stranger: stranger, deny: NewDenyList(now)}
	f.keys = &fakeJWTKeys{keys: map[string]fakeJWTKey{
		kidES256: {AlgES256, &es.PublicKey},
		kidEdDSA: {AlgEdDSA, ed.Public()},
		kidHS256: {AlgHS256, hs},
	}}
	f.deny.Add("ses_revoked", testNow.Add(time.Hour))
	return f
}

func (f *jwtFixture) options() *JWTOptions {
	return &JWTOptions{Issuer: testIssuer, Audience: testAudience, Keys: f.keys, Revoked: f.deny}
}

// testClaims returns the claims of a valid token issued a minute before
// testNow, changed by edit when it is not nil.
func testClaims(edit func(*AccessClaims)) *AccessClaims {
	c := &AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "usr_alice",
			Audience:  jwt.ClaimStrings{testAudience},
			ExpiresAt: jwt.NewNumericDate(testNow.Add(14 * time.Minute)),
			IssuedAt:  jwt.NewNumericDate(testNow.Add(-time.Minute)),
			ID:        "jti_1",
		},
		SessionID: "ses_alice",
		Scope:     "events:read cameras:stream",
		Username:  "alice",
		Email:     "alice@example.com",
		Roles:     []string{"viewer", "operator"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// signJWT signs claims with method and key; the header carries kid and typ
// unless they are empty.
func signJWT(t testing.TB, method jwt.SigningMethod, key any, kid, typ string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	delete(tok.Header, "typ")
	if typ != "" {
		tok.Header["typ"] = typ
	}
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// token returns a valid ES256 access token, its claims changed by edit.
func (f *jwtFixture) token(t testing.TB, edit func(*AccessClaims)) string {
	t.Helper()
	return signJWT(t, jwt.SigningMethodES256, f.es256, kidES256, TypAccessToken, testClaims(edit))
}

// creds returns tokens by name, for golden files: {{jwt-active}} and so on.
func (f *jwtFixture) creds(t testing.TB) map[string]string {
	t.Helper()
	return map[string]string{
		"jwt-active":          f.token(t, nil),
		"jwt-reader":          f.token(t, func(c *AccessClaims) { c.Scope = "events:read" }),
		"jwt-expired":         f.token(t, func(c *AccessClaims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Minute)) }),
		"jwt-revoked-session": f.token(t, func(c *AccessClaims) { c.SessionID = "ses_revoked" }),
		"jwt-wrong-audience":  f.token(t, func(c *AccessClaims) { c.Audience = jwt.ClaimStrings{"another-service"} }),
		"jwt-unknown-kid":     signJWT(t, jwt.SigningMethodES256, f.stranger, "es256-unknown", TypAccessToken, testClaims(nil)),
		"jwt-key-confusion":   signJWT(t, jwt.SigningMethodHS256, f.es256PublicDER(t), kidES256, TypAccessToken, testClaims(nil)),
		"refresh-token":       NewKey(PrefixRefreshToken).Reveal(),
	}
}

// es256PublicDER is the trusted ES256 public key as an attacker can fetch it
// (PKIX DER, as in a JWKS or a PEM file), for use as an HMAC secret.
func (f *jwtFixture) es256PublicDER(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&f.es256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
