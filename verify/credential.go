package verify

import (
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
