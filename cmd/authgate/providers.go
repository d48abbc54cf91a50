package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
)

// loadProviders reads the OpenID providers from AUTHGATE_PROVIDERS (inline
// JSON) or AUTHGATE_PROVIDERS_FILE (a path), reading each client secret from
// the variable of environ or the file it names, and validates them. Errors
// name the variable, and idp's the provider and the field. Providers need a
// portal: their buttons are on its sign-in page, their callbacks on its host.
func (c Config) loadProviders(environ map[string]string) ([]idp.ProviderConfig, error) {
	variable, data := "AUTHGATE_PROVIDERS", []byte(c.Providers)
	switch {
	case c.Providers != "" && c.ProvidersFile != "":
		return nil, fmt.Errorf("AUTHGATE_PROVIDERS and AUTHGATE_PROVIDERS_FILE are both set: give the providers one way")
	case c.ProvidersFile != "":
		variable = "AUTHGATE_PROVIDERS_FILE"
		var err error
		if data, err = os.ReadFile(c.ProvidersFile); err != nil {
			return nil, fmt.Errorf("AUTHGATE_PROVIDERS_FILE cannot be read: %w", err)
		}
	case c.Providers == "":
		return nil, nil
	}
	if len(c.sites) == 0 {
		return nil, fmt.Errorf("%s is set but there is no sign-in portal: set AUTHGATE_COOKIE_DOMAINS and AUTHGATE_PORTAL_URLS, "+
			"where the provider buttons and callbacks (https://<portal>/sso/<id>/callback) are served", variable)
	}
	list, err := idp.ParseProviders(data, idp.Lookups{
		Env:      func(name string) (string, bool) { v, ok := environ[name]; return v, ok },
		ReadFile: os.ReadFile,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	return list, nil
}

// SSOKey returns the key that seals sign-in attempt cookies, derived from the
// server secret like the Hasher's.
func (c Config) SSOKey() ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(c.Secret), nil, "authgate sso attempt v1", 32)
}

// startProviders discovers the configured providers (nil when none). An
// unreachable provider is a warning and a background retry, not an error;
// discovery at start waits at most 10 seconds.
func startProviders(ctx context.Context, list []idp.ProviderConfig, log *slog.Logger, now func() time.Time) (*idp.Set, error) {
	if len(list) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return idp.New(ctx, list, idp.Options{Now: now, Log: log})
}

// idTokenVerifier is the providers as the API's ID-token exchange needs them:
// idp's refusals turned into the errors its table maps (see
// api.ExternalVerifier), the detail logged, never shown.
type idTokenVerifier struct {
	set *idp.Set
	log *slog.Logger
}

var _ api.ExternalVerifier = idTokenVerifier{}

// Policy is idp.Set's.
func (v idTokenVerifier) Policy(provider string) (issue.ProviderPolicy, bool) {
	return v.set.Policy(provider)
}

// VerifyIDToken is idp.Set's, with its errors mapped for the API.
func (v idTokenVerifier) VerifyIDToken(ctx context.Context, provider, raw string) (issue.ExternalIdentity, error) {
	id, err := v.set.VerifyIDToken(ctx, provider, raw)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, idp.ErrUnknownProvider):
		return id, &issue.FieldError{Field: "provider", Msg: "no identity provider has this id"}
	case errors.Is(err, idp.ErrUnavailable):
		v.log.Warn("id token exchange: provider unavailable", "provider", provider, "err", err.Error())
		return id, &issue.ThrottleError{Busy: true, RetryAfter: 5 * time.Second,
			Msg: "the identity provider has not answered yet; try again later"}
	case errors.Is(err, idp.ErrInvalid):
		v.log.Info("id token exchange refused", "provider", provider, "err", err.Error())
		return id, &issue.AuthError{Err: issue.ErrUnauthenticated,
			Msg: "the ID token was refused: it must be signed by the provider, unexpired, and issued to one of the client ids configured for it"}
	}
	return id, fmt.Errorf("verify ID token from %s: %w", provider, err)
}
