package idp

import "errors"

// The errors Begin, Finish, VerifyIDToken and VerifyAccessToken wrap, for the
// portal to choose a page by and the exchange to choose a status by.
var (
	// ErrUnknownProvider: no provider has this id.
	ErrUnknownProvider = errors.New("unknown identity provider")
	// ErrUnavailable: the provider's discovery has not succeeded yet, or its
	// token endpoint (or introspection, userinfo or API) could not be
	// reached or failed.
	ErrUnavailable = errors.New("identity provider unavailable")
	// ErrExpired: the attempt is too old, belongs to another provider, has
	// another state, or its code was refused (already used, or expired).
	ErrExpired = errors.New("sign-in attempt expired or replayed")
	// ErrDenied: the provider answered with an error parameter.
	ErrDenied = errors.New("identity provider refused the sign-in")
	// ErrInvalid: the answer failed a check: the iss parameter, the ID
	// token's signature, issuer, audience, expiry, algorithm or nonce; or an
	// access token the provider says is not active or not one of ours.
	ErrInvalid = errors.New("invalid answer from identity provider")
	// ErrNotAllowed: the answer passed every check, and names someone the
	// provider's configuration does not admit (a Google account outside
	// hosted_domain, an Entra groups overage that a roles mapping cannot
	// read). It is about who the person is, not about a broken or forged
	// answer: the portal says "not allowed here" (403), not "could not be
	// verified". Every *NotAllowedError wraps it, and ErrInvalid too, so that
	// a caller that knows only ErrInvalid still refuses.
	ErrNotAllowed = errors.New("account not admitted by the identity provider's configuration")
	// ErrConfig is what every *ConfigError wraps.
	ErrConfig = errors.New("invalid identity provider configuration")
)

// ConfigError refuses a provider's configuration, naming the provider and
// the JSON field at fault.
type ConfigError struct {
	Provider string // the provider's id, or its position ("#2") when it has none
	Field    string // the JSON field: "issuer", "client_secret_env"…
	Msg      string
}

func (e *ConfigError) Error() string {
	return "provider " + e.Provider + ": " + e.Field + ": " + e.Msg
}

// Is makes every ConfigError match ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// NotAllowedError refuses an identity the provider's configuration does not
// admit (ErrNotAllowed, and ErrInvalid). Check is a short fixed name of the
// check that refused it, safe to log and to audit ("hosted_domain",
// "groups_overage"); Msg says why for the log and may quote a claim, so it is
// never shown to the person.
type NotAllowedError struct {
	Provider string
	Check    string
	Msg      string
}

func (e *NotAllowedError) Error() string { return ErrNotAllowed.Error() + ": " + e.Msg }

// Is makes every NotAllowedError match ErrNotAllowed and ErrInvalid.
func (e *NotAllowedError) Is(target error) bool {
	return target == ErrNotAllowed || target == ErrInvalid
}

// ErrUnsupported is what every *UnsupportedError wraps.
var ErrUnsupported = errors.New("token form not accepted for this provider")

// UnsupportedError refuses a token form the provider offers no check for:
// an access token from a provider with no way to learn which client it was
// issued to, an ID token from a provider that issues none. Msg says why and
// names the provider; it holds nothing secret and may be shown.
type UnsupportedError struct {
	Provider string
	Field    string // the exchange's field: "access_token" or "id_token"
	Msg      string
}

func (e *UnsupportedError) Error() string { return e.Field + ": " + e.Msg }

// Is makes every UnsupportedError match ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }
