package verify

import (
	"errors"
	"time"
)

// Endpoint is a verify endpoint, as observers see it.
type Endpoint uint8

// The verify endpoints.
const (
	EndpointForwardAuth Endpoint = iota // /forward-auth (Traefik, Caddy)
	EndpointAuthRequest                 // /auth-request (nginx)
)

// Endpoints lists every Endpoint.
var Endpoints = []Endpoint{EndpointForwardAuth, EndpointAuthRequest}

func (e Endpoint) String() string {
	if e == EndpointAuthRequest {
		return "auth_request"
	}
	return "forward_auth"
}

// Outcome is what a verify answer decided.
type Outcome uint8

// Outcomes of a verify answer.
const (
	OutcomeAllow       Outcome = iota // 200
	OutcomeDeny                       // 401 or 403 (or a redirect to sign in or to the denied page)
	OutcomeRateLimited                // 429 (/auth-request: 403 marked for the proxy to turn into 429)
	OutcomeError                      // 500: the proxy is misconfigured, or authgate could not check
)

// Outcomes lists every Outcome.
var Outcomes = []Outcome{OutcomeAllow, OutcomeDeny, OutcomeRateLimited, OutcomeError}

func (o Outcome) String() string {
	switch o {
	case OutcomeAllow:
		return "allow"
	case OutcomeDeny:
		return "deny"
	case OutcomeRateLimited:
		return "rate_limited"
	}
	return "error"
}

// Reason is why a verify answer was not an allow: a small, fixed set, fit
// for a metric label.
type Reason uint8

// Reasons a verify answer gives; ReasonNone for an allow.
const (
	ReasonNone          Reason = iota
	ReasonNoCredential         // none sent (or a session cookie that does not admit)
	ReasonMalformed            // not shaped like any credential, or a kind not enabled
	ReasonUnknown              // no such key, token or session, or a JWT's kid names no key
	ReasonWrongSecret          // the secret does not match, or a JWT's signature does not verify
	ReasonExpired              // expired
	ReasonDisabled             // disabled (the key, or the token's or session's user)
	ReasonRevoked              // revoked (or its session was)
	ReasonInvalidClaims        // a JWT whose claims are not acceptable
	ReasonMissingScope         // a valid credential lacking what the route requires
	ReasonRateLimited          // over its rate limit
	ReasonBadPath              // the request path cannot be normalised safely
	ReasonMisconfigured        // the proxy did not call authgate the way the endpoint needs
	ReasonInternal             // authgate could not check (the store unreachable, the deny list stale)
)

// Reasons lists every Reason.
var Reasons = []Reason{ReasonNone, ReasonNoCredential, ReasonMalformed, ReasonUnknown, ReasonWrongSecret,
	ReasonExpired, ReasonDisabled, ReasonRevoked, ReasonInvalidClaims, ReasonMissingScope, ReasonRateLimited,
	ReasonBadPath, ReasonMisconfigured, ReasonInternal}

var reasonNames = [...]string{"none", "no_credential", "malformed", "unknown", "wrong_secret", "expired",
	"disabled", "revoked", "invalid_claims", "missing_scope", "rate_limited", "bad_path", "misconfigured", "internal"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "internal"
}

// ReasonOf classifies a verification error (nil: ReasonNone).
func ReasonOf(err error) Reason {
	if err == nil { // every allow asks
		return ReasonNone
	}
	if f, ok := factsOf(err); ok {
		return f.reason
	}
	return reasonOf(err)
}

// reasonOf is ReasonOf for any error: one errors.Is per sentinel, in the
// order that decides between them.
func reasonOf(err error) Reason {
	switch {
	case err == nil:
		return ReasonNone
	case errors.Is(err, ErrRateLimited):
		return ReasonRateLimited
	case errors.Is(err, ErrNoCredential):
		return ReasonNoCredential
	case errors.Is(err, ErrForbidden):
		return ReasonMissingScope
	case errors.Is(err, ErrWrongSecret), errors.Is(err, ErrBadSignature):
		return ReasonWrongSecret
	case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrUnknownSigningKey):
		return ReasonUnknown
	case errors.Is(err, ErrExpired):
		return ReasonExpired
	case errors.Is(err, ErrDisabled):
		return ReasonDisabled
	case errors.Is(err, ErrRevoked):
		return ReasonRevoked
	case errors.Is(err, ErrInvalidClaims):
		return ReasonInvalidClaims
	case errors.Is(err, ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, ErrBadPath):
		return ReasonBadPath
	case errors.Is(err, ErrMisconfigured):
		return ReasonMisconfigured
	}
	return ReasonInternal
}

// Decision is one verify answer, as an Observer sees it. It is valid only
// during the Observe call: an observer that keeps something copies it.
type Decision struct {
	Endpoint Endpoint
	Outcome  Outcome
	Reason   Reason // ReasonNone for an allow
	// Kind is the credential's kind when its shape was recognised ("" when
	// there was none, or it was malformed).
	Kind Kind
	// CredentialID is the id of the API key (key_…) or personal token (tok_…)
	// the request presented, when it was found: on an allow, and on a deny
	// for a wrong secret, an expired, disabled or revoked credential, a
	// missing scope or a rate limit. "" for every other kind and reason.
	CredentialID string
	// At is when the request reached the handler, by the verifier's clock:
	// the time its credential was judged at (an observer need not read the
	// clock again).
	At time.Time
	// Elapsed is the time from the request reaching the handler to the
	// answer being written.
	Elapsed time.Duration
	// Slot is a number the handler gives each Decision it makes, one after
	// another, and that stays with it across the answers it is reused for. The
	// handler reuses Decisions per core, so cores answering at once hold
	// different slots: an observer may pick by Slot which copy of a counter
	// to add to (metrics does), so that cores do not write the same cache line.
	Slot uint32
}

// Observer sees every verify answer (metrics, usage counts). Observe runs on
// the request's goroutine, after the answer is written: it must not block,
// and should not allocate.
type Observer interface {
	Observe(d *Decision)
}

// CacheStats are the verify cache's figures since the start: keys, personal
// tokens, sessions and JWTs together.
type CacheStats struct {
	Entries   int    // held now
	Hits      uint64 // answered from the cache
	Misses    uint64 // not in the cache (or stale): read from the store, or a JWT verified
	Evictions uint64 // dropped to make room for another (not expiries or Forget)
}

// CacheStats returns the cache's figures now.
func (v *Verifier) CacheStats() CacheStats {
	var s CacheStats
	v.cache.entries.stats(&s)
	if v.jwt != nil {
		v.jwt.cache.stats(&s)
	}
	return s
}
