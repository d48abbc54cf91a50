package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/idp/idptest"
	"github.com/authgate/authgate/jwks"
	"github.com/authgate/authgate/verify"
)

// deployer is the machine client the tests' tokens are issued to.
var deployer = idptest.ServiceClient{ID: "ci-deployer", Secret: "ci-deployer-secret", Audience: []string{"https://auth.example"},
	Claims: map[string]any{"repository": "acme/site", "repository_owner": "acme"}}

func startProvider(t *testing.T) *idptest.Provider {
	t.Helper()
	return idptest.Start(t, idptest.Options{ServiceClients: []idptest.ServiceClient{deployer}})
}

func startKeys(t *testing.T, o jwks.Options) *jwks.Keys {
	t.Helper()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	k, err := jwks.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// waitReady waits for discovery; tests that need the keys call it.
func waitReady(t *testing.T, k *jwks.Keys) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !k.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the keys were not ready within 10 s")
		}
	}
}

// verifier admits the provider's tokens as an operator would configure it.
func verifier(t *testing.T, p *idptest.Provider, k *jwks.Keys) *verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(nil, nil, verify.Options{Logger: slog.New(slog.DiscardHandler), External: []verify.ExternalIssuer{{
		ID: "ci", Issuer: p.Issuer, Audiences: deployer.Audience, Algorithms: []string{"RS256"}, Keys: k,
		Require: map[string]string{"repository_owner": "acme"}, Scopes: []string{"deploy:read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

// TestKeys_RotationAgainstRealProvider: a token of the real provider is
// admitted through discovery and its JWKS; after the provider rotates its
// key, a token signed with the new key is admitted at the cost of one
// refetch; tokens verified before stay cached.
func TestKeys_RotationAgainstRealProvider(t *testing.T) {
	p := startProvider(t)
	k := startKeys(t, jwks.Options{Issuer: p.Issuer})
	v := verifier(t, p, k)
	waitReady(t, k)
	ctx := context.Background()

	before := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	pr, err := v.Authenticate(ctx, before)
	if err != nil {
		t.Fatalf("a token of the provider: %v", err)
	}
	if pr.Kind != verify.KindExternalJWT || pr.Subject != "ext:ci:"+deployer.ID || !pr.HasScope("deploy:read") {
		t.Errorf("principal = %+v", pr)
	}
	fetches := p.JWKSFetches(t)

	newKID := p.RotateKey(t)
	after := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	if kidOf(t, after) != newKID {
		t.Fatalf("the provider signed with %s, not the new key %s", kidOf(t, after), newKID)
	}
	if _, err := v.Authenticate(ctx, after); err != nil {
		t.Fatalf("a token signed with the rotated key: %v", err)
	}
	if got := p.JWKSFetches(t) - fetches; got != 1 {
		t.Errorf("JWKS fetches for the new kid = %d; want 1", got)
	}
	if _, err := v.Authenticate(ctx, before); err != nil {
		t.Errorf("the token verified before the rotation: %v", err)
	}
}

// TestKeys_UnknownKIDFloodIsRateLimited: tokens naming made-up kids cause at
// most one refetch per UnknownKIDEvery, are refused at once (no caller waits
// for the limit), and a real token still passes meanwhile.
func TestKeys_UnknownKIDFloodIsRateLimited(t *testing.T) {
	p := startProvider(t)
	k := startKeys(t, jwks.Options{Issuer: p.Issuer, UnknownKIDEvery: time.Hour})
	v := verifier(t, p, k)
	waitReady(t, k)
	ctx := context.Background()
	good := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	if _, err := v.Authenticate(ctx, good); err != nil {
		t.Fatal(err)
	}
	fetches := p.JWKSFetches(t)
	start := time.Now()
	for i := range 200 {
		_, err := k.Key(ctx, fmt.Sprintf("made-up-%d", i), "RS256")
		if !errors.Is(err, jwks.ErrUnknownKey) {
			t.Fatalf("made-up kid %d: %v; want ErrUnknownKey", i, err)
		}
	}
	took := time.Since(start)
	if got := p.JWKSFetches(t) - fetches; got > 1 {
		t.Errorf("200 made-up kids caused %d JWKS fetches; want at most 1", got)
	}
	t.Logf("200 made-up kids refused in %v", took) // a figure, not a timed assertion
	if _, err := v.Authenticate(ctx, good); err != nil {
		t.Errorf("a good token during the flood: %v", err)
	}
}

// TestKeys_FailClosed: an issuer that cannot be reached has no keys, and its
// tokens are refused (401), never admitted; Start does not fail.
func TestKeys_FailClosed(t *testing.T) {
	p := startProvider(t)
	token := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	issuer := p.Issuer
	p.Stop()
	k := startKeys(t, jwks.Options{Issuer: issuer, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	v, err := verify.NewVerifier(nil, nil, verify.Options{Logger: slog.New(slog.DiscardHandler), External: []verify.ExternalIssuer{{
		ID: "ci", Issuer: issuer, Audiences: deployer.Audience, Algorithms: []string{"RS256"}, Keys: k}}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a few discovery attempts
	_, err = v.Authenticate(context.Background(), token)
	if !errors.Is(err, verify.ErrUnknownSigningKey) || !errors.Is(err, jwks.ErrNotReady) {
		t.Fatalf("a token of an unreachable issuer: %v; want ErrUnknownSigningKey (not ready)", err)
	}
	if status, _ := verify.Status(err); status != 401 {
		t.Errorf("status = %d; want 401", status)
	}
	if k.Ready() {
		t.Error("Ready with no discovery")
	}
}

// TestKeys_JWKSURLWithoutDiscovery: jwks_url is fetched directly.
func TestKeys_JWKSURLWithoutDiscovery(t *testing.T) {
	p := startProvider(t)
	kids := p.KeyIDs(t)
	k := startKeys(t, jwks.Options{JWKSURL: strings.TrimSuffix(p.Issuer, "/") + "/keys", Issuer: "https://not-used.example"})
	waitReady(t, k)
	if _, err := k.Key(context.Background(), kids[0], "RS256"); err != nil {
		t.Errorf("the provider's key by jwks_url: %v", err)
	}
	if _, err := k.Key(context.Background(), kids[0], "ES256"); err == nil {
		t.Error("an RS256 key returned for ES256")
	}
}

func TestStart_Options(t *testing.T) {
	if _, err := jwks.Start(jwks.Options{}); err == nil {
		t.Error("Start without Issuer or JWKSURL")
	}
	if _, err := jwks.Start(jwks.Options{Issuer: "https://x", Refresh: -time.Second}); err == nil {
		t.Error("Start with a negative duration")
	}
}

// TestKeys_DiscoveryNamingAnotherIssuer: a discovery document whose issuer
// is not the configured one (here the same without its final slash) is
// refused: the keys never become ready, and the log says why.
func TestKeys_DiscoveryNamingAnotherIssuer(t *testing.T) {
	p := startProvider(t)
	k := startKeys(t, jwks.Options{Issuer: strings.TrimSuffix(p.Issuer, "/"), RetryMin: 10 * time.Millisecond})
	time.Sleep(100 * time.Millisecond)
	_, err := k.Key(context.Background(), p.KeyIDs(t)[0], "RS256")
	if !errors.Is(err, jwks.ErrNotReady) || !strings.Contains(err.Error(), "configure the issuer exactly") {
		t.Errorf("Key = %v; want ErrNotReady naming the issuer mismatch", err)
	}
}
