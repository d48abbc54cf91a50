package idp

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

// githubUserFixture is the example answer of GET /user in GitHub's REST
// documentation (https://docs.github.com/rest/users/users#get-the-authenticated-user),
// shortened to the fields that matter here and a few others.
const githubUserFixture = `{
  "login": "octocat",
  "id": 1,
  "node_id": "MDQ6VXNlcjE=",
  "avatar_url": "https://github.com/images/error/octocat_happy.gif",
  "type": "User",
  "site_admin": false,
  "name": "monalisa octocat",
  "company": "GitHub",
  "email": "octocat@github.com",
  "created_at": "2008-01-14T04:33:35Z"
}`

func TestGitHubUser(t *testing.T) {
	claims, err := githubUser([]byte(githubUserFixture))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "1" || claims["preferred_username"] != "octocat" || claims["name"] != "monalisa octocat" {
		t.Errorf("got %v; want sub 1 (the id, not the login), username octocat and the name", claims)
	}
	if _, ok := claims["email"]; ok {
		t.Errorf("got email %v; want the profile email left out (its verification is unknown)", claims["email"])
	}
	big, err := githubUser([]byte(`{"login":"big","id":12345678901}`))
	if err != nil || big["sub"] != "12345678901" {
		t.Errorf("got %v, %v; want a large id in decimal, not in float notation", big, err)
	}
	for name, body := range map[string]string{
		"NoID":        `{"login":"octocat"}`,
		"StringID":    `{"login":"octocat","id":"1"}`,
		"ZeroID":      `{"login":"octocat","id":0}`,
		"FloatID":     `{"login":"octocat","id":1.5}`,
		"NoLogin":     `{"id":1}`,
		"NotAnObject": `[1]`,
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := githubUser([]byte(body)); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, %v; want ErrInvalid", got, err)
			}
		})
	}
}

func TestGitHubPrimaryEmail(t *testing.T) {
	// The documented example of GET /user/emails
	// (https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user),
	// and variations of it.
	tests := []struct {
		name, body, email string
		verified          bool
	}{
		{"Documented", `[{"email":"octocat@github.com","verified":true,"primary":true,"visibility":"public"}]`,
			"octocat@github.com", true},
		{"PrimaryAmongOthers", `[{"email":"old@example.com","verified":true,"primary":false,"visibility":null},
			{"email":"octocat@github.com","verified":true,"primary":true,"visibility":"private"}]`, "octocat@github.com", true},
		{"UnverifiedPrimary", `[{"email":"new@example.com","verified":false,"primary":true,"visibility":"public"},
			{"email":"old@example.com","verified":true,"primary":false,"visibility":null}]`, "new@example.com", false},
		{"NoPrimary", `[{"email":"old@example.com","verified":true,"primary":false,"visibility":null}]`, "", false},
		{"Empty", `[]`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email, verified, err := githubPrimaryEmail([]byte(tt.body))
			if err != nil || email != tt.email || verified != tt.verified {
				t.Errorf("got %q %v %v; want %q %v", email, verified, err, tt.email, tt.verified)
			}
		})
	}
	if _, _, err := githubPrimaryEmail([]byte(`{"message":"Requires authentication"}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v; want ErrInvalid for an answer that is not a list", err)
	}
}

func TestGitHubCheckedUser(t *testing.T) {
	// Shortened from the documented answer of POST
	// /applications/{client_id}/token (https://docs.github.com/rest/apps/oauth-applications#check-a-token).
	const answer = `{"id":1,"url":"https://api.github.com/authorizations/1","scopes":["public_repo","user"],
		"token":"ghu_16C7e42F292c6912E7710c838347Ae178B4a",
		"app":{"url":"http://my-github-app.com","name":"my github app","client_id":"Iv1.8a61f9b3a7aba766"},
		"user":{"login":"octocat","id":1,"type":"User"}}`
	if sub, err := githubCheckedUser([]byte(answer), "Iv1.8a61f9b3a7aba766"); err != nil || sub != "1" {
		t.Errorf("got %q, %v; want the token's user id 1", sub, err)
	}
	if _, err := githubCheckedUser([]byte(answer), "another-app"); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v; want ErrInvalid for a token of another app", err)
	}
	if _, err := githubCheckedUser([]byte(`{"app":{"client_id":"a"},"user":{"login":"x"}}`), "a"); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v; want ErrInvalid for an answer without a user id", err)
	}
}

// githubProvider is the github preset as the operator writes it.
func githubProvider(t *testing.T, extra string) ProviderConfig {
	t.Helper()
	list, err := ParseProviders([]byte(`[{"id":"gh","preset":"github","client_id":"Iv1.abc","client_secret_env":"GH",
		"new_users":"create"`+extra+`}]`), Lookups{Env: func(string) (string, bool) { return "gh-secret", true }})
	if err != nil {
		t.Fatal(err)
	}
	return list[0]
}

func TestParseProviders_GitHub(t *testing.T) {
	c := githubProvider(t, "")
	if c.Protocol != "oauth2" || c.Issuer != "https://github.com" || c.Name != "GitHub" ||
		c.AuthURL != "https://github.com/login/oauth/authorize" || c.TokenURL != "https://github.com/login/oauth/access_token" ||
		strings.Join(c.Scopes, " ") != "read:user user:email" || c.UserinfoURL != "" {
		t.Errorf("got %+v; want the github preset's protocol, issuer, endpoints and scopes", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("got %v; want the parsed configuration valid", err)
	}
	// Built by hand with other endpoints, it is refused.
	c.TokenURL = "https://gh.example/token"
	if ce, ok := errors.AsType[*ConfigError](c.Validate()); !ok || ce.Field != "preset" {
		t.Errorf("got %v; want a *ConfigError on preset", c.Validate())
	}
}

func TestBegin_GitHub(t *testing.T) {
	s, err := New(context.Background(), []ProviderConfig{githubProvider(t, "")}, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const cb = "https://auth.home.example/sso/gh/callback"
	authURL, a, err := s.Begin("gh", cb)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != "https://github.com/login/oauth/authorize" {
		t.Errorf("got %s; want GitHub's authorization endpoint", authURL)
	}
	for k, want := range map[string]string{"client_id": "Iv1.abc", "response_type": "code", "redirect_uri": cb,
		"state": a.State, "code_challenge_method": "S256", "scope": "read:user user:email"} {
		if got := q.Get(k); got != want {
			t.Errorf("got %s=%q; want %q", k, got, want)
		}
	}
	if q.Get("code_challenge") == "" || q.Has("nonce") || a.Nonce != "" || a.Provider != "gh" || len(a.State) < 40 {
		t.Errorf("got %s and %+v; want a PKCE challenge, no nonce, and the attempt bound to gh", authURL, a)
	}
	// No ID token comes from GitHub: VerifyIDToken says so.
	_, err = s.VerifyIDToken(context.Background(), "gh", "x.y.z")
	if ue, ok := errors.AsType[*UnsupportedError](err); !ok || ue.Field != "id_token" {
		t.Errorf("got %v; want an UnsupportedError on id_token", err)
	}
}

func TestIntrospected(t *testing.T) {
	const iss = "https://id.example/"
	now := mustTime(t)
	ids := []string{"authgate", "ios-app"}
	tests := []struct {
		name, body, sub string
	}{
		{"Active", `{"active":true,"client_id":"authgate","sub":"s1","iss":"https://id.example/","exp":2000000000}`, "s1"},
		{"NativeClient", `{"active":true,"client_id":"ios-app","sub":"s1","token_type":"Bearer"}`, "s1"},
		{"NoSub", `{"active":true,"client_id":"authgate"}`, ""},
		{"Inactive", `{"active":false,"client_id":"authgate","sub":"s1"}`, "!"},
		{"NoActive", `{"client_id":"authgate","sub":"s1"}`, "!"},
		{"NoClientID", `{"active":true,"sub":"s1"}`, "!"},
		{"AnotherClient", `{"active":true,"client_id":"other-app","sub":"s1"}`, "!"},
		{"AnotherIssuer", `{"active":true,"client_id":"authgate","iss":"https://evil.example/"}`, "!"},
		{"Expired", `{"active":true,"client_id":"authgate","exp":1000000000}`, "!"},
		{"RefreshToken", `{"active":true,"client_id":"authgate","token_type":"refresh_token"}`, "!"},
		{"NotJSON", `active`, "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := introspected([]byte(tt.body), ids, iss, now)
			if tt.sub == "!" {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("got %q, %v; want ErrInvalid", sub, err)
				}
			} else if err != nil || sub != tt.sub {
				t.Errorf("got %q, %v; want %q", sub, err, tt.sub)
			}
		})
	}
}

func TestIntrospectionAuthPost(t *testing.T) {
	for _, tt := range []struct {
		methods []string
		post    bool
	}{
		{nil, false},
		{[]string{"client_secret_basic"}, false},
		{[]string{"client_secret_basic", "client_secret_post"}, false},
		{[]string{"client_secret_post"}, true},
		{[]string{"private_key_jwt", "client_secret_post"}, true},
	} {
		if got := introspectionAuthPost(tt.methods); got != tt.post {
			t.Errorf("got %v for %q; want %v", got, tt.methods, tt.post)
		}
	}
}

func mustTime(t *testing.T) time.Time {
	t.Helper()
	now, err := time.Parse(time.RFC3339, "2030-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func TestProviderConfig_ValidateProtocol(t *testing.T) {
	base := ProviderConfig{ID: "p", Issuer: "https://id.example", ClientID: "a", Protocol: "oauth2",
		AuthURL: "https://id.example/authorize", TokenURL: "https://id.example/token", UserinfoURL: "https://id.example/userinfo",
		Scopes: []string{"profile"}}
	if err := base.Validate(); err != nil {
		t.Fatalf("got %v; want a plain OAuth2 provider without openid valid", err)
	}
	for name, tt := range map[string]struct {
		mod   func(*ProviderConfig)
		field string
	}{
		"UnknownProtocol":   {func(c *ProviderConfig) { c.Protocol = "saml" }, "protocol"},
		"NoTokenEndpoint":   {func(c *ProviderConfig) { c.TokenURL = "" }, "token_endpoint"},
		"NoUserinfo":        {func(c *ProviderConfig) { c.UserinfoURL = "" }, "userinfo_endpoint"},
		"PlainHTTPEndpoint": {func(c *ProviderConfig) { c.AuthURL = "http://id.example/authorize" }, "authorization_endpoint"},
		"EndpointsWithOIDC": {func(c *ProviderConfig) { c.Protocol, c.Scopes = "", nil }, "authorization_endpoint"},
		"NativeClientIDs":   {func(c *ProviderConfig) { c.NativeClientIDs = []string{"ios"} }, "native_client_ids"},
	} {
		t.Run(name, func(t *testing.T) {
			c := base
			tt.mod(&c)
			if ce, ok := errors.AsType[*ConfigError](c.Validate()); !ok || ce.Field != tt.field {
				t.Errorf("got %v; want a *ConfigError on %s", c.Validate(), tt.field)
			}
		})
	}
}
