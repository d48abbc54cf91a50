package verify

import (
	"errors"
	"net/http"
)

// Why a request was denied. The client sees only the status and the short code
// that Status returns for each; the precise reason goes to the log. Unknown key,
// wrong secret, expired, disabled, revoked and malformed all answer the same
// 401, so a client cannot probe which keys exist; so do a JWT's unknown signing
// key, bad signature and invalid claims.
var (
	ErrNoCredential = errors.New("no credential")
	ErrMalformed    = errors.New("malformed credential")
	ErrUnknownKey   = errors.New("unknown key")
	ErrWrongSecret  = errors.New("wrong secret")
	ErrExpired      = errors.New("credential expired")
	ErrDisabled     = errors.New("credential disabled")
	ErrRevoked      = errors.New("credential revoked")
	ErrForbidden    = errors.New("insufficient scope")

	// ErrUnknownSigningKey means a JWT names (kid) no key in the verifier's keyset.
	ErrUnknownSigningKey = errors.New("unknown signing key")
	// ErrBadSignature means a JWT's signature does not verify under the key its
	// kid names, or its alg is not that key's algorithm.
	ErrBadSignature = errors.New("bad signature")
	// ErrInvalidClaims means a JWT is signed by a known key, but its claims do not
	// admit it here: wrong issuer or audience, not yet valid, or a required claim
	// missing. An expired one is ErrExpired.
	ErrInvalidClaims = errors.New("invalid claims")

	// ErrBadPath means the original request's path cannot be normalised safely
	// (see CleanPath), so no rule could be judged against what the proxy will
	// route on. It answers 403: the request is refused whoever sends it.
	ErrBadPath = errors.New("bad request path")

	// ErrMisconfigured means the proxy did not call authgate the way its endpoint
	// needs (missing forwarded headers, an unknown parameter in the verify URL).
	// Wrapped in a *ConfigError, whose message is safe to show.
	ErrMisconfigured = errors.New("proxy misconfigured")

	// ErrRateLimited means a valid credential is over a rate limit: its own,
	// or the route's.
	ErrRateLimited = errors.New("rate limited")

	// ErrNotFound is returned by stores when no record matches.
	ErrNotFound = errors.New("not found")
)

// ConfigError describes a proxy misconfiguration in words meant for the operator.
// Its message names no secret and is safe to return to the client.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string        { return e.Msg }
func (e *ConfigError) Is(target error) bool { return target == ErrMisconfigured }

// Codes returned in the error field of a deny body and in WWW-Authenticate.
const (
	CodeMissingCredential  = "missing_credential"
	CodeInvalidToken       = "invalid_token"
	CodeInsufficientScope  = "insufficient_scope"
	CodeInvalidPath        = "invalid_path"
	CodeProxyMisconfigured = "proxy_misconfigured"
	CodeServerError        = "server_error"
	CodeRateLimited        = "rate_limited"
)

// Status maps a verification error to the HTTP status and the error code the
// client sees. Anything it does not recognise is a 500: authgate fails closed.
func Status(err error) (status int, code string) {
	if f, ok := factsOf(err); ok {
		return f.status, f.code
	}
	return statusOf(err)
}

// statusOf is Status for any error: one errors.Is per sentinel, in the order
// that decides between them.
func statusOf(err error) (status int, code string) {
	switch {
	case errors.Is(err, ErrNoCredential):
		return http.StatusUnauthorized, CodeMissingCredential
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUnknownKey), errors.Is(err, ErrWrongSecret),
		errors.Is(err, ErrExpired), errors.Is(err, ErrDisabled), errors.Is(err, ErrRevoked),
		errors.Is(err, ErrUnknownSigningKey), errors.Is(err, ErrBadSignature), errors.Is(err, ErrInvalidClaims):
		return http.StatusUnauthorized, CodeInvalidToken
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, CodeRateLimited
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, CodeInsufficientScope
	case errors.Is(err, ErrBadPath):
		return http.StatusForbidden, CodeInvalidPath
	case errors.Is(err, ErrMisconfigured):
		return http.StatusInternalServerError, CodeProxyMisconfigured
	}
	return http.StatusInternalServerError, CodeServerError
}

// sentinelFacts is what Status and ReasonOf say of an error that is one
// sentinel, plainly wrapped.
type sentinelFacts struct {
	sentinel error
	reason   Reason
	status   int
	code     string
}

// sentinels is every sentinel a deny is made of, with what Status and
// ReasonOf say of it. TestSentinelFacts holds it to statusOf and reasonOf.
var sentinels = [...]sentinelFacts{
	{ErrNoCredential, ReasonNoCredential, http.StatusUnauthorized, CodeMissingCredential},
	{ErrMalformed, ReasonMalformed, http.StatusUnauthorized, CodeInvalidToken},
	{ErrUnknownKey, ReasonUnknown, http.StatusUnauthorized, CodeInvalidToken},
	{ErrWrongSecret, ReasonWrongSecret, http.StatusUnauthorized, CodeInvalidToken},
	{ErrExpired, ReasonExpired, http.StatusUnauthorized, CodeInvalidToken},
	{ErrDisabled, ReasonDisabled, http.StatusUnauthorized, CodeInvalidToken},
	{ErrRevoked, ReasonRevoked, http.StatusUnauthorized, CodeInvalidToken},
	{ErrUnknownSigningKey, ReasonUnknown, http.StatusUnauthorized, CodeInvalidToken},
	{ErrBadSignature, ReasonWrongSecret, http.StatusUnauthorized, CodeInvalidToken},
	{ErrInvalidClaims, ReasonInvalidClaims, http.StatusUnauthorized, CodeInvalidToken},
	{ErrForbidden, ReasonMissingScope, http.StatusForbidden, CodeInsufficientScope},
	{ErrRateLimited, ReasonRateLimited, http.StatusTooManyRequests, CodeRateLimited},
	{ErrBadPath, ReasonBadPath, http.StatusForbidden, CodeInvalidPath},
	{ErrMisconfigured, ReasonMisconfigured, http.StatusInternalServerError, CodeProxyMisconfigured},
}

// factsOf returns the facts of the sentinel err is, when err is one: a chain
// of single wraps, none with an Is method, ending in a sentinel. The
// sentinels wrap nothing, so errors.Is holds for that one and no other, and
// the facts are what the errors.Is switches of Status and ReasonOf would
// find. Anything else (several wrapped errors, an Is method, no sentinel at
// the end) is not judged here: ok is false and the caller asks the switch.
// A deny asks what its error is two or three times; one walk down a chain of
// two or three links costs a fraction of a dozen errors.Is calls.
func factsOf(err error) (sentinelFacts, bool) {
	for err != nil {
		switch e := err.(type) {
		case interface{ Is(error) bool }, interface{ Unwrap() []error }:
			return sentinelFacts{}, false
		case interface{ Unwrap() error }:
			err = e.Unwrap()
			continue
		}
		for _, f := range &sentinels {
			if err == f.sentinel { // a sentinel's type is comparable: no panic whatever err is
				return f, true
			}
		}
		return sentinelFacts{}, false
	}
	return sentinelFacts{}, false
}
