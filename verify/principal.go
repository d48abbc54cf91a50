package verify

import (
	"net/http"
	"slices"
	"strings"
	"unsafe"
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

	// The identity headers' values, built once by NewPrincipal so that
	// WriteHeaders costs no allocation. WriteHeaders hands out one-element
	// slices of what the principal already holds rather than copies, so a
	// cached principal holds each value once: Subject, KeyID, KeyName, User
	// and Email themselves, or their header-safe forms in sanitized when one
	// of them needed a change (control bytes; rare, so usually nil);
	// X-Auth-Kind from an array shared by every principal of the kind; and the
	// joined scopes and roles.
	sanitized *[5]string // header-safe Subject, KeyID, KeyName, User and Email; nil: the fields are
	kindValue *[1]string // X-Auth-Kind's value; nil until NewPrincipal built the rest
	joined    [2]string  // X-Auth-Scopes and X-Auth-Roles
	limitID   string     // whose requests a rate limit counts, built once by NewPrincipal
}

// identityOrder is IdentityHeaders as an array.
var identityOrder = [...]string{HeaderSubject, HeaderKind, HeaderKeyID, HeaderKeyName, HeaderScopes,
	HeaderUser, HeaderEmail, HeaderRoles}

// kindValues holds X-Auth-Kind's value for each Kind, shared by every
// principal of the kind.
var kindValues = func() map[Kind]*[1]string {
	m := make(map[Kind]*[1]string, len(Kinds))
	for _, k := range Kinds {
		m[k] = &[1]string{string(k)}
	}
	return m
}()

// NewPrincipal returns a copy of p, its scopes and roles sorted and
// deduplicated, with its identity headers built once so that WriteHeaders
// costs nothing per request. Use it for every Principal on the hot path: one
// built as a bare literal behaves the same, but pays for it on every call.
func NewPrincipal(p Principal) *Principal {
	p.Scopes = sortedSet(p.Scopes)
	p.Roles = sortedSet(p.Roles)
	p.joined = [2]string{strings.Join(p.Scopes, " "), strings.Join(p.Roles, " ")}
	fields := [5]string{p.Subject, p.KeyID, p.KeyName, p.User, p.Email}
	safe := fields
	for i := range safe {
		safe[i] = headerSafe(safe[i])
	}
	p.sanitized = nil
	if safe != fields {
		p.sanitized = &safe
	}
	p.kindValue = kindValues[p.Kind]
	if p.kindValue == nil { // not one of Kinds: only in tests
		p.kindValue = &[1]string{string(p.Kind)}
	}
	p.limitID = ""
	p.limitID = p.rateLimitID()
	return &p
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// prebuilt reports whether p came from NewPrincipal.
func (p *Principal) prebuilt() bool { return p.kindValue != nil }

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
	subject, keyID, keyName, user, email := &p.Subject, &p.KeyID, &p.KeyName, &p.User, &p.Email
	if s := p.sanitized; s != nil {
		subject, keyID, keyName, user, email = &s[0], &s[1], &s[2], &s[3], &s[4]
	}
	// Each a slice of length and capacity 1 over a string the principal holds:
	// appending to one never writes into the principal.
	h[HeaderSubject] = unsafe.Slice(subject, 1)
	h[HeaderKind] = p.kindValue[:]
	h[HeaderKeyID] = unsafe.Slice(keyID, 1)
	h[HeaderKeyName] = unsafe.Slice(keyName, 1)
	h[HeaderScopes] = p.joined[0:1:1]
	h[HeaderUser] = unsafe.Slice(user, 1)
	h[HeaderEmail] = unsafe.Slice(email, 1)
	h[HeaderRoles] = p.joined[1:2:2]
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
