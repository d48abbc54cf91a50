package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"
)

// Hasher computes the at-rest form of credential secrets: HMAC-SHA-256 under a
// server-held key, so a copy of the database alone cannot confirm a guessed
// credential. Keys are versioned: rows record the version they were hashed
// with, so the server key can be rotated without invalidating every credential.
// A Hasher is safe for concurrent use.
type Hasher struct {
	current int16
	pools   map[int16]*sync.Pool
}

type macState struct {
	mac   hash.Hash
	buf   [secretLen]byte
	block [sha256.BlockSize]byte
	sum   [sha256.Size]byte
}

// writeString feeds s to the MAC through a fixed buffer: []byte(s) would cost
// an allocation per call, since the hash is behind an interface.
func (st *macState) writeString(s string) {
	for len(s) > 0 {
		n := copy(st.block[:], s)
		st.mac.Write(st.block[:n])
		s = s[n:]
	}
}

// NewHasher returns a Hasher over the given versioned keys, hashing new secrets
// with keys[current]. Each key must be at least 32 bytes.
func NewHasher(keys map[int16][]byte, current int16) (*Hasher, error) {
	if _, ok := keys[current]; !ok {
		return nil, errors.New("verify: no MAC key for the current version")
	}
	h := &Hasher{current: current, pools: make(map[int16]*sync.Pool, len(keys))}
	for v, key := range keys {
		if len(key) < 32 {
			return nil, errors.New("verify: MAC keys must be at least 32 bytes")
		}
		key := append([]byte(nil), key...)
		h.pools[v] = &sync.Pool{New: func() any { return &macState{mac: hmac.New(sha256.New, key)} }}
	}
	return h, nil
}

// Sum returns the key version and MAC under which to store secret.
func (h *Hasher) Sum(secret string) (version int16, mac []byte) {
	st := h.pools[h.current].Get().(*macState)
	defer h.pools[h.current].Put(st)
	st.mac.Reset()
	st.mac.Write([]byte(secret))
	return h.current, st.mac.Sum(nil)
}

// Equal reports, in constant time, whether mac is the MAC of secret under key
// version. An unknown version or a secret of the wrong length is never equal.
// It does not allocate.
func (h *Hasher) Equal(version int16, secret string, mac []byte) bool {
	pool, ok := h.pools[version]
	if !ok || len(secret) != secretLen {
		return false
	}
	st := pool.Get().(*macState)
	defer pool.Put(st)
	st.mac.Reset()
	copy(st.buf[:], secret)
	st.mac.Write(st.buf[:])
	return hmac.Equal(st.mac.Sum(st.sum[:0]), mac)
}
