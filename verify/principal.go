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
	HeaderUser    = "X-Auth-User"
	HeaderEmail   = "X-Auth-Email"
	HeaderRoles   = "X-Auth-Roles"
)

// IdentityHeaders lists every identity header. Proxy configurations must copy
// each from authgate's answer and strip each from the client's request.
var IdentityHeaders = slices.Clone(identityOrder[:])

// Kind says what sort of credential authenticated a principal.
type Kind string

// Kinds of credential.
const (
	KindAPIKey        Kind = "api_key"      // an API key (agk_…)
	KindJWT           Kind = "jwt"          // an access token authgate issued to a user
	KindPersonalToken Kind = "token"        // a user's personal token (agp_…)
	KindStaticKey     Kind = "static_key"   // a key fixed in the configuration (StaticKeys)
	KindSession       Kind = "session"      // a browser session cookie (ags_…), signed in at the portal
	KindExternalJWT   Kind = "external_jwt" // a JWT of an external issuer (Options.External)
)

// Kinds lists every Kind, the values X-Auth-Kind takes.
var Kinds = []Kind{KindAPIKey, KindJWT, KindPersonalToken, KindStaticKey, KindSession, KindExternalJWT}

// Principal is who is asking: the identity behind a verified credential.
// A Principal is immutable once built and is shared between requests.
type Principal struct {
	Kind    Kind
	Subject string   // the key's owner, the user's id (a JWT's sub), "static:" and a static key's name, or "ext:<issuer id>:" and an external JWT's sub
	KeyID   string   // the key's or personal token's id, or "static:" and a static key's name; not for JWTs and sessions
	KeyName string   // the key's, personal token's or static key's name; not for JWTs and sessions
	User    string   // JWTs, sessions and personal tokens: the username; external JWTs: their issuer's UserClaim
	Email   string   // JWTs, sessions and personal tokens only
	Roles   []string // JWTs, sessions and personal tokens only; sorted, no duplicates
	Scopes  []string // sorted, no duplicates; a personal token's are those its user still holds

	// SessionID is the login session a JWT belongs to (its sid claim), or
	// the browser session (ses_…) a session cookie names, by which either is
	// revoked. It is never sent upstream.
	SessionID string
	// RateLimit is the credential's own rate limit (an API key's or a
	// personal token's), zero for
	// none: checked on every route, beside the route's own rate=. It is
	// never sent upstream.
	RateLimit RateRule
	// CookieDomain is, for a browser session, the cookie domain it was signed
	// in for (home.example): its cookie is honoured on that domain and the
	// hosts under it only. It is never sent upstream.
	CookieDomain string

	// values are the identity headers' values in identityOrder, built once by
	// NewPrincipal; WriteHeaders hands out one-element slices of them (a
	// slice of an array costs no allocation), so a cached principal holds
	// each value once.
	values  [len(identityOrder)]string
	built   bool   // by NewPrincipal: values, limitID and the order of Scopes and Roles hold
	limitID string // whose requests a rate limit counts, built once by NewPrincipal
}

// identityOrder is IdentityHeaders as an array, so WriteHeaders is a fixed
// loop of map assignments rather than a map iteration.
var identityOrder = [...]string{HeaderSubject, HeaderKind, HeaderKeyID, HeaderKeyName, HeaderScopes,
	HeaderUser, HeaderEmail, HeaderRoles}

// NewPrincipal returns a copy of p, its scopes and roles sorted and
// deduplicated, with its identity headers built once so that WriteHeaders
// costs nothing per request. Use it for every Principal on the hot path: one
// built as a bare literal behaves the same, but pays for it on every call.
func NewPrincipal(p Principal) *Principal {
	p.Scopes = sortedSet(p.Scopes)
	p.Roles = sortedSet(p.Roles)
	p.values = [...]string{headerSafe(p.Subject), string(p.Kind), headerSafe(p.KeyID), headerSafe(p.KeyName),
		strings.Join(p.Scopes, " "), headerSafe(p.User), headerSafe(p.Email), strings.Join(p.Roles, " ")}
	p.limitID = p.rateLimitID()
	p.built = true
	return &p
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// prebuilt reports whether p came from NewPrincipal.
func (p *Principal) prebuilt() bool { return p.built }

// HasScope reports whether the principal holds scope s.
func (p *Principal) HasScope(s string) bool {
	if !p.prebuilt() { // a bare literal's scopes may be in any order
		return slices.Contains(p.Scopes, s)
	}
	_, found := slices.BinarySearch(p.Scopes, s)
	return found
}

// rateLimitID names whose requests a rate limit counts: the key or
// personal token (its id, static keys included), or for a user's access
// token, browser session or an external token, the kind and subject (all
// of one user's access tokens together).
func (p *Principal) rateLimitID() string {
	if p.limitID != "" {
		return p.limitID
	}
	if p.KeyID != "" {
		return p.KeyID
	}
	return string(p.Kind) + ":" + p.Subject
}

// HasRole reports whether the principal's user holds role r.
func (p *Principal) HasRole(r string) bool {
	if !p.prebuilt() {
		return slices.Contains(p.Roles, r)
	}
	_, found := slices.BinarySearch(p.Roles, r)
	return found
}

// WriteHeaders sets every identity header on h, replacing whatever was there,
// so a value the client forged never survives. A principal from NewPrincipal
// shares its prebuilt values and does not allocate; a bare literal has its
// values built on each call, the same as NewPrincipal would build them.
func (p *Principal) WriteHeaders(h http.Header) {
	if !p.prebuilt() {
		p = NewPrincipal(*p)
	}
	for i, name := range identityOrder {
		h[name] = p.values[i : i+1 : i+1] // capacity 1: appending to it never writes into the principal
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
