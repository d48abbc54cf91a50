package issue_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

var hsSecret = []byte("hs256-secret-hs256-secret-hs256-secret")

// signingKeys returns a keyset over the bundle's store, on the bundle's clock,
// overlapping by the service's AccessTTL + Leeway; not yet ensured.
func (b *bundle) signingKeys(t testing.TB, alg string, hs []byte) *issue.SigningKeys {
	t.Helper()
	o := b.svc.Options()
	ks, err := issue.NewSigningKeys(b.store, testSealer(t), issue.SigningKeysOptions{Alg: alg, HSSecret: hs,
		Overlap: o.AccessTTL + o.Leeway, Now: func() time.Time { return b.now }})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func (b *bundle) claims() verify.AccessClaims {
	return verify.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: "authgate", Subject: "usr_1", Audience: jwt.ClaimStrings{"authgate"},
			ExpiresAt: jwt.NewNumericDate(b.now.Add(15 * time.Minute)), IssuedAt: jwt.NewNumericDate(b.now), ID: "jti-1"},
		SessionID: "ses_1", Scope: "events:read", Username: "ann", Roles: []string{"viewer"},
	}
}

// parseToken verifies token as golang-jwt would for a verifier that looks keys
// up in keys, at now, and returns its kid.
func parseToken(token string, keys verify.JWTKeys, now time.Time) (string, error) {
	var kid string
	_, err := jwt.ParseWithClaims(token, &verify.AccessClaims{}, func(tk *jwt.Token) (any, error) {
		if tk.Header["typ"] != verify.TypAccessToken {
			return nil, errors.New("typ is not at+jwt")
		}
		kid, _ = tk.Header["kid"].(string)
		alg, key, ok := keys.VerificationKey(kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		if tk.Method.Alg() != alg {
			return nil, errors.New("alg is not the key's")
		}
		return key, nil
	}, jwt.WithValidMethods([]string{"ES256", "EdDSA", "HS256"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired())
	return kid, err
}

// jwkSet is the JWKS as a verifier elsewhere reads it: VerificationKey over
// the published keys only.
type jwkSet struct {
	Keys []struct{ Kty, Crv, X, Y, Kid, Alg, Use string } `json:"keys"`
}

func (s jwkSet) VerificationKey(kid string) (string, any, bool) {
	for _, k := range s.Keys {
		if k.Kid != kid || k.Use != "sig" {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil { // a key published badly verifies nothing
			return "", nil, false
		}
		switch {
		case k.Kty == "EC" && k.Crv == "P-256" && k.Alg == "ES256":
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			return k.Alg, pub, err == nil
		case k.Kty == "OKP" && k.Crv == "Ed25519" && k.Alg == "EdDSA" && len(x) == ed25519.PublicKeySize:
			return k.Alg, ed25519.PublicKey(x), true
		}
	}
	return "", nil, false
}

func (s jwkSet) kids() []string {
	var kids []string
	for _, k := range s.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func jwksOf(t *testing.T, ks *issue.SigningKeys) jwkSet {
	t.Helper()
	var s jwkSet
	if err := json.Unmarshal(ks.JWKS(), &s); err != nil {
		t.Fatalf("JWKS %s: %v", ks.JWKS(), err)
	}
	return s
}

func TestSigningKeys_SignVerifies(t *testing.T) {
	for _, alg := range []string{verify.AlgES256, verify.AlgEdDSA, verify.AlgHS256} {
		t.Run(alg, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			ks := b.signingKeys(t, alg, hsSecret)
			if err := ks.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			tok, err := ks.Sign(ctx, b.claims())
			if err != nil {
				t.Fatal(err)
			}
			kid, err := parseToken(tok, ks, b.now)
			if err != nil {
				t.Fatalf("token does not verify against VerificationKey: %v", err)
			}
			if got, _, _ := ks.VerificationKey(kid); got != alg {
				t.Fatalf("key %s is %s; want %s", kid, got, alg)
			}
			// The verifier proper admits it too.
			v, err := verify.NewVerifier(b.store, b.hasher, verify.Options{Now: func() time.Time { return b.now },
				Logger: slog.New(slog.DiscardHandler), JWT: &verify.JWTOptions{Issuer: "authgate", Audience: "authgate",
					Keys: ks, Revoked: verify.NewDenyList(func() time.Time { return b.now })}})
			if err != nil {
				t.Fatal(err)
			}
			if p, err := v.Authenticate(ctx, tok); err != nil || p.Subject != "usr_1" {
				t.Fatalf("verifier: %v, %v", p, err)
			}
			// Published keys verify it; HS256 is never published.
			set := jwksOf(t, ks)
			if alg == verify.AlgHS256 {
				if len(set.Keys) != 0 {
					t.Fatalf("JWKS %s publishes an HS256 key", ks.JWKS())
				}
				return
			}
			if _, err := parseToken(tok, set, b.now); err != nil || len(set.Keys) != 1 {
				t.Fatalf("token does not verify against the JWKS %s: %v", ks.JWKS(), err)
			}
		})
	}
}

func TestSigningKeys_EnsureConcurrentlyCreatesOneKey(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	sets := make([]*issue.SigningKeys, 3)
	errs := make([]error, len(sets))
	var wg sync.WaitGroup
	for i := range sets {
		sets[i] = b.signingKeys(t, verify.AlgES256, nil)
		wg.Go(func() { errs[i] = sets[i].Ensure(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := sets[0].Ensure(ctx); err != nil { // and once more, later
		t.Fatal(err)
	}
	rows, err := b.store.SigningKeyList(ctx, b.now)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d signing keys stored (%v); want exactly 1", len(rows), err)
	}
	for i, ks := range sets {
		tok, err := ks.Sign(ctx, b.claims())
		if err != nil {
			t.Fatal(err)
		}
		if kid, err := parseToken(tok, sets[(i+1)%len(sets)], b.now); err != nil || kid != rows[0].KID {
			t.Fatalf("instance %d signs with %s (%v); want the one key %s", i, kid, err, rows[0].KID)
		}
	}
}

func TestSigningKeys_Rotate(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	ks, other := b.signingKeys(t, verify.AlgEdDSA, nil), b.signingKeys(t, verify.AlgEdDSA, nil)
	if err := ks.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	oldTok := must(ks.Sign(ctx, b.claims()))(t)
	oldKID := must(parseToken(oldTok, ks, b.now))(t)

	b.now = b.now.Add(time.Minute)
	rotatedAt := b.now
	rot, err := ks.Rotate(ctx, issue.Actor{ID: "key:key_admin", Authority: issue.AllAuthority()})
	if err != nil {
		t.Fatal(err)
	}
	overlap := b.svc.Options().AccessTTL + b.svc.Options().Leeway
	if rot.KID == oldKID || !slices.Equal(rot.Retiring, []string{oldKID}) || !rot.RetireAt.Equal(rotatedAt.Add(overlap)) {
		t.Fatalf("rotation = %+v; want a new kid retiring %s at %v", rot, oldKID, rotatedAt.Add(overlap))
	}
	newTok := must(ks.Sign(ctx, b.claims()))(t)
	if kid, err := parseToken(newTok, ks, b.now); err != nil || kid != rot.KID {
		t.Fatalf("after rotation the token is signed by %s (%v); want %s", kid, err, rot.KID)
	}
	if got := jwksOf(t, ks).kids(); !slices.Equal(got, []string{rot.KID, oldKID}) {
		t.Fatalf("JWKS kids = %v; want the new then the old", got)
	}
	// Another instance signs with the old key until it reloads (on NOTIFY), then with the new.
	if kid, _ := parseToken(must(other.Sign(ctx, b.claims()))(t), other, b.now); kid != oldKID {
		t.Fatalf("other instance before reload signs with %s; want %s", kid, oldKID)
	}
	if err := other.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if kid, _ := parseToken(must(other.Sign(ctx, b.claims()))(t), other, b.now); kid != rot.KID {
		t.Fatalf("other instance after reload signs with %s; want %s", kid, rot.KID)
	}
	// The old key verifies until it retires, then not, even before a reload.
	b.now = rot.RetireAt.Add(-time.Second)
	for _, set := range []*issue.SigningKeys{ks, other} {
		if _, _, ok := set.VerificationKey(oldKID); !ok {
			t.Fatal("the old key stopped verifying before its retire time")
		}
	}
	b.now = rot.RetireAt
	for _, set := range []*issue.SigningKeys{ks, other} {
		if _, _, ok := set.VerificationKey(oldKID); ok {
			t.Fatal("the old key still verifies at its retire time")
		}
	}
	if err := ks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksOf(t, ks).kids(); !slices.Equal(got, []string{rot.KID}) {
		t.Fatalf("JWKS kids after retirement = %v; want only %s", got, rot.KID)
	}
}

func TestSigningKeys_RotateHS256IsRefused(t *testing.T) {
	b := setup(t)
	ks := b.signingKeys(t, verify.AlgHS256, hsSecret)
	if err := ks.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Rotate(context.Background(), issue.Actor{ID: "test", Authority: issue.AllAuthority()}); !errors.Is(err, issue.ErrConflict) {
		t.Fatalf("err = %v; want ErrConflict", err)
	}
}

// Moving from HS256 to ES256: the HS256 key keeps verifying until a rotation retires it.
func TestSigningKeys_RotateRetiresEarlierAlgorithms(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	hs, es := b.signingKeys(t, verify.AlgHS256, hsSecret), b.signingKeys(t, verify.AlgES256, hsSecret)
	if err := hs.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	hsKID := must(parseToken(must(hs.Sign(ctx, b.claims()))(t), hs, b.now))(t)
	if err := es.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	esKID := must(parseToken(must(es.Sign(ctx, b.claims()))(t), es, b.now))(t)
	if _, _, ok := es.VerificationKey(hsKID); !ok || esKID == hsKID {
		t.Fatalf("after the switch: signs with %s, HS256 key %s verifies %t; want it to", esKID, hsKID, ok)
	}
	rot := must(es.Rotate(ctx, issue.Actor{ID: "test", Authority: issue.AllAuthority()}))(t)
	if got := slices.Sorted(slices.Values(rot.Retiring)); !slices.Equal(got, slices.Sorted(slices.Values([]string{hsKID, esKID}))) {
		t.Fatalf("rotation retires %v; want both %s and %s", got, hsKID, esKID)
	}
	b.now = rot.RetireAt
	if _, _, ok := es.VerificationKey(hsKID); ok {
		t.Fatal("the HS256 key verifies after its retire time")
	}
}

func TestSigningKeys_HS256NewSecretReplacesTheKey(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	before := b.signingKeys(t, verify.AlgHS256, hsSecret)
	if err := before.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	oldKID := must(parseToken(must(before.Sign(ctx, b.claims()))(t), before, b.now))(t)
	after := b.signingKeys(t, verify.AlgHS256, []byte("a-new-hs256-secret-a-new-hs256-secret"))
	if err := after.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	newKID := must(parseToken(must(after.Sign(ctx, b.claims()))(t), after, b.now))(t)
	if newKID == oldKID {
		t.Fatal("a new secret signs under the old kid")
	}
	// The old secret's instance can no longer sign, but verifies until the key retires.
	if err := before.Reload(ctx); err == nil {
		t.Fatal("an instance whose HS256 key retires reloads with a key to sign with")
	}
	if _, _, ok := before.VerificationKey(oldKID); !ok {
		t.Fatal("the old secret's tokens stopped verifying at once; want them until the key retires")
	}
	if _, _, ok := after.VerificationKey(oldKID); ok {
		t.Fatal("an instance without the old secret claims to verify its tokens")
	}
}

// A row not written with the server secret is never trusted: another sealer's
// key, or a public key swapped into a real row.
func TestSigningKeys_LeavesOutKeysItCannotOpen(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	foreign, err := issue.NewSealer([]byte("attacker-attacker-attacker-attac"))
	if err != nil {
		t.Fatal(err)
	}
	mallory := must(issue.NewSigningKeys(b.store, foreign, issue.SigningKeysOptions{Alg: verify.AlgEdDSA, Now: func() time.Time { return b.now }}))(t)
	if err := mallory.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	forged := must(mallory.Sign(ctx, b.claims()))(t)
	ks := b.signingKeys(t, verify.AlgEdDSA, nil)
	if err := ks.Ensure(ctx); err == nil {
		t.Fatal("Ensure accepted a current key sealed under another secret")
	}
	if err := ks.Reload(ctx); err == nil {
		t.Fatal("Reload found a key to sign with; want none")
	}
	if _, err := parseToken(forged, ks, b.now); err == nil {
		t.Fatal("a token signed by a key sealed under another secret verifies")
	}
	if _, err := ks.Sign(ctx, b.claims()); err == nil {
		t.Fatal("Sign without a usable key succeeded; want it to fail closed")
	}
	if len(jwksOf(t, ks).Keys) != 0 {
		t.Fatalf("JWKS %s publishes a key it cannot open", ks.JWKS())
	}

	// Rows changed by someone without the secret: a sealed key copied to
	// another kid, then another public key put in the real row.
	url := dbtest.URL(t)
	store, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	good := must(issue.NewSigningKeys(store, testSealer(t), issue.SigningKeysOptions{Now: func() time.Time { return b.now }}))(t)
	if err := good.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	kid := must(parseToken(must(good.Sign(ctx, b.claims()))(t), good, b.now))(t)
	dbtest.Exec(t, url, `INSERT INTO signing_keys SELECT 'moved', alg, public_key, private_key, created_at, retire_at FROM signing_keys`)
	if err := good.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := good.VerificationKey("moved"); ok {
		t.Fatal("a sealed key copied to another kid is trusted")
	}
	other := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))(t)
	der := must(x509.MarshalPKIXPublicKey(&other.PublicKey))(t)
	dbtest.Exec(t, url, `UPDATE signing_keys SET public_key = $1 WHERE kid = $2`, der, kid)
	if err := good.Reload(ctx); err == nil {
		t.Fatal("Reload found a key to sign with after its public key was replaced")
	}
	if _, _, ok := good.VerificationKey(kid); ok {
		t.Fatal("a row whose public key is not its private key's is trusted")
	}
}

func TestAPI_SigningKeys(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	ks := b.signingKeys(t, verify.AlgES256, nil)
	if err := ks.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	a := keysAPI(t, b, ks)
	w := a.do(t, "GET", "/.well-known/jwks.json", "", "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=60" || len(decodeJSON[jwkSet](t, w).Keys) != 1 {
		t.Fatalf("JWKS without a credential: %d %q %s", w.Code, w.Header().Get("Cache-Control"), w.Body)
	}
	if w := a.do(t, "POST", "/v1/signing-keys/rotate", "", ""); w.Code != 401 {
		t.Fatalf("rotate without a credential: %d; want 401", w.Code)
	}
	if w := a.do(t, "POST", "/v1/signing-keys/rotate", a.plain, ""); w.Code != 403 {
		t.Fatalf("rotate without signing_keys:write: %d; want 403", w.Code)
	}
	if w := a.do(t, "POST", "/v1/signing-keys/rotate", a.admin, `{"x":1}`); w.Code != 400 {
		t.Fatalf("rotate with a body field: %d; want 400", w.Code)
	}
	w = a.do(t, "POST", "/v1/signing-keys/rotate", a.admin, "")
	rot := decodeJSON[api.Rotation](t, w)
	if w.Code != 201 || rot.KID == "" || len(rot.Retiring) != 1 {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	got := decodeJSON[jwkSet](t, a.do(t, "GET", "/.well-known/jwks.json", "", "")).kids()
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values([]string{rot.KID, rot.Retiring[0]}))) {
		t.Fatalf("JWKS after rotation lists %v", got)
	}

	bare := keysAPI(t, setup(t), nil)
	if w := bare.do(t, "GET", "/.well-known/jwks.json", "", ""); w.Code != 404 {
		t.Fatalf("JWKS without signing keys: %d; want 404", w.Code)
	}
	if w := bare.do(t, "POST", "/v1/signing-keys/rotate", bare.admin, ""); w.Code != 409 {
		t.Fatalf("rotate without signing keys: %d; want 409", w.Code)
	}
}
