package idptest

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// claims are the ID token and userinfo claims the tests look at.
type claims struct {
	Subject           string   `json:"sub"`
	Email             string   `json:"email"`
	EmailVerified     *bool    `json:"email_verified"`
	PreferredUsername string   `json:"preferred_username"`
	Name              string   `json:"name"`
	Groups            []string `json:"groups"`
}

// rp is a plain relying party of one provider and client: what idp does,
// written with go-oidc and x/oauth2 alone.
type rp struct {
	p        *Provider
	op       *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

const redirectURI = "http://127.0.0.1:1/sso/test/callback" // never contacted

func newRP(t *testing.T, p *Provider, c Client) *rp {
	t.Helper()
	op, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{p: p, op: op,
		conf: oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: op.Endpoint(), RedirectURL: redirectURI,
			Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}},
		verifier: op.Verifier(&oidc.Config{ClientID: c.ID}),
	}
}

// flow is one sign-in's secrets, as a relying party keeps them.
type flow struct{ state, nonce, pkce string }

func (r *rp) begin() (string, flow) {
	f := flow{rand.Text(), rand.Text(), oauth2.GenerateVerifier()}
	return r.conf.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.pkce)), f
}

// code logs in as u and returns the code the callback carries, checking its state.
func (r *rp) code(t *testing.T, u User) (string, flow) {
	t.Helper()
	authURL, f := r.begin()
	jar, _ := cookiejar.New(nil)
	cb := r.p.LoginAs(t, &http.Client{Jar: jar}, authURL, u.Username, u.Password)
	if !strings.HasPrefix(cb, redirectURI+"?") {
		t.Fatalf("callback %s; want %s?…", cb, redirectURI)
	}
	q := mustQuery(t, cb)
	if got := q.Get("state"); got != f.state {
		t.Fatalf("state %q; want %q", got, f.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback %s has no code", cb)
	}
	return q.Get("code"), f
}

// idToken exchanges the code with the PKCE verifier and verifies the ID token.
func (r *rp) idToken(t *testing.T, code string, f flow) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	tok, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(f.pkce))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Fatalf("nonce %q; want %q", idt.Nonce, f.nonce)
	}
	return tok, idt
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func wantClaims(t *testing.T, got claims, u User) {
	t.Helper()
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	// zitadel omits email_verified when false (omitempty): absent means unverified.
	verified := got.EmailVerified != nil && *got.EmailVerified
	if got.Subject != u.Subject || got.Email != u.Email || verified != u.EmailVerified ||
		(got.EmailVerified != nil && !*got.EmailVerified) || got.PreferredUsername != u.Username ||
		got.Name != u.Name() || got.Groups == nil || !slices.Equal(got.Groups, groups) {
		t.Errorf("got %+v (email_verified %v); want sub %s email %s verified %v username %s name %q groups %v",
			got, deref(got.EmailVerified), u.Subject, u.Email, u.EmailVerified, u.Username, u.Name(), groups)
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestProvider_CodeFlowWithPKCE(t *testing.T) {
	p := Start(t, Options{})
	r := newRP(t, p, p.Clients[0])
	if p.ClientID != "authgate" || !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") || !strings.HasSuffix(p.Issuer, "/") {
		t.Fatalf("issuer %s client %s; want http://127.0.0.1:<port>/ and authgate", p.Issuer, p.ClientID)
	}
	for _, u := range p.Users {
		t.Run(u.Username, func(t *testing.T) {
			code, f := r.code(t, u)
			tok, idt := r.idToken(t, code, f)
			var c claims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if idt.Issuer != p.Issuer || !slices.Equal(idt.Audience, []string{p.ClientID}) {
				t.Errorf("iss %s aud %v; want %s [%s]", idt.Issuer, idt.Audience, p.Issuer, p.ClientID)
			}
			wantClaims(t, c, u)

			info, err := r.op.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var ic claims
			if err := info.Claims(&ic); err != nil {
				t.Fatal(err)
			}
			wantClaims(t, ic, u)
		})
	}
}

func TestProvider_ClaimsInUserinfoOnly(t *testing.T) {
	c := Client{ID: "strict", Secret: "strict-secret", ClaimsInUserinfoOnly: true}
	p := Start(t, Options{Clients: []Client{c}})
	r := newRP(t, p, c)
	alice := p.Users[0]
	code, f := r.code(t, alice)
	tok, idt := r.idToken(t, code, f)
	var got claims
	if err := idt.Claims(&got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != alice.Subject || got.Email != "" || got.Groups != nil {
		t.Errorf("ID token claims %+v; want sub %s and no email or groups", got, alice.Subject)
	}
	info, err := r.op.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var ic claims
	if err := info.Claims(&ic); err != nil {
		t.Fatal(err)
	}
	wantClaims(t, ic, alice)
}

// TestProvider_Refusals shows the provider is strict where a relying party's
// attack tests rely on it.
func TestProvider_Refusals(t *testing.T) {
	p := Start(t, Options{})
	r := newRP(t, p, p.Clients[0])
	alice := p.Users[0]

	t.Run("ReplayedCode", func(t *testing.T) {
		code, f := r.code(t, alice)
		r.idToken(t, code, f)
		if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(f.pkce)); err == nil {
			t.Error("second exchange of a code succeeded; want an error")
		}
	})
	t.Run("WrongVerifier", func(t *testing.T) {
		code, _ := r.code(t, alice)
		if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("exchange with another PKCE verifier succeeded; want an error")
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		authURL, _ := r.begin()
		if _, err := p.login(nil, authURL, alice.Username, "wrong"); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("login with a wrong password: %v; want login refused", err)
		}
	})
	t.Run("OtherAudience", func(t *testing.T) {
		other := newRP(t, p, p.Clients[1])
		code, f := other.code(t, alice)
		tok, _ := other.idToken(t, code, f)
		raw, _ := tok.Extra("id_token").(string)
		if _, err := r.verifier.Verify(t.Context(), raw); err == nil {
			t.Errorf("ID token for %s verified for %s; want an audience error", p.Clients[1].ID, p.ClientID)
		}
	})
	t.Run("UnregisteredRedirectURI", func(t *testing.T) {
		strict := Start(t, Options{RedirectURIs: []string{redirectURI}, RedirectURIGlobs: []string{}})
		sr := newRP(t, strict, strict.Clients[0])
		sr.conf.RedirectURL = "http://127.0.0.1:2/elsewhere"
		authURL, _ := sr.begin()
		if cb, err := strict.login(nil, authURL, alice.Username, alice.Password); err == nil {
			t.Errorf("unregistered redirect URI: login gave %s; want an error", cb)
		}
		sr.conf.RedirectURL = redirectURI
		sr.code(t, alice) // the registered one works
	})
}

// TestProvider_TwoIssuers: two Start calls are two issuers with their own keys,
// as a mix-up test needs.
func TestProvider_TwoIssuers(t *testing.T) {
	a, b := Start(t, Options{}), Start(t, Options{})
	if a.Issuer == b.Issuer {
		t.Fatalf("both issuers are %s", a.Issuer)
	}
	ra, rb := newRP(t, a, a.Clients[0]), newRP(t, b, b.Clients[0])
	code, f := ra.code(t, a.Users[0])
	tok, _ := ra.idToken(t, code, f)
	raw, _ := tok.Extra("id_token").(string)
	if _, err := rb.verifier.Verify(context.Background(), raw); err == nil {
		t.Error("an ID token of one issuer verified for the other; want an error")
	}
	b.Stop()
	if _, err := oidc.NewProvider(t.Context(), b.Issuer); err == nil {
		t.Error("discovery of a stopped provider succeeded; want an error")
	}
}
