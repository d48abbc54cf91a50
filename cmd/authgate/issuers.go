package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/authgate/authgate/jwks"
	"github.com/authgate/authgate/verify"
)

// externalIssuer is one issuer of AUTHGATE_EXTERNAL_ISSUERS, resolved: what
// the verifier checks, and where its keys are.
type externalIssuer struct {
	rules   verify.ExternalIssuer // Keys is set at start (startExternalIssuers)
	jwksURL string                // "": from the issuer's discovery
}

// externalIssuerJSON is an external issuer as the operator writes it.
type externalIssuerJSON struct {
	ID          string            `json:"id"`
	Issuer      string            `json:"issuer"`
	Audience    stringOrList      `json:"audience"`
	Algorithms  []string          `json:"algorithms"`
	JWKSURL     string            `json:"jwks_url"`
	Require     map[string]string `json:"require"`
	Scopes      []string          `json:"scopes"`
	ClaimScopes []struct {
		Claim  string   `json:"claim"`
		Value  string   `json:"value"`
		Scopes []string `json:"scopes"`
	} `json:"claim_scopes"`
	UserClaim string `json:"user_claim"`
}

// stringOrList is a JSON string or list of strings.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// defaultExternalAlgorithms are what most issuers sign with: GitHub Actions,
// Kubernetes and most identity providers RS256, some ES256.
var defaultExternalAlgorithms = []string{"RS256", "ES256"}

// githubActionsIssuer signs a token for any workflow of any repository that
// asks, with any audience it names.
const githubActionsIssuer = "https://token.actions.githubusercontent.com"

// githubOwnerClaims are the GitHub Actions claims that name whose workflow
// asked: a require on one of them pins the owner (sub starts with the
// repository).
var githubOwnerClaims = []string{"repository_owner", "repository_owner_id", "repository", "repository_id", "sub"}

// pinsOwner reports whether require names one of githubOwnerClaims.
func pinsOwner(require map[string]string) bool {
	for _, c := range githubOwnerClaims {
		if require[c] != "" {
			return true
		}
	}
	return false
}

// loadExternalIssuers reads AUTHGATE_EXTERNAL_ISSUERS (inline JSON) or
// AUTHGATE_EXTERNAL_ISSUERS_FILE (a path) and validates every issuer. Errors
// name the variable, the issuer and the field.
func (c Config) loadExternalIssuers() ([]externalIssuer, error) {
	variable, data, err := inlineOrFile("AUTHGATE_EXTERNAL_ISSUERS", c.ExternalIssuers, c.ExternalIssuersFile, "the issuers")
	if err != nil || data == nil {
		return nil, err
	}
	list, err := parseExternalIssuers(data, c.JWTIssuer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	return list, nil
}

// parseExternalIssuers reads a JSON list of issuers, refusing unknown
// fields, and validates each (ownIssuer is authgate's, which none may claim).
func parseExternalIssuers(data []byte, ownIssuer string) ([]externalIssuer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []externalIssuerJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON list of issuers: %v", err)
	}
	if dec.More() {
		return nil, errors.New("text after the JSON list")
	}
	out := make([]externalIssuer, 0, len(raw))
	rules := make([]verify.ExternalIssuer, 0, len(raw))
	for _, r := range raw {
		x := externalIssuer{jwksURL: r.JWKSURL, rules: verify.ExternalIssuer{ID: r.ID, Issuer: r.Issuer,
			Audiences: r.Audience, Algorithms: r.Algorithms, Require: r.Require, Scopes: r.Scopes,
			UserClaim: r.UserClaim, Keys: pendingKeys{}}}
		if x.rules.Algorithms == nil {
			x.rules.Algorithms = defaultExternalAlgorithms
		}
		for _, cs := range r.ClaimScopes {
			x.rules.ClaimScopes = append(x.rules.ClaimScopes, verify.ClaimScopes{Claim: cs.Claim, Value: cs.Value, Scopes: cs.Scopes})
		}
		bad := func(field, why string) error {
			return fmt.Errorf("external issuer %q: %s: %s", r.ID, field, why)
		}
		if err := x.rules.Validate(); err != nil {
			return nil, err
		}
		if why := urlProblem(r.Issuer); why != "" {
			return nil, bad("issuer", why)
		}
		if r.JWKSURL != "" {
			if why := urlProblem(r.JWKSURL); why != "" {
				return nil, bad("jwks_url", why)
			}
		}
		if strings.TrimSuffix(r.Issuer, "/") == githubActionsIssuer && !pinsOwner(r.Require) {
			return nil, bad("require", "GitHub Actions signs a token for every workflow of every repository, with any audience "+
				`it asks for: pin your own with one of `+strings.Join(githubOwnerClaims, ", ")+
				`, e.g. "require": {"repository_owner": "your-org"}`)
		}
		out, rules = append(out, x), append(rules, x.rules)
	}
	// What only the list can tell: ids and issuers used twice, authgate's own.
	if err := verify.ValidateExternal(rules, ownIssuer); err != nil {
		return nil, err
	}
	return out, nil
}

// urlProblem says what is wrong with an issuer's or JWKS URL, or "": https,
// or http on a loopback host only.
func urlProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.RawQuery != "":
		return fmt.Sprintf("%q must be an absolute https URL without user, query or fragment", raw)
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return ""
	}
	return fmt.Sprintf("%q must be https (http only on a loopback host)", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pendingKeys stands in for an issuer's keys while the configuration is
// checked; startExternalIssuers replaces it. It has no key.
type pendingKeys struct{}

func (pendingKeys) Key(context.Context, string, string) (any, error) {
	return nil, errors.New("keys not started")
}

// startExternalIssuers starts fetching each issuer's keys in the background,
// waits up to 10 s for them, and returns the verifier's rules with them and
// the key sets to close. An issuer without require is a warning: any token
// it signs for the audience passes.
func startExternalIssuers(list []externalIssuer, log *slog.Logger) ([]verify.ExternalIssuer, []*jwks.Keys, error) {
	var rules []verify.ExternalIssuer
	var sets []*jwks.Keys
	for _, x := range list {
		keys, err := jwks.Start(jwks.Options{Issuer: x.rules.Issuer, JWKSURL: x.jwksURL, Log: log})
		if err != nil {
			for _, s := range sets {
				s.Close()
			}
			return nil, nil, fmt.Errorf("external issuer %q: %w", x.rules.ID, err)
		}
		if len(x.rules.Require) == 0 {
			log.Warn("external issuer without require: every token it signs for the audience passes",
				"variable", "AUTHGATE_EXTERNAL_ISSUERS", "issuer", x.rules.ID)
		}
		r := x.rules
		r.Keys = keys
		rules, sets = append(rules, r), append(sets, keys)
	}
	// As with the identity providers, start waits a little for the keys, so
	// that tokens pass from the first request; one that does not answer in
	// time is fetched in the background meanwhile (its tokens refused).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, k := range sets {
		if !k.WaitReady(ctx) {
			log.Warn("external issuer: keys not fetched yet; its tokens are refused until they are",
				"variable", "AUTHGATE_EXTERNAL_ISSUERS", "issuer", list[i].rules.ID)
		}
	}
	return rules, sets, nil
}
