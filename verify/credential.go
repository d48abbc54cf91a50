package verify

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unsafe"
)

// MaxCredentialLen bounds any credential authgate reads. Longer values are
// rejected before any parsing, cache or database work.
const MaxCredentialLen = 4096

// Header names a credential may arrive in. They are in canonical form, so they
// index an http.Header directly.
const (
	HeaderAuthorization = "Authorization"
	HeaderAPIKey        = "X-Api-Key" // canonical form of X-API-Key
)

// Credential returns the credential a request carries: the X-API-Key header, an
// Authorization: Bearer header, or, only when queryParam is not empty, that
// parameter of the original URI. Other Authorization schemes (Basic, say) are
// left to the upstream and ignored.
//
// Returns ErrNoCredential if there is none, and ErrMalformed if a header is
// repeated, two places carry different credentials, or a value is over
// MaxCredentialLen or holds anything but visible ASCII.
func Credential(h http.Header, queryParam, originalURI string) (string, error) {
	var found string
	if err := pick(&found, h[HeaderAPIKey], ""); err != nil {
		return "", err
	}
	if err := pick(&found, h[HeaderAuthorization], "Bearer "); err != nil {
		return "", err
	}
	if queryParam != "" {
		if err := pick(&found, queryValues(originalURI, queryParam), ""); err != nil {
			return "", err
		}
	}
	if found == "" {
		return "", ErrNoCredential
	}
	return found, nil
}

// pick reads the single value in vals (after the scheme, when one is given) into
// *found, refusing repeats and disagreement with what was found before.
func pick(found *string, vals []string, scheme string) error {
	switch len(vals) {
	case 0:
		return nil
	case 1:
	default:
		return ErrMalformed
	}
	v := vals[0]
	if scheme != "" {
		if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
			return nil // another scheme: not ours to judge
		}
		v = strings.TrimLeft(v[len(scheme):], " ")
	}
	if v == "" || len(v) > MaxCredentialLen || !visibleASCII(v) {
		return ErrMalformed
	}
	if *found != "" && *found != v {
		return ErrMalformed
	}
	*found = v
	return nil
}

func queryValues(uri, param string) []string {
	_, rawQuery, ok := strings.Cut(uri, "?")
	if !ok {
		return nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return []string{"\x00"} // unparseable: malformed, never "absent"
	}
	return q[param]
}

// visibleASCII reports whether every byte of s is printable ASCII other than
// the space (0x21-0x7e). It reads eight bytes at a time: a JWT is hundreds of
// bytes, checked on every request.
func visibleASCII(s string) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		// A byte below 0x21, or above 0x7e (0x80 and over included): the
		// "has less" and "has more" tests of Bit Twiddling Hacks, exact for
		// these bounds.
		if (w-ones*0x21)&^w&high != 0 || ((w+ones*(127-0x7e))|w)&high != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// shape is what a credential is, judged by its form alone.
type shape int

const (
	shapeOther         shape = iota + 1 // none of the below: only ever a static key
	shapeAPIKey                         // agk_…
	shapePersonalToken                  // agp_…
	shapeSession                        // ags_…: a browser session cookie's value
	shapeJWT                            // three dot-separated base64url segments
)

// Why a credential of the wrong shape is refused, for the log. Built once: a
// flood of them costs no allocation.
var (
	errTooLong      = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxCredentialLen)
	errRefreshToken = fmt.Errorf("%w: refresh token presented as an access credential", ErrMalformed)
	errUnknownShape = fmt.Errorf("%w: neither an API key, a personal token, a session nor a JWT", ErrMalformed)
)

// prefixed reports whether s starts with the prefix of one of authgate's
// opaque credentials (an API key, a personal token, a session or a refresh
// token), which are never JWTs.
func prefixed(s string) bool {
	return strings.HasPrefix(s, PrefixAPIKey) || strings.HasPrefix(s, PrefixPersonalToken) ||
		strings.HasPrefix(s, PrefixSession) || strings.HasPrefix(s, PrefixRefreshToken)
}

// shapeOf says whether s is an API key, a personal token or a session (by its prefix), a
// JWT (exactly three non-empty base64url segments), or none of them, without
// checking any further. Refresh tokens and anything over MaxCredentialLen are
// ErrMalformed.
func shapeOf(s string) (shape, error) {
	switch {
	case len(s) > MaxCredentialLen:
		return 0, errTooLong
	case strings.HasPrefix(s, PrefixAPIKey):
		return shapeAPIKey, nil
	case strings.HasPrefix(s, PrefixPersonalToken):
		return shapePersonalToken, nil
	case strings.HasPrefix(s, PrefixSession):
		return shapeSession, nil
	case strings.HasPrefix(s, PrefixRefreshToken):
		return 0, errRefreshToken
	case jwtShaped(s):
		return shapeJWT, nil
	}
	return shapeOther, nil
}

// jwtShaped reports whether s is three non-empty segments of unpadded
// base64url, separated by dots: the compact form of a signed JWT.
func jwtShaped(s string) bool {
	// The two dots, by a fast search: each segment non-empty, no third dot.
	a := strings.IndexByte(s, '.')
	if a <= 0 {
		return false
	}
	b := strings.IndexByte(s[a+1:], '.') + a + 1
	if b <= a+1 || b == len(s)-1 || strings.IndexByte(s[b+1:], '.') >= 0 {
		return false
	}
	// Every other byte base64url: one table lookup per byte, no branch, eight
	// at a time (the dots are in the table too, and counted above).
	var bad byte
	i := 0
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		_ = t[7] // one bounds check for the eight
		bad |= notJWTByte[t[0]] | notJWTByte[t[1]] | notJWTByte[t[2]] | notJWTByte[t[3]] |
			notJWTByte[t[4]] | notJWTByte[t[5]] | notJWTByte[t[6]] | notJWTByte[t[7]]
	}
	for ; i < len(s); i++ {
		bad |= notJWTByte[s[i]]
	}
	return bad == 0
}

// notJWTByte is 1 for every byte outside the base64url alphabet and the dot.
var notJWTByte = func() (t [256]byte) {
	for i := range t {
		t[i] = 1
	}
	for _, c := range base62 + "-_." {
		t[c] = 0
	}
	return t
}()
