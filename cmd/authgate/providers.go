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
// name the variable, and idp's the provider and the field. Without a portal
// the providers serve the native-app exchange only (start warns): their
// buttons are on the portal's sign-in page, their callbacks on its host.
func (c Config) loadProviders(environ map[string]string) ([]idp.ProviderConfig, error) {
	variable, data, err := inlineOrFile("AUTHGATE_PROVIDERS", c.Providers, c.ProvidersFile, "the providers")
	if err != nil || data == nil {
		return nil, err
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

// inlineOrFile returns the JSON a setting gives inline (variable) or in a
// file (variable_FILE), which of the two variables gave it, and nil data when
// neither is set. Both set is an error, and so is a file that cannot be read;
// each names the variable. what names the setting's content for the error.
func inlineOrFile(variable, inline, file, what string) (string, []byte, error) {
	switch {
	case inline != "" && file != "":
		return "", nil, fmt.Errorf("%s and %s_FILE are both set: give %s one way", variable, variable, what)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", nil, fmt.Errorf("%s_FILE cannot be read: %w", variable, err)
		}
		return variable + "_FILE", data, nil
	case inline != "":
		return variable, []byte(inline), nil
	}
	return variable, nil, nil
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

// idTokenVerifier (named for its first form; it checks access tokens too) is
// the providers as the API's token exchange needs them:
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
	return id, v.mapErr(err, provider, "ID token", "the ID token was refused: it must be signed by the provider, "+
		"unexpired, and issued to one of the client ids configured for it")
}

// VerifyAccessToken is idp.Set's, with its errors mapped for the API.
func (v idTokenVerifier) VerifyAccessToken(ctx context.Context, provider, token string) (issue.ExternalIdentity, error) {
	id, err := v.set.VerifyAccessToken(ctx, provider, token)
	return id, v.mapErr(err, provider, "access token", "the access token was refused: the provider must say it is "+
		"active and was issued to one of the client ids configured for it")
}

// mapErr turns an idp refusal of a token of this form into the API's error;
// refused is what a token that fails a check is told.
func (v idTokenVerifier) mapErr(err error, provider, form, refused string) error {
	if err == nil {
		return nil
	}
	if ue, ok := errors.AsType[*idp.UnsupportedError](err); ok {
		return &issue.FieldError{Field: ue.Field, Msg: ue.Msg}
	}
	switch {
	case errors.Is(err, idp.ErrUnknownProvider):
		return &issue.FieldError{Field: "provider", Msg: "no identity provider has this id"}
	case errors.Is(err, idp.ErrUnavailable):
		v.log.Warn(form+" exchange: provider unavailable", "provider", provider, "err", err.Error())
		return &issue.ThrottleError{Busy: true, RetryAfter: 5 * time.Second,
			Msg: "the identity provider has not answered; try again later"}
	case errors.Is(err, idp.ErrNotAllowed): // before ErrInvalid, which it wraps too
		v.log.Info(form+" exchange: account not admitted", "provider", provider, "err", err.Error())
		check := "policy"
		if na, ok := errors.AsType[*idp.NotAllowedError](err); ok {
			check = na.Check
		}
		return &issue.NotAdmittedError{Check: check} // 403, audited by the API: the token is good, the account may not sign in here
	case errors.Is(err, idp.ErrInvalid):
		v.log.Info(form+" exchange refused", "provider", provider, "err", err.Error())
		return &issue.AuthError{Err: issue.ErrUnauthenticated, Msg: refused}
	}
	return fmt.Errorf("verify %s from %s: %w", form, provider, err)
}
