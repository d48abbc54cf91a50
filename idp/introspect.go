package idp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/issue"
)

// VerifyAccessToken checks an access token that a native app obtained from
// the provider providerID by its own sign-in, and returns who it names,
// mapped as Finish maps claims (the same preset checks). The token is never
// taken on its face: the provider is first asked which client it was issued
// to, and only a token issued to one of the client ids configured for the
// provider passes:
//
//   - an OpenID provider whose discovery lists an introspection_endpoint is
//     asked by token introspection (RFC 7662) as authgate's confidential
//     client (client_secret_basic, or client_secret_post when discovery
//     lists only that); the answer must be active, with a client_id that is
//     client_id or one of native_client_ids, an iss (when present) that is
//     the issuer, an exp (when present) in the future and a token_type
//     (when present) that is not a refresh token;
//   - github is asked with "Check a token", which answers only for tokens
//     of the OAuth app client_id.
//
// Then the identity is read with the token (the userinfo endpoint, or
// GitHub's API), and its sub must be the one the check named.
//
// Returns ErrUnknownProvider, ErrUnavailable (discovery not done, or the
// provider could not answer), ErrInvalid (the token was refused), or an
// *UnsupportedError (wrapping ErrUnsupported, its Msg safe to show) for a
// provider that offers no such check or a public client, which cannot ask.
func (s *Set) VerifyAccessToken(ctx context.Context, providerID, token string) (issue.ExternalIdentity, error) {
	var none issue.ExternalIdentity
	p, d, err := s.ready(providerID)
	if err != nil {
		return none, err
	}
	if token == "" {
		return none, fmt.Errorf("%w: empty access token", ErrInvalid)
	}
	sub, err := d.check.checkToken(ctx, s.client, p, token)
	if err != nil {
		return none, err
	}
	claims, err := d.api.identify(ctx, s.client, token)
	if err != nil {
		return none, err
	}
	got := str(claims["sub"])
	if got == "" || (sub != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sub)) != 1) {
		return none, fmt.Errorf("%w: the identity read with the token names sub %q, the check %q", ErrInvalid, clean(got), clean(sub))
	}
	if err := p.cfg.admit(claims); err != nil {
		return none, err
	}
	return p.identity(p.cfg.Issuer, got, claims), nil
}

// introspection is an OpenID provider's token introspection endpoint
// (RFC 7662), asked as authgate's client.
type introspection struct {
	url  string
	post bool // client_secret_post: discovery lists it and not client_secret_basic
	now  func() time.Time
}

// introspectionAuthPost reports whether discovery's
// introspection_endpoint_auth_methods_supported asks for client_secret_post:
// it lists that and not client_secret_basic (absent, basic is the default).
func introspectionAuthPost(methods []string) bool {
	return slices.Contains(methods, "client_secret_post") && !slices.Contains(methods, "client_secret_basic")
}

func (in introspection) checkToken(ctx context.Context, hc *http.Client, p *provider, token string) (string, error) {
	if p.cfg.ClientSecret == "" {
		return "", &UnsupportedError{Provider: p.cfg.ID, Field: "access_token", Msg: p.cfg.ID + " is configured as a " +
			"public client (no client secret), and token introspection must be asked by an authenticated client: " +
			"send the ID token"}
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if in.post {
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", p.cfg.ClientSecret)
	}
	set := func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if !in.post { // RFC 6749 2.3.1: form-encode both before basic auth
			r.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
		}
	}
	var answer json.RawMessage
	// A 401 or 403 here refuses authgate's own credentials, not the token.
	err := (call{what: "token introspection", method: http.MethodPost, url: in.url, body: []byte(form.Encode()),
		set: set, refused: []int{}}).do(ctx, hc, &answer)
	if err != nil {
		return "", err
	}
	return introspected(answer, p.clientIDs(), p.cfg.Issuer, in.now())
}

// introspected reads an introspection answer (RFC 7662 2.2) and returns its
// sub ("" when it has none) when the token is active, was issued to one of
// clientIDs (client_id is required), has iss (when present) issuer, exp
// (when present) after now, and token_type (when present) not a refresh
// token. Returns ErrInvalid otherwise.
func introspected(b []byte, clientIDs []string, issuer string, now time.Time) (string, error) {
	var a struct {
		Active    bool        `json:"active"`
		ClientID  string      `json:"client_id"`
		Issuer    string      `json:"iss"`
		Exp       json.Number `json:"exp"`
		TokenType string      `json:"token_type"`
		Subject   string      `json:"sub"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return "", fmt.Errorf("%w: introspection answer: %v", ErrInvalid, err)
	}
	switch {
	case !a.Active:
		return "", fmt.Errorf("%w: introspection says the token is not active (unknown, expired, revoked, "+
			"or not for authgate's client to see)", ErrInvalid)
	case a.ClientID == "":
		return "", fmt.Errorf("%w: introspection names no client_id, so which app the token was issued to is unknown", ErrInvalid)
	case !slices.Contains(clientIDs, a.ClientID):
		return "", fmt.Errorf("%w: the token was issued to client %q, none of %q", ErrInvalid, clean(a.ClientID), clientIDs)
	case a.Issuer != "" && a.Issuer != issuer:
		return "", fmt.Errorf("%w: introspection iss %q is not %s", ErrInvalid, clean(a.Issuer), issuer)
	case strings.Contains(strings.ToLower(a.TokenType), "refresh"):
		return "", fmt.Errorf("%w: token_type %q: a refresh token is not an access token", ErrInvalid, clean(a.TokenType))
	}
	if a.Exp != "" {
		exp, err := strconv.ParseFloat(string(a.Exp), 64)
		if err != nil || !time.Unix(int64(exp), 0).After(now) {
			return "", fmt.Errorf("%w: introspection exp %q is not in the future", ErrInvalid, clean(string(a.Exp)))
		}
	}
	return a.Subject, nil
}
