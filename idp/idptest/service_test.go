package idptest

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

var deployer = ServiceClient{ID: "gha-deployer", Secret: "gha-deployer-secret", Audience: []string{"authgate"},
	Claims: map[string]any{"repository": "acme/site", "groups": []string{"deployers"}}}

// accessClaims are the JWT access token claims the tests look at.
type accessClaims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   []string `json:"aud"`
	Expiry     int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	JTI        string   `json:"jti"`
	ClientID   string   `json:"client_id"`
	Repository string   `json:"repository"`
	Groups     []string `json:"groups"`
}

// verifyAccess checks tok's signature against a fresh fetch of p's JWKS, and
// its iss, aud (one of aud) and exp, as a resource server would.
func verifyAccess(t *testing.T, p *Provider, tok, aud string) (accessClaims, error) {
	t.Helper()
	v := oidc.NewVerifier(p.Issuer, oidc.NewRemoteKeySet(t.Context(), p.jwksURL), &oidc.Config{ClientID: aud})
	var c accessClaims
	vt, err := v.Verify(t.Context(), tok)
	if err != nil {
		return c, err
	}
	return c, vt.Claims(&c)
}

// kid is the kid of a JWT's header.
func kid(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWT header %q: %v", head, err)
	}
	var h struct {
		KID string `json:"kid"`
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KID == "" || h.Alg != "RS256" {
		t.Fatalf("JWT header %s: %v; want RS256 and a kid", raw, err)
	}
	return h.KID
}

func TestProvider_ClientCredentials(t *testing.T) {
	k8s := ServiceClient{ID: "k8s-job", Secret: "k8s-job-secret"}
	p := Start(t, Options{ServiceClients: []ServiceClient{deployer, k8s}})

	t.Run("ClaimsAndAudience", func(t *testing.T) {
		tok := p.ClientCredentials(t, deployer.ID, deployer.Secret, "deploy")
		c, err := verifyAccess(t, p, tok, "authgate")
		if err != nil {
			t.Fatalf("verify access token: %v", err)
		}
		now := time.Now().Unix()
		if c.Issuer != p.Issuer || c.Subject != deployer.ID || c.ClientID != deployer.ID ||
			!slices.Equal(c.Audience, deployer.Audience) || c.JTI == "" ||
			c.IssuedAt > now+5 || c.IssuedAt < now-60 || c.Expiry <= now {
			t.Errorf("claims %+v; want iss %s, sub and client_id %s, aud %v, jti, iat now, exp later",
				c, p.Issuer, deployer.ID, deployer.Audience)
		}
		if c.Repository != "acme/site" || !slices.Equal(c.Groups, []string{"deployers"}) {
			t.Errorf("claims %+v; want repository acme/site and groups [deployers]", c)
		}
		if got, want := kid(t, tok), p.KeyIDs(t); !slices.Equal([]string{got}, want) {
			t.Errorf("kid %s; JWKS has %v", got, want)
		}
	})
	t.Run("DefaultAudience", func(t *testing.T) {
		tok := p.ClientCredentials(t, k8s.ID, k8s.Secret)
		c, err := verifyAccess(t, p, tok, k8s.ID)
		if err != nil {
			t.Fatalf("verify access token: %v", err)
		}
		if !slices.Equal(c.Audience, []string{k8s.ID}) || c.Subject != k8s.ID || c.Groups != nil {
			t.Errorf("claims %+v; want aud and sub %s, no groups", c, k8s.ID)
		}
		if _, err := verifyAccess(t, p, tok, "authgate"); err == nil {
			t.Error("a token for k8s-job verified for the audience authgate; want an error")
		}
		if !slices.Equal(p.ServiceClients[1].Audience, []string{k8s.ID}) || k8s.Audience != nil {
			t.Errorf("Provider.ServiceClients[1].Audience %v; want [%s] (and Options untouched)", p.ServiceClients[1].Audience, k8s.ID)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct{ name, id, secret string }{
			{"WrongSecret", deployer.ID, "wrong"},
			{"UnknownClient", "nobody", "nothing"},
			{"WebClient", p.ClientID, p.ClientSecret}, // authorization code only
			{"ExampleServiceUser", "sid1", "verysecret"},
		} {
			if tok, err := p.clientCredentials(tc.id, tc.secret); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("%s: token %q, error %v; want invalid_client", tc.name, tok, err)
			}
		}
	})
}

func TestProvider_KeyRotation(t *testing.T) {
	p := Start(t, Options{ServiceClients: []ServiceClient{deployer}})
	r := newRP(t, p, p.Clients[0])
	first := p.KeyIDs(t)
	if len(first) != 1 {
		t.Fatalf("JWKS at start has kids %v; want one", first)
	}
	old := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	if kid(t, old) != first[0] {
		t.Fatalf("token kid %s; want %s", kid(t, old), first[0])
	}

	next := p.RotateKey(t)
	if next == "" || next == first[0] {
		t.Fatalf("RotateKey gave kid %q; want a new one (was %s)", next, first[0])
	}
	if got := p.KeyIDs(t); !slices.Equal(got, []string{first[0], next}) {
		t.Fatalf("JWKS after rotation %v; want [%s %s]", got, first[0], next)
	}
	tok := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	if kid(t, tok) != next {
		t.Errorf("access token kid after rotation %s; want %s", kid(t, tok), next)
	}
	code, f := r.code(t, p.Users[0])
	tr, _ := r.idToken(t, code, f) // go-oidc refetches the JWKS for the unknown kid
	if raw, _ := tr.Extra("id_token").(string); kid(t, raw) != next {
		t.Errorf("ID token kid after rotation %s; want %s", kid(t, raw), next)
	}
	for _, tk := range []string{old, tok} {
		if _, err := verifyAccess(t, p, tk, "authgate"); err != nil {
			t.Errorf("before retirement, token of kid %s: %v", kid(t, tk), err)
		}
	}

	p.RetireKeys(t)
	if got := p.KeyIDs(t); !slices.Equal(got, []string{next}) {
		t.Fatalf("JWKS after RetireKeys %v; want [%s]", got, next)
	}
	if _, err := verifyAccess(t, p, tok, "authgate"); err != nil {
		t.Errorf("after retirement, token of the current key: %v", err)
	}
	if _, err := verifyAccess(t, p, old, "authgate"); err == nil {
		t.Error("after retirement, a token of the retired key verified; want an error")
	}
}

func TestProvider_JWKSFetches(t *testing.T) {
	p := Start(t, Options{ServiceClients: []ServiceClient{deployer}})
	n0 := p.JWKSFetches(t)
	p.KeyIDs(t)
	if n := p.JWKSFetches(t); n != n0+1 {
		t.Errorf("after KeyIDs, %d fetches; want %d", n, n0+1)
	}
	tok := p.ClientCredentials(t, deployer.ID, deployer.Secret)
	if n := p.JWKSFetches(t); n != n0+1 {
		t.Errorf("a token request fetched the JWKS: %d fetches; want %d", n, n0+1)
	}
	if _, err := verifyAccess(t, p, tok, "authgate"); err != nil {
		t.Fatal(err)
	}
	if n := p.JWKSFetches(t); n != n0+2 {
		t.Errorf("after a verification with a fresh key set, %d fetches; want %d", n, n0+2)
	}
}
