package issue

import (
	"context"
	"time"

	"github.com/authgate/authgate/verify"
)

// SigningKey is a JWT signing key as stored: PrivateKey is sealed under a key
// derived from AUTHGATE_SECRET; PublicKey is PKIX DER (empty for HS256).
type SigningKey struct {
	KID        string
	Alg        string // ES256, EdDSA or HS256
	PublicKey  []byte
	PrivateKey []byte
	CreatedAt  time.Time
	RetireAt   *time.Time // verifies until then; nil while it is the signing key
}

// TokenSigner signs access tokens with the current signing key.
type TokenSigner interface {
	Sign(ctx context.Context, claims verify.AccessClaims) (string, error)
}
