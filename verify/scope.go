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
	// Scopes must all be held by the credential (scope=, repeatable).
	Scopes []string
	// AnyScopes, when not empty, must have at least one held (any_scope=,
	// repeatable).
	AnyScopes []string
	// Roles must all be held by the credential's user (role=, repeatable);
	// AnyRoles, when not empty, at least one (any_role=). Keys and static
	// keys have no roles: a route that names one admits users only.
	Roles    []string
	AnyRoles []string
	// Rate, when set (rate=100/m, burst=N), limits each credential's
	// requests on this route: see ParseRate. Decided in memory per instance.
	Rate *RateRule
	// rateWhere names the route's budget: its verify URL's query.
	rateWhere string
	// QueryParam, when set, names a query parameter of the original URI that may
	// carry the credential (query_token=api_key). Routes that do not opt in never
	// read credentials from the URI: query strings end up in access logs.
	QueryParam string
	// NoRedirect (redirect=false) keeps browsers on this route from being sent
	// to the portal: every deny is the plain 401 or 403, for routes whose
	// pages are fetched by scripts that cannot follow a sign-in.
	NoRedirect bool

	challenge []string // WWW-Authenticate value for a 403, built once
	needs     string   // what the route needs, for the 403 body, built once
	anyScope  string   // "one of the scopes a b", built once
	roleNeeds []string // "role r" for each of Roles, built once
	anyRole   string   // "one of the roles a b", built once
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
		case "scope", "any_scope", "role", "any_role":
			for _, s := range vals {
				if !ValidScope(s) {
					return nil, &ConfigError{Msg: "the verify URL asks for " + name + " " + quote(s) +
						", which is not a valid scope or role name (letters, digits and . _ - : /; repeat the parameter for several)"}
				}
			}
			switch name {
			case "scope":
				r.Scopes = append(r.Scopes, vals...)
			case "any_scope":
				r.AnyScopes = append(r.AnyScopes, vals...)
			case "role":
				r.Roles = append(r.Roles, vals...)
			default:
				r.AnyRoles = append(r.AnyRoles, vals...)
			}
		case "rate", "burst":
			if len(vals) != 1 {
				return nil, &ConfigError{Msg: "the verify URL's " + name + " may be given once"}
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
				"; authgate understands scope, any_scope, role, any_role, rate, burst, query_token and redirect (behind Caddy, end" +
				" forward_auth's uri with ? or ?scope=…, or Caddy passes on the client's query string)"}
		}
	}
	switch rate, burst := q.Get("rate"), q.Get("burst"); {
	case rate != "":
		rule, err := ParseRate(rate, burst)
		if err != nil {
			return nil, &ConfigError{Msg: "the verify URL's " + err.Error()}
		}
		r.Rate, r.rateWhere = &rule, rawQuery
	case q.Has("rate") || q.Has("burst"):
		return nil, &ConfigError{Msg: "the verify URL's burst needs a rate, e.g. rate=100/m&burst=20"}
	}
	for _, list := range []*[]string{&r.Scopes, &r.AnyScopes, &r.Roles, &r.AnyRoles} {
		slices.Sort(*list)
		*list = slices.Compact(*list)
	}
	if len(r.AnyScopes) == 1 { // one of one: simply required
		r.Scopes, r.AnyScopes = sortedSet(append(r.Scopes, r.AnyScopes...)), nil
	}
	if len(r.AnyRoles) == 1 {
		r.Roles, r.AnyRoles = sortedSet(append(r.Roles, r.AnyRoles...)), nil
	}
	r.anyScope = "one of the scopes " + strings.Join(r.AnyScopes, " ")
	r.anyRole = "one of the roles " + strings.Join(r.AnyRoles, " ")
	var needs []string
	if len(r.Scopes) > 0 {
		needs = append(needs, "scope(s): "+strings.Join(r.Scopes, " "))
	}
	if len(r.AnyScopes) > 0 {
		needs = append(needs, r.anyScope)
	}
	for _, role := range r.Roles {
		r.roleNeeds = append(r.roleNeeds, "role "+role)
	}
	if len(r.Roles) > 0 {
		needs = append(needs, "role(s): "+strings.Join(r.Roles, " "))
	}
	if len(r.AnyRoles) > 0 {
		needs = append(needs, r.anyRole)
	}
	r.needs = strings.Join(needs, ", and ")
	r.challenge = []string{`Bearer realm="authgate", error="insufficient_scope", scope="` +
		strings.Join(append(slices.Clone(r.Scopes), r.AnyScopes...), " ") + `"`}
	return r, nil
}

// Missing returns what p lacks of the route's requirement, or "" if it has
// everything: the first required scope it lacks (a bare scope name), or a
// phrase for the rest ("one of the scopes a b", "role admin", "one of the
// roles a b"). It does not allocate.
func (r *Requirement) Missing(p *Principal) string {
	for _, s := range r.Scopes {
		if !p.HasScope(s) {
			return s
		}
	}
	if len(r.AnyScopes) > 0 && !slices.ContainsFunc(r.AnyScopes, p.HasScope) {
		return r.anyScope
	}
	for i, role := range r.Roles {
		if !p.HasRole(role) {
			return r.roleNeeds[i]
		}
	}
	if len(r.AnyRoles) > 0 && !slices.ContainsFunc(r.AnyRoles, p.HasRole) {
		return r.anyRole
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
