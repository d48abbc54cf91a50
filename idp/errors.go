package idp

import "errors"

// The errors Begin and Finish wrap, for the portal to choose a page by.
var (
	// ErrUnknownProvider: no provider has this id.
	ErrUnknownProvider = errors.New("unknown identity provider")
	// ErrUnavailable: the provider's discovery has not succeeded yet, or its
	// token endpoint could not be reached or failed.
	ErrUnavailable = errors.New("identity provider unavailable")
	// ErrExpired: the attempt is too old, belongs to another provider, has
	// another state, or its code was refused (already used, or expired).
	ErrExpired = errors.New("sign-in attempt expired or replayed")
	// ErrDenied: the provider answered with an error parameter.
	ErrDenied = errors.New("identity provider refused the sign-in")
	// ErrInvalid: the answer failed a check: the iss parameter, the ID
	// token's signature, issuer, audience, expiry, algorithm or nonce.
	ErrInvalid = errors.New("invalid answer from identity provider")
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
