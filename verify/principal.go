package verify

import (
	"net/http"
	"slices"
	"strings"
)

// Identity headers sent upstream on every allowed request. Each is always
// present, with an empty value when it does not apply, so a proxy never fills
// in a stale or placeholder value. Names are in canonical form.
const (
	HeaderSubject = "X-Auth-Subject"
	HeaderKind    = "X-Auth-Kind"
	HeaderKeyID   = "X-Auth-Key-Id"
	HeaderKeyName = "X-Auth-Key-Name"
	HeaderScopes  = "X-Auth-Scopes"
)

// IdentityHeaders lists every identity header. Proxy configurations must copy
// each from authgate's answer and strip each from the client's request.
var IdentityHeaders = []string{HeaderSubject, HeaderKind, HeaderKeyID, HeaderKeyName, HeaderScopes}

// Kind says what sort of credential authenticated a principal.
type Kind string

// KindAPIKey is an API key (agk_…).
const KindAPIKey Kind = "api_key"

// Principal is who is asking: the identity behind a verified credential.
// A Principal is immutable once built and is shared between requests.
type Principal struct {
	Kind    Kind
	Subject string
	KeyID   string
	KeyName string
	Scopes  []string // sorted, no duplicates

	header http.Header // identity headers, built once by NewPrincipal
}

// NewPrincipal builds a principal and its identity headers.
func NewPrincipal(kind Kind, subject, keyID, keyName string, scopes []string) *Principal {
	scopes = slices.Clone(scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	p := &Principal{Kind: kind, Subject: subject, KeyID: keyID, KeyName: keyName, Scopes: scopes}
	p.header = http.Header{
		HeaderSubject: {subject},
		HeaderKind:    {string(kind)},
		HeaderKeyID:   {keyID},
		HeaderKeyName: {headerSafe(keyName)},
		HeaderScopes:  {strings.Join(scopes, " ")},
	}
	return p
}

// HasScope reports whether the principal holds scope s.
func (p *Principal) HasScope(s string) bool {
	_, found := slices.BinarySearch(p.Scopes, s)
	return found
}

// WriteHeaders sets every identity header on h, replacing whatever was there.
// It shares the principal's prebuilt values and does not allocate.
func (p *Principal) WriteHeaders(h http.Header) {
	for k, v := range p.header {
		h[k] = v
	}
}

// headerSafe replaces bytes that may not appear in a header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
