package idptest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// ServiceClient is a machine client (as GitHub Actions or Kubernetes present
// to a resource server) registered for the client_credentials grant only,
// with client_secret_basic or client_secret_post. Its access tokens are JWTs
// signed with the provider's current key (kid in the header) and carry iss
// (the issuer), sub and client_id (ID), aud (Audience), exp, iat, nbf and jti,
// and Claims; the registered claims win over a Claims entry of the same name.
type ServiceClient struct {
	ID, Secret string
	// Audience is the aud of its access tokens; empty means []string{ID}.
	Audience []string
	// Claims are put in every access token it gets, whatever the scopes
	// (e.g. "repository": "acme/site", "groups": []string{"deployers"});
	// they go through JSON, so numbers come back as float64.
	Claims map[string]any
}

// ClientCredentials returns a JWT access token from the token endpoint for the
// service client, by grant_type=client_credentials with client_secret_basic,
// asking for scopes (may be empty). It fails t on any error.
func (p *Provider) ClientCredentials(t testing.TB, clientID, secret string, scopes ...string) string {
	t.Helper()
	tok, err := p.clientCredentials(clientID, secret, scopes...)
	if err != nil {
		t.Fatalf("client_credentials for %s at %s: %v", clientID, p.tokenURL, err)
	}
	return tok
}

// clientCredentials is ClientCredentials returning the error: a refusal is
// "401 Unauthorized: {…invalid_client…}" or the like, with the response body.
func (p *Provider) clientCredentials(clientID, secret string, scopes ...string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequest(http.MethodPost, p.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 2.3.1: form-urlencoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	var resp struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := doJSON(req, &resp); err != nil {
		return "", err
	}
	if resp.AccessToken == "" || !strings.EqualFold(resp.TokenType, "Bearer") || strings.Count(resp.AccessToken, ".") != 2 {
		return "", fmt.Errorf("token response: %s access token %q; want a Bearer JWT", resp.TokenType, resp.AccessToken)
	}
	return resp.AccessToken, nil
}

// RotateKey makes the provider sign with a new key (new kid) from now on: ID
// tokens and JWT access tokens alike. Its JWKS (jwks_uri) then publishes the
// new key and every earlier one until RetireKeys. Returns the new key's kid.
func (p *Provider) RotateKey(t testing.TB) (newKID string) {
	t.Helper()
	var r struct {
		KID string `json:"kid"`
	}
	p.control(t, http.MethodPost, "rotate", &r)
	return r.KID
}

// RetireKeys removes every key but the current one from the JWKS.
func (p *Provider) RetireKeys(t testing.TB) {
	t.Helper()
	p.control(t, http.MethodPost, "retire", nil)
}

// KeyIDs returns the kids the JWKS publishes now (fetched from jwks_uri, which
// counts as a fetch for JWKSFetches), oldest first.
func (p *Provider) KeyIDs(t testing.TB) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.jwksURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := doJSON(req, &set); err != nil {
		t.Fatalf("JWKS %s: %v", p.jwksURL, err)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.KID
	}
	return kids
}

// JWKSFetches returns how many times the JWKS (jwks_uri) has been requested
// since the provider started, by anyone (KeyIDs included).
func (p *Provider) JWKSFetches(t testing.TB) int {
	t.Helper()
	var r struct {
		Count int `json:"count"`
	}
	p.control(t, http.MethodGet, "jwks-fetches", &r)
	return r.Count
}

// control calls the launcher's test control surface (testdata/op/keys.go).
func (p *Provider) control(t testing.TB, method, cmd string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, p.Issuer+"authgate-test/"+cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out == nil {
		out = new(json.RawMessage)
	}
	if err := doJSON(req, out); err != nil {
		t.Fatalf("%s %s: %v", method, req.URL, err)
	}
}

// discover reads the token endpoint and jwks_uri from the discovery document.
func (p *Provider) discover(t testing.TB) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.Issuer+".well-known/openid-configuration", nil)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Token string `json:"token_endpoint"`
		JWKS  string `json:"jwks_uri"`
	}
	if err := doJSON(req, &d); err != nil || d.Token == "" || d.JWKS == "" {
		t.Fatalf("discovery of %s: %v (token_endpoint %q, jwks_uri %q)", p.Issuer, err, d.Token, d.JWKS)
	}
	p.tokenURL, p.jwksURL = d.Token, d.JWKS
}

// doJSON sends req and decodes a 200 response's JSON body into out.
func doJSON(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w", req.URL, err)
	}
	return nil
}
