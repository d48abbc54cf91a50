package verify

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxScopeLen bounds one scope string.
const MaxScopeLen = 100

// ValidScope reports whether s may name a scope: 1 to MaxScopeLen characters from
// letters, digits and . _ - : / (for example "events:read" or "cameras/front:stream").
// Spaces, quotes and backslashes are excluded so scopes can be joined with spaces
// and quoted in WWW-Authenticate.
func ValidScope(s string) bool {
	if s == "" || len(s) > MaxScopeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if base62Value(c) < 0 && !strings.ContainsRune("._-:/", rune(c)) {
			return false
		}
	}
	return true
}

// Requirement is what a protected route asks of a credential. The proxy
// configuration states it in the query string of the verify URL, e.g.
// /auth-request?scope=events:read&scope=events:write.
type Requirement struct {
	// Scopes must all be held by the credential.
	Scopes []string
	// QueryParam, when set, names a query parameter of the original URI that may
	// carry the credential (query_token=api_key). Routes that do not opt in never
	// read credentials from the URI: query strings end up in access logs.
	QueryParam string
	// NoRedirect (redirect=false) keeps browsers on this route from being sent
	// to the portal: every deny is the plain 401 or 403, for routes whose
	// pages are fetched by scripts that cannot follow a sign-in.
	NoRedirect bool

	challenge string // WWW-Authenticate value for a 403, built once
}

// ParseRequirement parses the raw query of a verify URL. It accepts the
// parameters scope (repeatable), query_token and redirect=false; anything else,
// any invalid scope and any other value of redirect is an error wrapping
// ErrMisconfigured, because a typo in a proxy config must not silently weaken
// or change a route.
func ParseRequirement(rawQuery string) (*Requirement, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, &ConfigError{Msg: "the verify URL's query string cannot be parsed: " + err.Error()}
	}
	r := &Requirement{}
	for name, vals := range q {
		switch name {
		case "scope":
			for _, s := range vals {
				if !ValidScope(s) {
					return nil, &ConfigError{Msg: "the verify URL asks for scope " + quote(s) +
						", which is not a valid scope (letters, digits and . _ - : /)"}
				}
				r.Scopes = append(r.Scopes, s)
			}
		case "query_token":
			if len(vals) != 1 || vals[0] == "" {
				return nil, &ConfigError{Msg: "the verify URL's query_token must name one query parameter, e.g. query_token=api_key"}
			}
			r.QueryParam = vals[0]
		case "redirect":
			if len(vals) != 1 || vals[0] != "false" {
				return nil, &ConfigError{Msg: "the verify URL's redirect may only be redirect=false" +
					" (without it, browsers are sent to sign in)"}
			}
			r.NoRedirect = true
		default:
			return nil, &ConfigError{Msg: "the verify URL has unknown parameter " + quote(name) +
				"; authgate understands scope, query_token and redirect (behind Caddy, end forward_auth's uri with" +
				" ? or ?scope=…, or Caddy passes on the client's query string)"}
		}
	}
	slices.Sort(r.Scopes)
	r.Scopes = slices.Compact(r.Scopes)
	r.challenge = `Bearer realm="authgate", error="insufficient_scope", scope="` + strings.Join(r.Scopes, " ") + `"`
	return r, nil
}

// Missing returns the first required scope that p lacks, or "" if p has them all.
func (r *Requirement) Missing(p *Principal) string {
	for _, s := range r.Scopes {
		if !p.HasScope(s) {
			return s
		}
	}
	return ""
}

// quote renders untrusted input for an error message: escaped and bounded.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}
