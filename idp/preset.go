package idp

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// preset is what a named provider fills in for the operator: how its issuer
// is built from the few facts only the operator knows, and the scopes and
// claim names its ID tokens use. An explicit field in the operator's JSON
// always wins over the preset's value.
type preset struct {
	name          string   // the button's default text
	scopes        []string // nil: the package default (openid email profile)
	usernameClaim string   // "" : the package default (preferred_username)
	groupsClaim   string   // "" : the package default (groups)
	// inputs are the JSON fields the issuer is built from; issuer builds it.
	// An explicit issuer replaces them, so giving both is refused.
	inputs []string
	issuer func(r *providerJSON) (string, *ConfigError)
	// unsupported, when set, refuses the preset with this explanation.
	unsupported string
	// A plain OAuth2 preset (no discovery, no ID token) names its endpoints
	// here, the one place they are written, and api reads who a token names
	// and checks which client it was issued to. Its issuer is fixed: the
	// namespace its identities are recorded under.
	authURL, tokenURL string
	api               identityAPI
}

// presets are the providers authgate knows by name. Each row cites the
// provider's documentation for what it fills in.
var presets = map[string]preset{
	// Google's discovery names https://accounts.google.com as its issuer
	// (go-oidc also accepts the legacy "accounts.google.com" Google still
	// writes in some tokens). Google ID tokens carry no preferred_username and
	// no groups claim at all, so the username comes from email and a roles
	// mapping is refused (it could only take roles away). hd, "the domain
	// associated with the Google Cloud organization of the user", is absent for
	// consumer accounts; the hd request parameter is only a UI hint, so
	// hosted_domain is checked against the ID token's hd claim.
	// https://developers.google.com/identity/openid-connect/reference
	// https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken
	"google": {name: "Google", usernameClaim: "email",
		issuer: func(*providerJSON) (string, *ConfigError) { return "https://accounts.google.com", nil }},

	// Microsoft Entra ID (v2.0 endpoint). The issuer names one tenant by its
	// ID: see microsoftIssuer for why "common", "organizations", "consumers"
	// and domain names are refused. preferred_username needs the profile scope
	// and is mutable (a username hint only; identity is issuer + sub). groups,
	// when the app registration's groups claim is configured, holds group
	// object IDs (GUIDs) unless it is set to emit names; over 200 groups it is
	// replaced by an overage pointer to Microsoft Graph (see admit). There is
	// no email_verified claim, and email "isn't guaranteed to be correct",
	// so emails from Entra are never verified here and link_by_verified_email
	// is refused. (Entra's optional claim xms_edov says whether the email's
	// domain owner is verified; authgate does not read it.)
	// https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
	// https://learn.microsoft.com/entra/identity-platform/migrate-off-email-claim-authorization
	"microsoft": {name: "Microsoft", inputs: []string{"tenant"}, issuer: microsoftIssuer},

	// Okta: the default custom authorization server is
	// https://{domain}/oauth2/default, the org authorization server
	// https://{domain} ("authorization_server": "org"), another custom one
	// https://{domain}/oauth2/{id}. Each has its own issuer and keys. groups
	// is present only when the app (org server) or the authorization server
	// (custom) has a groups claim configured.
	// https://developer.okta.com/docs/concepts/auth-servers/
	// https://developer.okta.com/docs/guides/customize-tokens-groups-claim/
	"okta": {name: "Okta", inputs: []string{"domain", "authorization_server"}, issuer: oktaIssuer},

	// Keycloak: one issuer per realm, {base_url}/realms/{realm} (base_url
	// ends in /auth on Keycloak before 17). preferred_username is the
	// Keycloak username. groups appears only with a "Group Membership" mapper
	// named groups on the client or a client scope; with "Full group path"
	// on, values are paths such as /family, so turn it off to map plain names.
	// https://www.keycloak.org/docs/latest/securing_apps/#_oidc
	// https://www.keycloak.org/docs-api/latest/javadocs/org/keycloak/protocol/oidc/mappers/GroupMembershipMapper.html
	"keycloak": {name: "Keycloak", inputs: []string{"base_url", "realm"}, issuer: keycloakIssuer},

	// Pocket ID: the issuer is the instance's own URL (APP_URL); only with
	// the groups scope does the token carry groups, the names of the person's
	// user groups; preferred_username is the Pocket ID username. Its
	// email_verified is what the instance says (an admin setting in older
	// versions, not a per-user check): enable link_by_verified_email only if
	// you trust it. Source: pocket-id/pocket-id,
	// backend/internal/service/oidc_service.go (the claims per scope), and
	// https://pocket-id.org/docs/ (OIDC clients, user groups).
	"pocket-id": {name: "Pocket ID", inputs: []string{"base_url"}, issuer: baseURLIssuer,
		scopes: []string{"openid", "email", "profile", "groups"}},

	// GitHub (OAuth apps) speaks OAuth2 only: no discovery, no ID token, no
	// userinfo endpoint. The code flow takes state and PKCE S256; the token
	// endpoint answers JSON when asked (Accept: application/json). Who signed
	// in comes from the REST API with the access token: GET /user (the
	// numeric id, the subject here, since a login can be renamed and then
	// taken by someone else; login; name) and GET /user/emails (the primary
	// address, verified only when GitHub says verified: true), hence the
	// scopes read:user and user:email. Identities are recorded under the
	// issuer https://github.com. There are no groups (org and team
	// membership would need read:org and more API calls), so "roles" is
	// refused. A native app's access token is checked with "Check a token"
	// (POST /applications/{client_id}/token, basic auth with the app's
	// client id and secret), which answers 200 only for a token of that OAuth
	// app; authgate holds only client_id's secret, so only tokens issued to
	// client_id are accepted and native_client_ids is refused.
	// https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
	// https://docs.github.com/rest/users/users#get-the-authenticated-user
	// https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user
	// https://docs.github.com/rest/apps/oauth-applications#check-a-token
	"github": {name: "GitHub", scopes: []string{"read:user", "user:email"}, usernameClaim: "preferred_username",
		issuer:   func(*providerJSON) (string, *ConfigError) { return githubIssuer, nil },
		authURL:  "https://github.com/login/oauth/authorize",
		tokenURL: "https://github.com/login/oauth/access_token",
		api:      githubAPI{base: "https://api.github.com"}},

	// Home Assistant is known and refused; see homeAssistantWhy.
	"home-assistant": {unsupported: homeAssistantWhy},
}

// homeAssistantWhy is why the home-assistant preset is refused. Its
// OAuth2 (https://developers.home-assistant.io/docs/auth_api) takes an
// IndieAuth client id: the client's own URL, with no registration and no
// secret, the redirect URI on the same host. Its token endpoint answers
// access and refresh tokens only (no ID token, no user), there is no
// userinfo endpoint and no introspection, and the only way to learn who
// signed in is the WebSocket API (/api/websocket: auth with the access token,
// then the auth/current_user command: id, name, is_owner, is_admin). Its
// user id is per Home Assistant instance, so the instance's URL would be the
// issuer. Implementing it takes a WebSocket client (golang.org/x/net/websocket
// or github.com/coder/websocket) for that one command; authgate has chosen
// not to add one yet. Nor could a native app's token be checked: nothing
// tells which client an access token was issued to.
const homeAssistantWhy = "Home Assistant is not supported: its OAuth2 uses an IndieAuth client id (the client's own URL, " +
	"no registration, no secret), its token endpoint returns no identity, and it has no userinfo endpoint; the person is " +
	"known only through its WebSocket API (auth/current_user), which authgate does not speak"

// githubIssuer is the issuer GitHub identities are recorded under.
const githubIssuer = "https://github.com"

// presetInputs are all the JSON fields presets read, for refusing one given
// to a provider whose preset does not use it.
var presetInputs = []string{"tenant", "domain", "authorization_server", "base_url", "realm", "hosted_domain"}

// input returns the value of the preset input field named f.
func (r *providerJSON) input(f string) string {
	return map[string]string{"tenant": r.Tenant, "domain": r.Domain, "authorization_server": r.AuthorizationServer,
		"base_url": r.BaseURL, "realm": r.Realm, "hosted_domain": r.HostedDomain}[f]
}

// applyPreset fills in r's preset: its issuer, unless r gives one, and its
// scopes, claim names and display name where r leaves them empty. name is
// the provider's id or position, for errors.
func (r *providerJSON) applyPreset(name string) error {
	p, ok := presets[r.Preset]
	switch {
	case r.Preset != "" && !ok:
		return &ConfigError{name, "preset", fmt.Sprintf("%q is not a preset; known presets: %s",
			r.Preset, strings.Join(slices.Sorted(maps.Keys(presets)), ", "))}
	case p.unsupported != "":
		return &ConfigError{name, "preset", p.unsupported}
	}
	for _, f := range presetInputs {
		if r.input(f) != "" && !slices.Contains(p.inputs, f) && !(f == "hosted_domain" && r.Preset == "google") {
			if r.Preset == "" {
				return &ConfigError{name, f, "is only used with a \"preset\" that needs it"}
			}
			return &ConfigError{name, f, fmt.Sprintf("is not used by the %s preset", r.Preset)}
		}
	}
	if r.Preset == "" {
		return nil
	}
	if p.api != nil {
		for f, v := range map[string]string{"issuer": r.Issuer, "protocol": r.Protocol,
			"authorization_endpoint": r.AuthorizationEndpoint, "token_endpoint": r.TokenEndpoint,
			"userinfo_endpoint": r.UserinfoEndpoint} {
			if v != "" {
				return &ConfigError{name, f, fmt.Sprintf("is set by the %s preset (%s identities are recorded under the "+
					"issuer %s); leave it out", r.Preset, p.name, githubIssuer)}
			}
		}
		r.Protocol, r.AuthorizationEndpoint, r.TokenEndpoint = "oauth2", p.authURL, p.tokenURL
	}
	if r.Issuer == "" {
		iss, err := p.issuer(r)
		if err != nil {
			err.Provider = name
			return err
		}
		r.Issuer = iss
	} else {
		for _, f := range p.inputs {
			if r.input(f) != "" {
				return &ConfigError{name, f, "give issuer or " + strings.Join(p.inputs, " and ") + ", not both"}
			}
		}
	}
	if r.Name == "" {
		r.Name = p.name
	}
	if len(r.Scopes) == 0 {
		r.Scopes = slices.Clone(p.scopes)
	}
	if r.UsernameClaim == "" {
		r.UsernameClaim = p.usernameClaim
	}
	if r.GroupsClaim == "" {
		r.GroupsClaim = p.groupsClaim
	}
	return nil
}

var (
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	hostPattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	segmentRegexp = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
)

// microsoftIssuer builds https://login.microsoftonline.com/{tenant}/v2.0.
// The tenant must be the directory (tenant) ID: Entra writes the issuer with
// that GUID in discovery and in every ID token's iss, so an issuer built
// from a domain name would never match. The multi-tenant names are refused:
// the discovery of "common" and "organizations" names the issuer
// https://login.microsoftonline.com/{tenantid}/v2.0 (a literal placeholder)
// because each token carries its own tenant, and authgate checks one exact
// issuer; "consumers" is served under the personal-accounts tenant ID.
func microsoftIssuer(r *providerJSON) (string, *ConfigError) {
	t := strings.ToLower(strings.TrimSpace(r.Tenant))
	switch {
	case t == "":
		return "", &ConfigError{Field: "tenant", Msg: "must be set: the Directory (tenant) ID from the app registration's overview"}
	case t == "common" || t == "organizations":
		return "", &ConfigError{Field: "tenant", Msg: fmt.Sprintf("%q is refused: with it every token carries the issuer of the "+
			"person's own tenant, so no single issuer can be checked; give your Directory (tenant) ID", t)}
	case t == "consumers":
		return "", &ConfigError{Field: "tenant", Msg: "\"consumers\" is refused: its tokens are issued by the personal-accounts " +
			"tenant; give 9188040d-6c67-4c5b-b112-36a304b66dad instead"}
	case !guidPattern.MatchString(t):
		return "", &ConfigError{Field: "tenant", Msg: fmt.Sprintf("%q is not a tenant ID: Entra names the tenant by its ID "+
			"(a GUID) in the issuer of every token, even when you sign in through a domain name", r.Tenant)}
	}
	return "https://login.microsoftonline.com/" + t + "/v2.0", nil
}

// oktaIssuer builds the issuer of the Okta authorization server named by
// authorization_server (default "default"; "org" for the org server).
func oktaIssuer(r *providerJSON) (string, *ConfigError) {
	d := strings.ToLower(strings.TrimSpace(r.Domain))
	if !hostPattern.MatchString(d) {
		return "", &ConfigError{Field: "domain", Msg: fmt.Sprintf("%q must be your Okta domain, a host name such as dev-123456.okta.com "+
			"(without https://)", r.Domain)}
	}
	switch s := r.AuthorizationServer; {
	case s == "org":
		return "https://" + d, nil
	case s == "":
		return "https://" + d + "/oauth2/default", nil
	case segmentRegexp.MatchString(s):
		return "https://" + d + "/oauth2/" + s, nil
	default:
		return "", &ConfigError{Field: "authorization_server", Msg: fmt.Sprintf("%q must be \"default\", \"org\" or the id of "+
			"a custom authorization server", s)}
	}
}

// keycloakIssuer builds {base_url}/realms/{realm}.
func keycloakIssuer(r *providerJSON) (string, *ConfigError) {
	base, err := baseURLIssuer(r)
	if err != nil {
		return "", err
	}
	if !segmentRegexp.MatchString(r.Realm) {
		return "", &ConfigError{Field: "realm", Msg: fmt.Sprintf("%q must be the realm's name (letters, digits, . _ ~ -); "+
			"for another name give the issuer instead", r.Realm)}
	}
	return base + "/realms/" + r.Realm, nil
}

// baseURLIssuer is base_url without its trailing slash; Validate checks it
// as the issuer.
func baseURLIssuer(r *providerJSON) (string, *ConfigError) {
	if r.BaseURL == "" {
		return "", &ConfigError{Field: "base_url", Msg: "must be set: the provider's URL, e.g. https://id.home.example"}
	}
	if p := issuerProblem(r.BaseURL); p != "" {
		return "", &ConfigError{Field: "base_url", Msg: p}
	}
	return strings.TrimRight(r.BaseURL, "/"), nil
}

// validatePreset checks what depends on c's preset (Validate calls it).
func (c ProviderConfig) validatePreset() error {
	bad := func(field, msg string) error { return &ConfigError{c.ID, field, msg} }
	p, ok := presets[c.Preset]
	switch {
	case c.Preset == "":
	case !ok:
		return bad("preset", fmt.Sprintf("%q is not a preset", c.Preset))
	case p.unsupported != "":
		return bad("preset", p.unsupported)
	}
	if c.HostedDomain != "" {
		if c.Preset != "google" {
			return bad("hosted_domain", "is only used with \"preset\": \"google\"")
		}
		if !hostPattern.MatchString(c.HostedDomain) {
			return bad("hosted_domain", fmt.Sprintf("%q must be a lowercase domain name, e.g. example.com", c.HostedDomain))
		}
	}
	if p.api != nil && (c.Protocol != "oauth2" || c.Issuer != githubIssuer || c.AuthURL != p.authURL || c.TokenURL != p.tokenURL) {
		return bad("preset", fmt.Sprintf("the %s preset's protocol, issuer and endpoints are its own: read the "+
			"configuration with ParseProviders", c.Preset))
	}
	switch {
	case c.Preset == "google" && len(c.Policy.Roles) > 0:
		return bad("roles", "Google ID tokens carry no groups claim, so a roles mapping could only take roles away")
	case c.Preset == "github" && len(c.Policy.Roles) > 0:
		return bad("roles", "GitHub sends no groups (authgate does not read org or team membership), so a roles mapping "+
			"could only take roles away")
	case c.Preset == "microsoft" && c.Policy.LinkByVerifiedEmail:
		return bad("link_by_verified_email", "Entra ID tokens carry no email_verified claim and Microsoft says their email "+
			"is not guaranteed to be correct, so no Entra email counts as verified and linking by it would never happen")
	}
	return nil
}

// admit applies c's preset checks to a verified ID token's claims; Finish
// calls it before mapping them to an identity. It refuses with a
// *NotAllowedError (ErrNotAllowed, and ErrInvalid):
//   - google with hosted_domain (check "hosted_domain"): an hd claim that is
//     absent or another domain (Google's advice: trust the token's hd, never
//     the request's);
//   - microsoft with a roles mapping (check "groups_overage"): a groups
//     overage (more than 200 groups, so Entra sent a pointer to Microsoft
//     Graph instead of the list), since reading it as "no groups" would take
//     the mapped roles away.
func (c ProviderConfig) admit(claims map[string]any) error {
	switch c.Preset {
	case "google":
		if hd := str(claims["hd"]); c.HostedDomain != "" && !strings.EqualFold(hd, c.HostedDomain) {
			return &NotAllowedError{Provider: c.ID, Check: "hosted_domain",
				Msg: fmt.Sprintf("ID token hd %q is not the hosted domain %s", clean(hd), c.HostedDomain)}
		}
	case "microsoft":
		names, _ := claims["_claim_names"].(map[string]any)
		if _, overage := names["groups"]; (overage || claims["hasgroups"] == true) && len(c.Policy.Roles) > 0 {
			return &NotAllowedError{Provider: c.ID, Check: "groups_overage",
				Msg: "the ID token has too many groups to list (Entra groups overage); assign the app " +
					"only the groups it maps (\"Groups assigned to the application\")"}
		}
	}
	return nil
}
