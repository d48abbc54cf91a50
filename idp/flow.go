package idp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/issue"
)

// Begin starts a sign-in with the provider providerID whose callback is
// redirectURI: a fresh state, nonce and PKCE verifier, and the provider's
// authorization URL asking for them (code flow, S256 challenge). The caller
// keeps the Attempt (its ReturnURL is the caller's to fill in) and gives it
// back to Finish. Returns ErrUnknownProvider or ErrUnavailable (wrapped).
func (s *Set) Begin(providerID, redirectURI string) (authURL string, a Attempt, err error) {
	p, d, err := s.ready(providerID)
	if err != nil {
		return "", Attempt{}, err
	}
	a = Attempt{Provider: p.cfg.ID, State: random(), Verifier: oauth2.GenerateVerifier(), Created: s.now()}
	oc := d.oauth
	oc.RedirectURL = redirectURI
	if d.oauth2Only { // no ID token to carry a nonce
		return oc.AuthCodeURL(a.State, oauth2.S256ChallengeOption(a.Verifier)), a, nil
	}
	a.Nonce = random()
	return oc.AuthCodeURL(a.State, oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(a.Nonce)), a, nil
}

// Finish checks the callback's query q against the attempt a (see the package
// documentation for the order of the checks and the error each refusal
// wraps), exchanges the code with the PKCE verifier at the token endpoint,
// verifies the ID token, and returns who it names. redirectURI must be the
// one Begin was given.
func (s *Set) Finish(ctx context.Context, providerID, redirectURI string, a Attempt, q url.Values) (issue.ExternalIdentity, error) {
	var none issue.ExternalIdentity
	if a.Provider != providerID {
		return none, fmt.Errorf("%w: attempt for provider %q came back to %q", ErrExpired, a.Provider, providerID)
	}
	if a.State == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(a.State)) != 1 {
		return none, fmt.Errorf("%w: state does not match the attempt", ErrExpired)
	}
	p, d, err := s.ready(providerID)
	if err != nil {
		return none, err
	}
	if iss, sent := q["iss"]; sent && (len(iss) != 1 || iss[0] != p.cfg.Issuer) {
		return none, fmt.Errorf("%w: iss parameter %q is not %s", ErrInvalid, q.Get("iss"), p.cfg.Issuer)
	} else if !sent && d.issParam {
		return none, fmt.Errorf("%w: no iss parameter, though %s says it sends one", ErrInvalid, p.cfg.Issuer)
	}
	if code := q.Get("error"); code != "" {
		return none, fmt.Errorf("%w: %s (%s)", ErrDenied, clean(code), clean(q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return none, fmt.Errorf("%w: no code in the callback", ErrInvalid)
	}
	ctx = oidc.ClientContext(ctx, acceptJSON(s.client))
	oc := d.oauth
	oc.RedirectURL = redirectURI
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return none, exchangeError(err)
	}
	if d.oauth2Only {
		return p.identityFromAPI(ctx, s.client, d, tok.AccessToken)
	}
	if a.Nonce == "" {
		return none, fmt.Errorf("%w: the attempt has no nonce", ErrExpired)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return none, fmt.Errorf("%w: no ID token in the token response", ErrInvalid)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return none, fmt.Errorf("%w: ID token: %v", ErrInvalid, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return none, fmt.Errorf("%w: ID token nonce does not match the attempt", ErrInvalid)
	}
	return p.identityOf(idt)
}

// identityOf applies the preset's checks (preset.go) to a verified ID
// token's claims and maps them as p's configuration says: the one mapping of
// Finish and VerifyIDToken.
func (p *provider) identityOf(idt *oidc.IDToken) (issue.ExternalIdentity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return issue.ExternalIdentity{}, fmt.Errorf("%w: ID token claims: %v", ErrInvalid, err)
	}
	if err := p.cfg.admit(claims); err != nil {
		return issue.ExternalIdentity{}, err
	}
	return p.identity(idt.Issuer, idt.Subject, claims), nil
}

// identityFromAPI reads a plain OAuth2 provider's identity with the access
// token Finish got, applies the preset's checks and maps it as an ID
// token's claims are; the issuer is the configured one.
func (p *provider) identityFromAPI(ctx context.Context, hc *http.Client, d *discovered, token string) (issue.ExternalIdentity, error) {
	if token == "" {
		return issue.ExternalIdentity{}, fmt.Errorf("%w: no access token in the token response", ErrInvalid)
	}
	claims, err := d.api.identify(ctx, hc, token)
	if err != nil {
		return issue.ExternalIdentity{}, err
	}
	if err := p.cfg.admit(claims); err != nil {
		return issue.ExternalIdentity{}, err
	}
	return p.identity(p.cfg.Issuer, str(claims["sub"]), claims), nil
}

// acceptJSON is hc asking for JSON answers: GitHub's token endpoint
// answers form-encoded otherwise.
func acceptJSON(hc *http.Client) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = roundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Accept") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Accept", "application/json")
		}
		return next.RoundTrip(r)
	})
	return &c
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// exchangeError maps a token-endpoint failure: a refusal of the code (4xx,
// such as invalid_grant for a code used twice, or an error in a 200 answer,
// as GitHub sends) is ErrExpired; no answer or a server error is
// ErrUnavailable.
func exchangeError(err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil &&
		(re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 || re.Response.StatusCode == 200 && re.ErrorCode != "") {
		return fmt.Errorf("%w: token endpoint refused the code: %s", ErrExpired, clean(re.ErrorCode))
	}
	return fmt.Errorf("%w: token endpoint: %v", ErrUnavailable, err)
}

// ready returns the provider and its discovery, or ErrUnknownProvider or
// ErrUnavailable.
func (s *Set) ready(id string) (*provider, *discovered, error) {
	p, ok := s.byID[id]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrUnknownProvider, id)
	}
	d := p.discovered()
	if d == nil {
		return nil, nil, fmt.Errorf("%w: %s has not answered discovery yet", ErrUnavailable, id)
	}
	return p, d, nil
}

// identity maps an ID token's claims as p's configuration says.
func (p *provider) identity(issuer, subject string, claims map[string]any) issue.ExternalIdentity {
	id := issue.ExternalIdentity{Provider: p.cfg.ID, Issuer: issuer, Subject: subject,
		Email: str(claims["email"]), Name: str(claims["name"]), Username: str(claims[p.cfg.UsernameClaim]),
		Groups: strs(claims[p.cfg.GroupsClaim])}
	switch v := claims["email_verified"].(type) { // some providers send the string "true"
	case bool:
		id.EmailVerified = v
	case string:
		id.EmailVerified = v == "true"
	}
	if id.Email == "" {
		id.EmailVerified = false
	}
	return id
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs reads a claim holding a list of strings or a single string; anything
// else (numbers in the list included) is left out.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// random is 32 random bytes, base64url: a state or nonce.
func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clean shortens a provider's words for a log line and drops control
// characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
