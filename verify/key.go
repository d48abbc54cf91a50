package verify

import (
	"crypto/rand"
	"hash/crc32"
	"unsafe"
)

// Opaque credentials (API keys, personal tokens, refresh tokens) share one
// format: a type prefix, a lookup id, a secret and a checksum, all base62:
//
//	agk_ 3fYq0bLm9TzA 5rQ…(32 chars)…Xw 0aB3cD
//	│    │            │                 └ CRC32 (IEEE) of everything before it, 6 chars
//	│    │            └ secret: 32 chars from crypto/rand, about 190 bits; stored only as a MAC
//	│    └ lookup id: 12 random chars, not secret, indexed
//	└ type prefix
//
// Base62 survives URLs, shells and copy/paste, and a double click selects the
// whole key because '_' is a word character. The checksum is not a security
// control: it lets the verifier drop typos and random garbage before any cache
// or database work.
const (
	// PrefixAPIKey starts every API key.
	PrefixAPIKey = "agk_"
	// PrefixPersonalToken starts every personal token.
	PrefixPersonalToken = "agp_"
	// PrefixRefreshToken starts every refresh token.
	PrefixRefreshToken = "agr_"

	prefixLen   = 4
	lookupIDLen = 12
	secretLen   = 32
	checksumLen = 6

	// KeyLen is the length of every opaque credential.
	KeyLen = prefixLen + lookupIDLen + secretLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Key is a parsed opaque credential. Its String method hides the secret, so a
// Key is safe to log; Reveal returns the full credential.
type Key struct {
	Prefix   string
	LookupID string
	Secret   string
}

// ParseKey parses an opaque credential with the given prefix. Returns
// ErrMalformed if the length, prefix, alphabet or checksum is wrong; it does no
// I/O and does not allocate.
func ParseKey(prefix, s string) (Key, error) {
	if len(s) != KeyLen || len(prefix) != prefixLen || s[:prefixLen] != prefix {
		return Key{}, ErrMalformed
	}
	body := s[prefixLen:]
	for i := 0; i < len(body); i++ {
		if base62Value(body[i]) < 0 {
			return Key{}, ErrMalformed
		}
	}
	var want [checksumLen]byte
	encodeChecksum(&want, checksum(s[:KeyLen-checksumLen]))
	if string(want[:]) != s[KeyLen-checksumLen:] {
		return Key{}, ErrMalformed
	}
	return Key{
		Prefix:   prefix,
		LookupID: body[:lookupIDLen],
		Secret:   body[lookupIDLen : lookupIDLen+secretLen],
	}, nil
}

// NewKey returns a fresh credential with the given four-character prefix, its
// lookup id and secret drawn from crypto/rand.
func NewKey(prefix string) Key {
	if len(prefix) != prefixLen {
		panic("verify: credential prefix must be 4 characters: " + prefix)
	}
	return Key{Prefix: prefix, LookupID: RandomString(lookupIDLen), Secret: RandomString(secretLen)}
}

// Reveal returns the full credential. Show it once, to its owner, and nowhere else.
func (k Key) Reveal() string {
	body := k.Prefix + k.LookupID + k.Secret
	var sum [checksumLen]byte
	encodeChecksum(&sum, checksum(body))
	return body + string(sum[:])
}

// Display returns the non-secret part of the credential (prefix and lookup id),
// which identifies it in lists, logs and audit rows.
func (k Key) Display() string { return k.Prefix + k.LookupID }

// String returns Display followed by an ellipsis, never the secret.
func (k Key) String() string { return k.Display() + "…" }

// RandomString returns n base62 characters from crypto/rand, without modulo bias.
func RandomString(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails (crypto/rand contract since Go 1.24)
		for _, b := range buf {
			if b < 248 { // 248 = 4*62: keeps every character equally likely
				out = append(out, base62[b%62])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// checksum is CRC-32 (IEEE) of s, computed over the string in place:
// crc32.ChecksumIEEE would need a []byte, which costs an allocation per verify.
func checksum(s string) uint32 {
	// crc32's assembly (slicing-by-8, or the CPU's CRC instructions) over
	// the string's bytes, read in place: no copy, no allocation.
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func encodeChecksum(dst *[checksumLen]byte, v uint32) {
	for i := checksumLen - 1; i >= 0; i-- {
		dst[i] = base62[v%62]
		v /= 62
	}
}

func base62Value(c byte) int { return int(base62Values[c]) }

// base62Values is base62Value as a table: a key's every byte is looked up
// on the hot path.
var base62Values = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base62) {
		t[base62[i]] = int8(i)
	}
	return t
}()
