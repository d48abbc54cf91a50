package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// identityAPI is how authgate learns, with an access token, who it names,
// where there is no ID token: a plain OAuth2 provider's userinfo endpoint
// or API (for Finish), and the userinfo endpoint of an OpenID provider
// (after introspection, for IntrospectAccessToken).
type identityAPI interface {
	// identify returns the claims the token's owner has, in OpenID Connect's
	// names (sub, email, email_verified, name, preferred_username and any
	// others the provider sends). Errors wrap ErrInvalid (the token was
	// refused) or ErrUnavailable.
	identify(ctx context.Context, hc *http.Client, token string) (map[string]any, error)
}

// tokenChecker asks the provider whether an access token was issued to one
// of the provider's configured clients (VerifyAccessToken).
type tokenChecker interface {
	// checkToken returns the subject the provider says the token names
	// ("" when its answer names none) only when it says the token is active
	// and was issued to one of p's client ids: otherwise ErrInvalid, or
	// ErrUnavailable when it cannot say, or *UnsupportedError when the
	// provider offers no such check.
	checkToken(ctx context.Context, hc *http.Client, p *provider, token string) (subject string, err error)
}

// noCheck is the tokenChecker of a provider that offers no way to learn
// which client an access token was issued to.
// why names what the provider lacks.
type noCheck struct{ why string }

func (n noCheck) checkToken(_ context.Context, _ *http.Client, p *provider, _ string) (string, error) {
	msg := p.cfg.ID + " offers no way to learn which app an access token was issued to (" + n.why + "); a userinfo " +
		"endpoint proves only that a token is valid, so another app's token would pass"
	if !p.cfg.oauth2Only() {
		msg += ": send the ID token"
	}
	return "", &UnsupportedError{Provider: p.cfg.ID, Field: "access_token", Msg: msg}
}

// userinfoAPI reads the identity from an endpoint answering as OpenID
// Connect's userinfo does (a JSON object with sub), called with the token.
type userinfoAPI struct{ url string }

func (u userinfoAPI) identify(ctx context.Context, hc *http.Client, token string) (map[string]any, error) {
	var claims map[string]any
	if err := (call{what: "userinfo", url: u.url, set: bearer(token)}).do(ctx, hc, &claims); err != nil {
		return nil, err
	}
	if str(claims["sub"]) == "" {
		return nil, fmt.Errorf("%w: userinfo names no sub", ErrInvalid)
	}
	return claims, nil
}

// bearer sets the Authorization header to the access token.
func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// maxAnswer bounds what authgate reads of a provider's answer.
const maxAnswer = 1 << 20

// call is one request to a provider's endpoint.
type call struct {
	what   string // names the endpoint in errors
	method string // default GET
	url    string
	body   []byte
	set    func(*http.Request) // headers, authentication
	// refused are the statuses that mean the token was refused (ErrInvalid);
	// default 401, 403 (GitHub's answer to a token without the scope) and 404.
	refused []int
}

// do sends c and decodes its JSON answer into out. A refused status wraps
// ErrInvalid; no answer, any other status but 200 or an answer that is not
// JSON wraps ErrUnavailable.
func (c call) do(ctx context.Context, hc *http.Client, out any) error {
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.refused == nil {
		c.refused = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, rd)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, c.what, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.set != nil {
		c.set(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, c.what, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, c.what, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case slices.Contains(c.refused, resp.StatusCode):
		return fmt.Errorf("%w: %s answered %s: %s", ErrInvalid, c.what, resp.Status, clean(string(b)))
	default:
		return fmt.Errorf("%w: %s answered %s: %s", ErrUnavailable, c.what, resp.Status, clean(string(b)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		return fmt.Errorf("%w: %s answered %q, not JSON", ErrUnavailable, c.what, clean(ct))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: %s answer: %v", ErrUnavailable, c.what, err)
	}
	return nil
}
