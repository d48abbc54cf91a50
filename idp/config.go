package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/authgate/authgate/issue"
)

// ProviderConfig is one OpenID provider, resolved from the operator's JSON by
// ParseProviders (the client secret already read) and checked by Validate.
type ProviderConfig struct {
	ID           string // [a-z0-9_-], at most 32: in the redirect URI /sso/<id>/callback
	Name         string // shown on the button; default the id
	Issuer       string // https (http only on a loopback host), exactly as the provider writes it
	ClientID     string
	ClientSecret string   // "" for a public client (PKCE only); never logged
	Scopes       []string // default openid, email, profile; must hold openid
	// UsernameClaim names the claim a new user's username comes from
	// (default preferred_username); GroupsClaim the claim holding groups
	// (default groups).
	UsernameClaim string
	GroupsClaim   string
	Policy        issue.ProviderPolicy
	// Preset names the provider authgate knows ("google", "microsoft",
	// "okta", "keycloak", "pocket-id", "github"; see preset.go), "" for none.
	// HostedDomain (google only) is the Google Workspace domain the ID
	// token's hd claim must name.
	Preset       string
	HostedDomain string
	// NativeClientIDs are the client ids of the operator's own native apps
	// at this provider: VerifyIDToken also accepts ID tokens issued to them
	// (ClientID is always accepted). Never another party's app.
	NativeClientIDs []string
	// Protocol is "" or "oidc" (discovery from the issuer, ID tokens) or
	// "oauth2": plain OAuth2 with the endpoints below and no ID token, the
	// identity read with the access token from UserinfoURL (an endpoint
	// answering as OpenID Connect's userinfo does) or, for the github preset,
	// from the provider's API. Issuer is then only the namespace the
	// identities are recorded under. The github preset fills these in.
	Protocol    string
	AuthURL     string
	TokenURL    string
	UserinfoURL string
}

// oauth2Only reports whether c is a plain OAuth2 provider (no discovery, no
// ID token).
func (c ProviderConfig) oauth2Only() bool { return c.Protocol == "oauth2" }

// String names the provider without its secret, so that printing a
// ProviderConfig (%v, %+v) never shows the client secret.
func (c ProviderConfig) String() string {
	return "provider " + c.ID + " (" + c.Issuer + ", client " + c.ClientID + ")"
}

// LogValue is String for slog.
func (c ProviderConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Lookups read what a provider's configuration names: an environment
// variable (client_secret_env) and a file (client_secret_file).
type Lookups struct {
	Env      func(name string) (string, bool)
	ReadFile func(path string) ([]byte, error)
}

// providerJSON is a provider as the operator writes it.
type providerJSON struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Issuer              string            `json:"issuer"`
	ClientID            string            `json:"client_id"`
	ClientSecretEnv     string            `json:"client_secret_env"`
	ClientSecretFile    string            `json:"client_secret_file"`
	Scopes              []string          `json:"scopes"`
	NewUsers            string            `json:"new_users"`
	DefaultRole         string            `json:"default_role"`
	LinkByVerifiedEmail bool              `json:"link_by_verified_email"`
	UsernameClaim       string            `json:"username_claim"`
	GroupsClaim         string            `json:"groups_claim"`
	Roles               map[string]string `json:"roles"`
	// A preset and its inputs (preset.go).
	Preset              string `json:"preset"`
	Tenant              string `json:"tenant"`
	Domain              string `json:"domain"`
	AuthorizationServer string `json:"authorization_server"`
	BaseURL             string `json:"base_url"`
	Realm               string `json:"realm"`
	HostedDomain        string `json:"hosted_domain"`
	// The client ids of the operator's native apps (VerifyIDToken).
	NativeClientIDs []string `json:"native_client_ids"`
	// A plain OAuth2 provider ("protocol": "oauth2") and its endpoints.
	Protocol              string `json:"protocol"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
}

// ParseProviders reads a JSON list of providers, refusing unknown fields,
// reads each client secret through lk, fills in the defaults and validates
// every provider and the list (ids unique). Errors are *ConfigError naming
// the provider and the field, except malformed JSON.
func ParseProviders(data []byte, lk Lookups) ([]ProviderConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw []providerJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON list of providers: %v", ErrConfig, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: text after the JSON list", ErrConfig)
	}
	out := make([]ProviderConfig, 0, len(raw))
	for i, r := range raw {
		name := r.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		secret, err := r.secret(name, lk)
		if err != nil {
			return nil, err
		}
		if err := r.applyPreset(name); err != nil {
			return nil, err
		}
		out = append(out, ProviderConfig{ID: r.ID, Name: r.Name, Issuer: r.Issuer, ClientID: r.ClientID,
			ClientSecret: secret, Scopes: r.Scopes, UsernameClaim: r.UsernameClaim, GroupsClaim: r.GroupsClaim,
			Policy: issue.ProviderPolicy{NewUsers: r.NewUsers, DefaultRole: r.DefaultRole,
				LinkByVerifiedEmail: r.LinkByVerifiedEmail, Roles: r.Roles},
			Preset: r.Preset, HostedDomain: r.HostedDomain, NativeClientIDs: r.NativeClientIDs,
			Protocol: r.Protocol, AuthURL: r.AuthorizationEndpoint, TokenURL: r.TokenEndpoint, UserinfoURL: r.UserinfoEndpoint})
	}
	if err := ValidateAll(out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].withDefaults()
	}
	return out, nil
}

// secret reads the client secret the provider names, or "" when it names none.
func (r providerJSON) secret(name string, lk Lookups) (string, error) {
	switch {
	case r.ClientSecretEnv != "" && r.ClientSecretFile != "":
		return "", &ConfigError{name, "client_secret_env", "give client_secret_env or client_secret_file, not both"}
	case r.ClientSecretEnv != "":
		v, ok := "", false
		if lk.Env != nil {
			v, ok = lk.Env(r.ClientSecretEnv)
		}
		if !ok || strings.TrimSpace(v) == "" {
			return "", &ConfigError{name, "client_secret_env", fmt.Sprintf("the environment variable %s is not set or empty", r.ClientSecretEnv)}
		}
		return strings.TrimSpace(v), nil
	case r.ClientSecretFile != "":
		if lk.ReadFile == nil {
			return "", &ConfigError{name, "client_secret_file", "files cannot be read here"}
		}
		b, err := lk.ReadFile(r.ClientSecretFile)
		if err != nil {
			return "", &ConfigError{name, "client_secret_file", fmt.Sprintf("cannot read %s: %v", r.ClientSecretFile, errors.Unwrap(err))}
		}
		if strings.TrimSpace(string(b)) == "" {
			return "", &ConfigError{name, "client_secret_file", fmt.Sprintf("%s is empty", r.ClientSecretFile)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// ValidateAll validates each provider and refuses an id used twice.
func ValidateAll(cfgs []ProviderConfig) error {
	seen := make(map[string]bool, len(cfgs))
	for i, c := range cfgs {
		if err := c.Validate(); err != nil {
			if ce, ok := errors.AsType[*ConfigError](err); ok && ce.Provider == "" {
				ce.Provider = fmt.Sprintf("#%d", i+1)
			}
			return err
		}
		if seen[c.ID] {
			return &ConfigError{c.ID, "id", "used by two providers; give each its own"}
		}
		seen[c.ID] = true
	}
	return nil
}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	tokenPattern = regexp.MustCompile(`^[!#-\[\]-~]+$`) // printable ASCII without space, " and \
)

// Validate checks c (defaults not yet filled in are allowed) and returns a
// *ConfigError naming the provider and the field at fault, or nil.
func (c ProviderConfig) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{c.ID, field, fmt.Sprintf(format, args...)}
	}
	if !idPattern.MatchString(c.ID) {
		return bad("id", "%q must be 1 to 32 lowercase letters, digits, - or _, starting with a letter or digit (it is part of the redirect URI)", c.ID)
	}
	if len(c.Name) > 64 {
		return bad("name", "at most 64 characters")
	}
	if err := issuerProblem(c.Issuer); err != "" {
		return bad("issuer", "%s", err)
	}
	if c.ClientID == "" || !tokenPattern.MatchString(c.ClientID) {
		return bad("client_id", "must be set, without spaces")
	}
	if err := c.validateProtocol(); err != nil {
		return err
	}
	if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, "openid") && !c.oauth2Only() {
		return bad("scopes", "must include openid")
	}
	for _, s := range c.Scopes {
		if !tokenPattern.MatchString(s) {
			return bad("scopes", "%q is not a scope", s)
		}
	}
	for _, id := range c.NativeClientIDs {
		if !tokenPattern.MatchString(id) {
			return bad("native_client_ids", "%q is not a client id: each must be set, without spaces", id)
		}
	}
	for field, claim := range map[string]string{"username_claim": c.UsernameClaim, "groups_claim": c.GroupsClaim} {
		if claim != "" && !tokenPattern.MatchString(claim) {
			return bad(field, "%q is not a claim name", claim)
		}
	}
	p := c.Policy
	switch p.NewUsers {
	case "", "refuse":
		if p.DefaultRole != "" {
			return bad("default_role", "is only used with \"new_users\": \"create\"")
		}
	case "create":
	default:
		return bad("new_users", "must be \"refuse\" or \"create\" (got %q)", p.NewUsers)
	}
	if p.DefaultRole != "" && !tokenPattern.MatchString(p.DefaultRole) {
		return bad("default_role", "%q is not a role name", p.DefaultRole)
	}
	for group, role := range p.Roles {
		if group == "" || role == "" || !tokenPattern.MatchString(role) {
			return bad("roles", "%q → %q: each entry maps a provider group to an authgate role name", group, role)
		}
	}
	return c.validatePreset()
}

// validateProtocol checks the protocol and a plain OAuth2 provider's
// endpoints: each https (http only on a loopback host), as the issuer.
func (c ProviderConfig) validateProtocol() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{c.ID, field, fmt.Sprintf(format, args...)}
	}
	endpoints := []struct{ field, url string }{{"authorization_endpoint", c.AuthURL},
		{"token_endpoint", c.TokenURL}, {"userinfo_endpoint", c.UserinfoURL}}
	switch c.Protocol {
	case "", "oidc":
		for _, e := range endpoints {
			if e.url != "" {
				return bad(e.field, "is only used with \"protocol\": \"oauth2\" (an OpenID provider's endpoints come from its discovery)")
			}
		}
		return nil
	case "oauth2":
	default:
		return bad("protocol", "must be \"oidc\" or \"oauth2\" (got %q)", c.Protocol)
	}
	if c.UserinfoURL == "" && presets[c.Preset].api == nil {
		return bad("userinfo_endpoint", "must be set: with plain OAuth2 the identity is read from it with the access token")
	}
	for _, e := range endpoints {
		if e.url == "" && e.field != "userinfo_endpoint" {
			return bad(e.field, "must be set with \"protocol\": \"oauth2\"")
		}
		if e.url == "" {
			continue
		}
		if p := endpointProblem(e.url); p != "" {
			return bad(e.field, "%s", p)
		}
	}
	if len(c.NativeClientIDs) > 0 {
		return bad("native_client_ids", "a plain OAuth2 provider issues no ID tokens, and an access token is checked only as "+
			"issued to client_id (its secret is the only one authgate holds): let the app use client_id")
	}
	return nil
}

// endpointProblem says what is wrong with an endpoint URL, or "": the
// issuer's rules, a query allowed.
func endpointProblem(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		u.RawQuery = ""
		return issuerProblem(u.String())
	}
	return fmt.Sprintf("%q is not an absolute URL", raw)
}

// issuerProblem says what is wrong with an issuer URL, or "".
func issuerProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "must be set: the provider's issuer URL, e.g. https://id.home.example"
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q is not an absolute URL", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Sprintf("%s must not carry a user name, query or fragment", raw)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return fmt.Sprintf("%s must use https (plain http only on a loopback host, for development)", raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("%s must be an https URL", raw)
	}
	return ""
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withDefaults fills in the defaults Validate allows to be empty.
func (c *ProviderConfig) withDefaults() {
	if c.Name == "" {
		c.Name = c.ID
	}
	if len(c.Scopes) == 0 && !c.oauth2Only() {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if c.UsernameClaim == "" {
		c.UsernameClaim = "preferred_username"
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.Policy.NewUsers == "" {
		c.Policy.NewUsers = "refuse"
	}
}
