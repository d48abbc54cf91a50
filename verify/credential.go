package verify

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
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
	dots, n := 0, 0 // n: length of the current segment
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 || dots == 2 {
				return false
			}
			dots, n = dots+1, 0
		case base64URL[c]:
			n++
		default:
			return false
		}
	}
	return dots == 2 && n > 0
}

// base64URL marks the bytes of the base64url alphabet (RFC 4648 §5).
var base64URL = func() (t [256]bool) {
	for _, c := range base62 + "-_" {
		t[c] = true
	}
	return t
}()
