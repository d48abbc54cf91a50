package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// controlPrefix is the tests' control surface, beside the provider's own endpoints (none of which
// starts so).
const controlPrefix = "/authgate-test/"

// keyRing is the provider's signing keys, RS256 and 2048-bit: the last one signs, and every one is
// published at the JWKS endpoint until retired.
type keyRing struct {
	mu   sync.Mutex
	keys []*rsaKey // oldest first
}

type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *rsaKey) ID() string                                  { return k.id }
func (k *rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaKey) Key() any                                    { return k.key }

// publicKey is an op.Key of the JWKS.
type publicKey struct{ k *rsaKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

// newKeyRing starts with the example storage's own key, so the kid at start is the example's.
func newKeyRing(first op.SigningKey) (*keyRing, error) {
	priv, ok := first.Key().(*rsa.PrivateKey)
	if !ok || first.SignatureAlgorithm() != jose.RS256 {
		return nil, errors.New("the example's signing key is not an RS256 RSA key")
	}
	return &keyRing{keys: []*rsaKey{{id: first.ID(), key: priv}}}, nil
}

// rotate adds a new key, which signs from now on, and returns its kid.
func (r *keyRing) rotate() (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	k := &rsaKey{id: uuid.NewString(), key: priv}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, k)
	return k.id, nil
}

// retire drops every key but the current one.
func (r *keyRing) retire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = r.keys[len(r.keys)-1:]
}

func (r *keyRing) current() *rsaKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[len(r.keys)-1]
}

// SigningKey signs ID tokens and JWT access tokens: op asks for it at every signature.
func (s *groupStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return s.keys.current(), nil
}

func (s *groupStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is the JWKS: every key not retired, oldest first.
func (s *groupStorage) KeySet(context.Context) ([]op.Key, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	set := make([]op.Key, len(s.keys.keys))
	for i, k := range s.keys.keys {
		set[i] = publicKey{k}
	}
	return set, nil
}

// withControl counts requests to jwksPath and serves the control surface:
//
//	POST /authgate-test/rotate        {"kid": NEW-KID}
//	POST /authgate-test/retire        {"kid": CURRENT-KID}
//	GET  /authgate-test/jwks-fetches  {"count": N}
func withControl(next http.Handler, keys *keyRing, jwksPath string) http.Handler {
	var fetches atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == jwksPath {
			fetches.Add(1)
		}
		cmd, ok := strings.CutPrefix(r.URL.Path, controlPrefix)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		var resp any
		switch {
		case cmd == "rotate" && r.Method == http.MethodPost:
			kid, err := keys.rotate()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			resp = map[string]string{"kid": kid}
		case cmd == "retire" && r.Method == http.MethodPost:
			keys.retire()
			resp = map[string]string{"kid": keys.current().id}
		case cmd == "jwks-fetches" && r.Method == http.MethodGet:
			resp = map[string]int64{"count": fetches.Load()}
		default:
			http.Error(w, "no such control: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}
