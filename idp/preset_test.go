package idp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/idp/idptest"
)

// parseOne parses a one-provider list with a client id and no secret added
// to fields (a JSON object's inside, without braces).
func parseOne(t *testing.T, fields string) (ProviderConfig, error) {
	t.Helper()
	got, err := ParseProviders([]byte(`[{"id":"p","client_id":"authgate",`+fields+`}]`), Lookups{})
	if err != nil {
		return ProviderConfig{}, err
	}
	return got[0], nil
}

func TestParseProviders_Presets(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tests := []struct {
		name, fields                           string
		issuer, scopes, username, groups, show string
	}{
		{"Google", `"preset":"google"`,
			"https://accounts.google.com", "openid email profile", "email", "groups", "Google"},
		{"GoogleHostedDomain", `"preset":"google","hosted_domain":"example.com"`,
			"https://accounts.google.com", "openid email profile", "email", "groups", "Google"},
		{"Microsoft", `"preset":"microsoft","tenant":"` + tenant + `"`,
			"https://login.microsoftonline.com/" + tenant + "/v2.0", "openid email profile", "preferred_username", "groups", "Microsoft"},
		{"MicrosoftUpperCaseTenant", `"preset":"microsoft","tenant":"` + strings.ToUpper(tenant) + `"`,
			"https://login.microsoftonline.com/" + tenant + "/v2.0", "openid email profile", "preferred_username", "groups", "Microsoft"},
		{"OktaDefaultServer", `"preset":"okta","domain":"dev-123456.okta.com"`,
			"https://dev-123456.okta.com/oauth2/default", "openid email profile", "preferred_username", "groups", "Okta"},
		{"OktaOrgServer", `"preset":"okta","domain":"dev-123456.okta.com","authorization_server":"org"`,
			"https://dev-123456.okta.com", "openid email profile", "preferred_username", "groups", "Okta"},
		{"OktaCustomServer", `"preset":"okta","domain":"dev-123456.okta.com","authorization_server":"aus1a2b3c4"`,
			"https://dev-123456.okta.com/oauth2/aus1a2b3c4", "openid email profile", "preferred_username", "groups", "Okta"},
		{"Keycloak", `"preset":"keycloak","base_url":"https://sso.home.example/","realm":"home"`,
			"https://sso.home.example/realms/home", "openid email profile", "preferred_username", "groups", "Keycloak"},
		{"KeycloakLegacyAuthPath", `"preset":"keycloak","base_url":"https://sso.home.example/auth","realm":"home"`,
			"https://sso.home.example/auth/realms/home", "openid email profile", "preferred_username", "groups", "Keycloak"},
		{"PocketID", `"preset":"pocket-id","base_url":"https://id.home.example/"`,
			"https://id.home.example", "openid email profile groups", "preferred_username", "groups", "Pocket ID"},
		{"PocketIDLoopback", `"preset":"pocket-id","base_url":"http://127.0.0.1:1411"`,
			"http://127.0.0.1:1411", "openid email profile groups", "preferred_username", "groups", "Pocket ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseOne(t, tt.fields)
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != tt.issuer {
				t.Errorf("got issuer %q; want %q", c.Issuer, tt.issuer)
			}
			if got := strings.Join(c.Scopes, " "); got != tt.scopes {
				t.Errorf("got scopes %q; want %q", got, tt.scopes)
			}
			if c.UsernameClaim != tt.username || c.GroupsClaim != tt.groups {
				t.Errorf("got claims %q %q; want %q %q", c.UsernameClaim, c.GroupsClaim, tt.username, tt.groups)
			}
			if c.Name != tt.show {
				t.Errorf("got name %q; want %q", c.Name, tt.show)
			}
		})
	}
}

func TestParseProviders_PresetExplicitFieldsWin(t *testing.T) {
	c, err := parseOne(t, `"preset":"google","name":"Work Google","issuer":"https://accounts.example","scopes":["openid","email"],
		"username_claim":"sub","groups_claim":"teams"`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Work Google" || c.Issuer != "https://accounts.example" || strings.Join(c.Scopes, " ") != "openid email" ||
		c.UsernameClaim != "sub" || c.GroupsClaim != "teams" {
		t.Errorf("got %+v; want every explicit field kept", c)
	}
	// An explicit issuer replaces the fields the preset builds one from.
	c, err = parseOne(t, `"preset":"keycloak","issuer":"https://sso.home.example/realms/my%20home"`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://sso.home.example/realms/my%20home" || c.UsernameClaim != "preferred_username" {
		t.Errorf("got %q %q; want the explicit issuer and the preset's claims", c.Issuer, c.UsernameClaim)
	}
}

func TestParseProviders_PresetRefusals(t *testing.T) {
	tests := []struct {
		name, fields, field, says string
	}{
		{"UnknownPreset", `"preset":"gogle"`, "preset", "known presets: github, google"},
		{"HomeAssistant", `"preset":"home-assistant"`, "preset", "IndieAuth client id"},
		{"GitHubWithIssuer", `"preset":"github","issuer":"https://github.com"`, "issuer", "set by the github preset"},
		{"GitHubWithEndpoint", `"preset":"github","token_endpoint":"https://gh.example/token"`, "token_endpoint", "set by the github preset"},
		{"GitHubRoles", `"preset":"github","roles":{"admins":"admin"}`, "roles", "GitHub sends no groups"},
		{"GitHubNativeClientIDs", `"preset":"github","native_client_ids":["ios"]`, "native_client_ids", "only as issued to client_id"},
		{"InputWithoutPreset", `"issuer":"https://id.example","tenant":"x"`, "tenant", "only used with a \"preset\""},
		{"InputOfAnotherPreset", `"preset":"google","realm":"home"`, "realm", "not used by the google preset"},
		{"IssuerAndInputs", `"preset":"okta","issuer":"https://id.example","domain":"dev-1.okta.com"`, "domain", "not both"},
		{"GoogleRoles", `"preset":"google","roles":{"admins":"admin"}`, "roles", "no groups claim"},
		{"GoogleBadHostedDomain", `"preset":"google","hosted_domain":"https://example.com"`, "hosted_domain", "domain name"},
		{"HostedDomainWithoutGoogle", `"preset":"okta","domain":"dev-1.okta.com","hosted_domain":"example.com"`, "hosted_domain", "not used by the okta preset"},
		{"MicrosoftNoTenant", `"preset":"microsoft"`, "tenant", "must be set"},
		{"MicrosoftCommon", `"preset":"microsoft","tenant":"common"`, "tenant", "no single issuer"},
		{"MicrosoftOrganizations", `"preset":"microsoft","tenant":"organizations"`, "tenant", "no single issuer"},
		{"MicrosoftConsumers", `"preset":"microsoft","tenant":"consumers"`, "tenant", "9188040d-6c67-4c5b-b112-36a304b66dad"},
		{"MicrosoftDomainTenant", `"preset":"microsoft","tenant":"contoso.onmicrosoft.com"`, "tenant", "not a tenant ID"},
		{"MicrosoftLinkByEmail", `"preset":"microsoft","tenant":"72f988bf-86f1-41af-91ab-2d7cd011db47","link_by_verified_email":true,
			"new_users":"create"`, "link_by_verified_email", "no email_verified"},
		{"OktaNoDomain", `"preset":"okta"`, "domain", "Okta domain"},
		{"OktaDomainWithScheme", `"preset":"okta","domain":"https://dev-1.okta.com"`, "domain", "without https://"},
		{"OktaBadServer", `"preset":"okta","domain":"dev-1.okta.com","authorization_server":"a/b"`, "authorization_server", "custom authorization server"},
		{"KeycloakNoBaseURL", `"preset":"keycloak","realm":"home"`, "base_url", "must be set"},
		{"KeycloakNoRealm", `"preset":"keycloak","base_url":"https://sso.example"`, "realm", "realm's name"},
		{"KeycloakRealmWithSlash", `"preset":"keycloak","base_url":"https://sso.example","realm":"a/b"`, "realm", "realm's name"},
		{"PocketIDNoBaseURL", `"preset":"pocket-id"`, "base_url", "must be set"},
		{"PocketIDPlainHTTP", `"preset":"pocket-id","base_url":"http://id.home.example"`, "base_url", "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOne(t, tt.fields)
			ce, ok := errors.AsType[*ConfigError](err)
			if !ok {
				t.Fatalf("got %v; want a *ConfigError", err)
			}
			if ce.Provider != "p" || ce.Field != tt.field || !strings.Contains(ce.Msg, tt.says) {
				t.Errorf("got %v; want provider p, field %s, saying %q", err, tt.field, tt.says)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("got %v; want it to wrap ErrConfig", err)
			}
		})
	}
}

func TestProviderConfig_ValidatePreset(t *testing.T) {
	base := ProviderConfig{ID: "p", Issuer: "https://id.example", ClientID: "a"}
	for name, tt := range map[string]struct {
		mod   func(*ProviderConfig)
		field string
	}{
		"Unsupported":            {func(c *ProviderConfig) { c.Preset = "home-assistant" }, "preset"},
		"Unknown":                {func(c *ProviderConfig) { c.Preset = "auth0" }, "preset"},
		"HostedDomainNoPreset":   {func(c *ProviderConfig) { c.HostedDomain = "example.com" }, "hosted_domain"},
		"HostedDomainUpperCase":  {func(c *ProviderConfig) { c.Preset, c.HostedDomain = "google", "Example.com" }, "hosted_domain"},
		"GoogleWithHostedDomain": {func(c *ProviderConfig) { c.Preset, c.HostedDomain = "google", "example.com" }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			c := base
			tt.mod(&c)
			err := c.Validate()
			ce, _ := errors.AsType[*ConfigError](err)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("got %v; want nil", err)
			case tt.field != "" && (ce == nil || ce.Field != tt.field):
				t.Errorf("got %v; want a *ConfigError for %s", err, tt.field)
			}
		})
	}
}

func TestProviderConfig_Admit(t *testing.T) {
	google := ProviderConfig{Preset: "google", HostedDomain: "example.com"}
	entra := ProviderConfig{Preset: "microsoft"}
	entra.Policy.Roles = map[string]string{"0d1b5c6a-1111-2222-3333-444455556666": "family"}
	overage := map[string]any{"_claim_names": map[string]any{"groups": "src1"},
		"_claim_sources": map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}}
	tests := []struct {
		name   string
		cfg    ProviderConfig
		claims map[string]any
		check  string // the refusing check; "" for admitted
	}{
		{"GoogleHostedDomainMatches", google, map[string]any{"hd": "example.com"}, ""},
		{"GoogleHostedDomainCaseInsensitive", google, map[string]any{"hd": "Example.COM"}, ""},
		{"GoogleOtherDomain", google, map[string]any{"hd": "evil.example"}, "hosted_domain"},
		{"GoogleConsumerAccountHasNoHD", google, map[string]any{"email": "someone@gmail.com"}, "hosted_domain"},
		{"GoogleHDNotAString", google, map[string]any{"hd": []any{"example.com"}}, "hosted_domain"},
		{"GoogleWithoutHostedDomain", ProviderConfig{Preset: "google"}, map[string]any{}, ""},
		{"EntraGroupsListed", entra, map[string]any{"groups": []any{"0d1b5c6a-1111-2222-3333-444455556666"}}, ""},
		{"EntraGroupsOverage", entra, overage, "groups_overage"},
		{"EntraHasGroups", entra, map[string]any{"hasgroups": true}, "groups_overage"},
		{"EntraOverageWithoutRoles", ProviderConfig{Preset: "microsoft"}, overage, ""},
		{"NoPreset", ProviderConfig{}, overage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.admit(tt.claims)
			if tt.check == "" {
				if err != nil {
					t.Errorf("got %v; want nil", err)
				}
				return
			}
			// Not allowed, not a broken answer; and still a refusal to a
			// caller that only knows ErrInvalid.
			na, ok := errors.AsType[*NotAllowedError](err)
			if !ok || na.Check != tt.check || !errors.Is(err, ErrNotAllowed) || !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v; want a *NotAllowedError (ErrNotAllowed, ErrInvalid) from check %s", err, tt.check)
			}
		})
	}
}

// TestFinish_HostedDomain signs in at a real provider (which sends no hd
// claim, like a consumer Google account) through a provider configured with
// the google preset: refused with hosted_domain, accepted without.
func TestFinish_HostedDomain(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	const callback = "http://127.0.0.1:1/sso/p/callback"
	for _, tt := range []struct {
		name, hostedDomain string
		ok                 bool
	}{{"NoHDClaim", "example.test", false}, {"NoHostedDomain", "", true}} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), []ProviderConfig{{ID: "p", Issuer: op.Issuer, ClientID: op.ClientID,
				ClientSecret: op.ClientSecret, Preset: "google", HostedDomain: tt.hostedDomain}},
				Options{Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			authURL, a, err := s.Begin("p", callback)
			if err != nil {
				t.Fatal(err)
			}
			jar, _ := cookiejar.New(nil)
			u, _ := op.User("alice")
			cb, err := url.Parse(op.LoginAs(t, &http.Client{Jar: jar}, authURL, u.Username, u.Password))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Finish(context.Background(), "p", callback, a, cb.Query())
			if tt.ok && err != nil {
				t.Errorf("got %v; want nil", err)
			}
			if !tt.ok && (!errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "hosted domain")) {
				t.Errorf("got %v; want ErrNotAllowed for the missing hd claim", err)
			}
		})
	}
}
