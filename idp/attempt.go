package idp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Attempt is one sign-in attempt's secret state, kept by the portal in a
// short-lived cookie of its own (one per attempt, so parallel tabs work),
// sealed so the browser can neither read nor change it.
type Attempt struct {
	Provider string // the provider's id: Finish refuses the attempt for any other
	State    string // the state parameter, random per attempt
	Nonce    string // the nonce the ID token must carry
	Verifier string // the PKCE code verifier
	// Caller is the caller's own state, sealed with the attempt and opaque
	// to idp (the portal keeps the return URL and the sign-in form's choices
	// there), or "".
	Caller  string
	Created time.Time
}

// MaxAttemptAge is how long an attempt may take, from Begin to the callback.
const MaxAttemptAge = 10 * time.Minute

// attemptJSON is an Attempt as sealed.
type attemptJSON struct {
	P string `json:"p"`
	S string `json:"s"`
	N string `json:"n"`
	V string `json:"v"`
	R string `json:"r,omitempty"`
	C int64  `json:"c"`
}

// attemptAD binds a sealed attempt to its purpose: a value sealed by the
// same key for anything else does not open as an attempt.
var attemptAD = []byte("authgate sso attempt v1")

// SealAttempt encrypts and authenticates a with key (16, 24 or 32 bytes:
// AES-GCM with a random nonce) and returns it as a cookie-safe string
// (base64url without padding).
func SealAttempt(key []byte, a Attempt) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(attemptJSON{a.Provider, a.State, a.Nonce, a.Verifier, a.Caller, a.Created.Unix()})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, attemptAD)), nil
}

// OpenAttempt reverses SealAttempt. It returns ErrExpired (wrapped) for a
// value that is malformed, was changed, was sealed under another key, or is
// older than MaxAttemptAge at now (or dated in the future beyond a minute).
func OpenAttempt(key []byte, sealed string, now time.Time) (Attempt, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return Attempt{}, err
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead() {
		return Attempt{}, fmt.Errorf("%w: malformed attempt", ErrExpired)
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], attemptAD)
	if err != nil {
		return Attempt{}, fmt.Errorf("%w: attempt does not open", ErrExpired)
	}
	var j attemptJSON
	if err := json.Unmarshal(plain, &j); err != nil {
		return Attempt{}, fmt.Errorf("%w: malformed attempt", ErrExpired)
	}
	created := time.Unix(j.C, 0)
	if age := now.Sub(created); age > MaxAttemptAge || age < -time.Minute {
		return Attempt{}, fmt.Errorf("%w: attempt is %s old", ErrExpired, age.Round(time.Second))
	}
	return Attempt{Provider: j.P, State: j.S, Nonce: j.N, Verifier: j.V, Caller: j.R, Created: created}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, errors.New("idp: the attempt key must be 16, 24 or 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
