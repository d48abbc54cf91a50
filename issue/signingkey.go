package issue

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/chacha20poly1305"

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

// Sealer seals the private half of signing keys for storage with
// XChaCha20-Poly1305: a random 24-byte nonce, then the ciphertext of the
// PKCS#8 DER key. The kid is the additional data, so a sealed key opens only in
// its own row. A Sealer is safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer under key, which must be 32 bytes. cmd derives it
// from AUTHGATE_SECRET with HKDF-SHA-256, info "authgate signing keys v1".
func NewSealer(key []byte) (*Sealer, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("signing-key sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// errUnsealed hides why a sealed key did not open: the same words for a wrong
// server secret, a key moved to another row, and altered bytes.
var errUnsealed = errors.New("sealed private key does not open: another server secret, another row's key, or altered")

// Seal encrypts plaintext for the row of key kid.
func (s *Sealer) Seal(kid string, plaintext []byte) []byte {
	n := s.aead.NonceSize()
	nonce := make([]byte, n, n+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce) // never fails (crypto/rand crashes the program instead)
	return s.aead.Seal(nonce, nonce, plaintext, []byte(kid))
}

// Open decrypts what Seal sealed for kid. Returns an error if sealed was made
// under another key or for another kid, or was altered.
func (s *Sealer) Open(kid string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errUnsealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, errUnsealed
	}
	return plain, nil
}

// liveKey is a signing key ready for use: parsed, and checked against its row.
type liveKey struct {
	kid      string
	alg      string
	method   jwt.SigningMethod
	public   any // what verifies: *ecdsa.PublicKey, ed25519.PublicKey or the HS256 secret
	private  any // what signs: *ecdsa.PrivateKey, ed25519.PrivateKey or the HS256 secret
	jwk      *jwk
	retireAt *time.Time
}

// newSigningKey mints a key of alg (ES256 or EdDSA) created at now: its row,
// private key sealed, and its live form.
func newSigningKey(alg string, sealer *Sealer, now time.Time) (SigningKey, *liveKey, error) {
	var private any
	switch alg {
	case verify.AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return SigningKey{}, nil, err
		}
		private = k
	case verify.AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return SigningKey{}, nil, err
		}
		private = k
	default:
		return SigningKey{}, nil, fmt.Errorf("cannot mint a %s key", alg)
	}
	live, err := liveAsymmetric(alg, private)
	if err != nil {
		return SigningKey{}, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		return SigningKey{}, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(live.public)
	if err != nil {
		return SigningKey{}, nil, err
	}
	row := SigningKey{KID: live.kid, Alg: alg, PublicKey: pub, PrivateKey: sealer.Seal(live.kid, der), CreatedAt: now}
	return row, live, nil
}

// hsSigningKey is the row of the HS256 key whose secret is secret: no key
// material, only a kid derived from the secret.
func hsSigningKey(secret []byte, now time.Time) SigningKey {
	return SigningKey{KID: hsKID(secret), Alg: verify.AlgHS256, PublicKey: []byte{}, PrivateKey: []byte{}, CreatedAt: now}
}

// hsKID names the HS256 key with this secret. It is a hash with its own
// domain, so the kid reveals nothing usable about the secret.
func hsKID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte("authgate hs256 kid v1\x00"))
	h.Write(secret)
	return "hs-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// openSigningKey turns a stored row into a live key. An ES256 or EdDSA key
// must open with sealer, and its public key and kid must be those of the
// private key, so a row written without the server secret is never trusted.
// An HS256 row is usable only with the secret its kid names (hs, may be nil).
func openSigningKey(row SigningKey, sealer *Sealer, hs []byte) (*liveKey, error) {
	if row.Alg == verify.AlgHS256 {
		if hs == nil || row.KID != hsKID(hs) {
			return nil, errors.New("HS256 key of a secret this server does not hold")
		}
		return &liveKey{kid: row.KID, alg: row.Alg, method: jwt.SigningMethodHS256, public: hs, private: hs,
			retireAt: row.RetireAt}, nil
	}
	der, err := sealer.Open(row.KID, row.PrivateKey)
	if err != nil {
		return nil, err
	}
	private, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	live, err := liveAsymmetric(row.Alg, private)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(live.public)
	if err != nil {
		return nil, err
	}
	if live.kid != row.KID || !bytes.Equal(pub, row.PublicKey) {
		return nil, errors.New("the stored public key or kid is not the private key's")
	}
	live.retireAt = row.RetireAt
	return live, nil
}

// liveAsymmetric builds the live form of an ES256 or EdDSA private key; its
// kid is the RFC 7638 thumbprint of the public JWK.
func liveAsymmetric(alg string, private any) (*liveKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	live := &liveKey{alg: alg, private: private}
	switch k := private.(type) {
	case *ecdsa.PrivateKey:
		if alg != verify.AlgES256 || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("an ECDSA key is not a %s key", alg)
		}
		point, err := k.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			return nil, err
		}
		live.method, live.public = jwt.SigningMethodES256, &k.PublicKey
		live.jwk = &jwk{Kty: "EC", Crv: "P-256", X: b64(point[1:33]), Y: b64(point[33:65])}
	case ed25519.PrivateKey:
		if alg != verify.AlgEdDSA {
			return nil, fmt.Errorf("an Ed25519 key is not a %s key", alg)
		}
		pub := k.Public().(ed25519.PublicKey)
		live.method, live.public = jwt.SigningMethodEdDSA, pub
		live.jwk = &jwk{Kty: "OKP", Crv: "Ed25519", X: b64(pub)}
	default:
		return nil, fmt.Errorf("unsupported private key type %T", private)
	}
	live.kid = live.jwk.thumbprint()
	live.jwk.KID, live.jwk.Alg, live.jwk.Use = live.kid, alg, "sig"
	return live, nil
}

// jwk is a public key as JWKS publishes it (RFC 7517, RFC 7518 §6.2, RFC 8037).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	KID string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// thumbprint is the RFC 7638 thumbprint: SHA-256 over the required members in
// lexicographic order, without whitespace. The values are base64url, so they
// need no escaping.
func (k *jwk) thumbprint() string {
	var s string
	if k.Kty == "EC" {
		s = `{"crv":"` + k.Crv + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`
	} else {
		s = `{"crv":"` + k.Crv + `","kty":"` + k.Kty + `","x":"` + k.X + `"}`
	}
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
