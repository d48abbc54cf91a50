package verify

import (
	"context"
	"time"
)

// KeyRecord is what the verifier needs to know about a stored API key.
// Zero times mean "not set".
type KeyRecord struct {
	ID         string
	LookupID   string
	Subject    string
	Name       string
	Scopes     []string
	SecretMAC  []byte
	MACVersion int16
	ExpiresAt  time.Time
	DisabledAt time.Time
	RevokedAt  time.Time
	RateLimit  RateRule // the key's own; zero: none
}

// KeyStore is the storage the verifier reads API keys from.
type KeyStore interface {
	// KeyByLookupID returns the key with this lookup id, in any state.
	// Returns ErrNotFound if there is none.
	KeyByLookupID(ctx context.Context, lookupID string) (KeyRecord, error)
	// KeysTouch records that the keys with these ids were used at the given time.
	KeysTouch(ctx context.Context, ids []string, at time.Time) error
}

// TokenRecord is what the verifier needs to know about a stored personal token
// (agp_…) and the user it belongs to. Scopes are already the effective ones:
// the token's scopes that the user still holds now. Zero times mean "not set".
type TokenRecord struct {
	ID           string // tok_…
	LookupID     string
	Name         string
	SecretMAC    []byte
	MACVersion   int16
	Scopes       []string // effective: token scopes ∩ the user's current permissions
	ExpiresAt    time.Time
	RevokedAt    time.Time
	UserID       string
	Username     string
	Email        string
	Roles        []string
	UserDisabled bool
	RateLimit    RateRule // the token's own; zero: none
}

// TokenStore is the storage the verifier reads personal tokens from.
type TokenStore interface {
	// TokenByLookupID returns the personal token with this lookup id, in any
	// state, with its user. Returns ErrNotFound if there is none (or its user
	// was deleted).
	TokenByLookupID(ctx context.Context, lookupID string) (TokenRecord, error)
	// TokensTouch records that the tokens with these ids were used at the given time.
	TokensTouch(ctx context.Context, ids []string, at time.Time) error
}
