package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/idp/idptest"
)

// appIDToken signs alice in at op as the native app client would, by its own
// code flow, and returns the ID token it got.
func appIDToken(t *testing.T, op *idptest.Provider, client idptest.Client) string {
	t.Helper()
	raw, _ := appTokens(t, op, client)
	return raw
}

// appTokens signs alice in at op as client, by its own code flow, and
// returns the ID token and access token it got.
func appTokens(t *testing.T, op *idptest.Provider, client idptest.Client) (idToken, accessToken string) {
	t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	oc := oauth2.Config{ClientID: client.ID, ClientSecret: client.Secret, Endpoint: p.Endpoint(),
		RedirectURL: "http://127.0.0.1:1/app/callback", Scopes: []string{"openid", "email", "profile", "groups"}}
	jar, _ := cookiejar.New(nil)
	cb, err := url.Parse(op.Login(t, &http.Client{Jar: jar}, oc.AuthCodeURL("app-state", oidc.Nonce("app-nonce"))))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oc.Exchange(ctx, cb.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" || tok.AccessToken == "" {
		t.Fatal("no ID token or access token in the token response")
	}
	return raw, tok.AccessToken
}

// exchangeWorld starts authgate with env, where the role viewer holds
// events:read, and returns a client, a call of the exchange route and a
// count of the users.
func exchangeWorld(t *testing.T, env map[string]string) (client, func(body string) (int, []byte), func() int) {
	t.Helper()
	admin := bootstrap(t, env)
	a := client{t, startMain(t, env).URL()}
	if code, _, body := a.call("POST", "/v1/permissions", admin, `{"name":"events:read"}`); code/100 != 2 {
		t.Fatalf("create events:read: %d %s", code, body)
	}
	if code, _, body := a.call("PUT", "/v1/roles/viewer/permissions/events:read", admin, ""); code/100 != 2 {
		t.Fatalf("grant events:read to viewer: %d %s", code, body)
	}
	exchange := func(body string) (int, []byte) {
		t.Helper()
		code, _, b := a.call("POST", "/v1/auth/oauth/login", "", body, "Content-Type", "application/json")
		return code, b
	}
	users := func() int {
		t.Helper()
		code, _, body := a.call("GET", "/v1/users", admin, "")
		var page struct {
			Users []struct{ ID string } `json:"users"`
		}
		if code != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("list users: %d %s", code, body)
		}
		return len(page.Users)
	}
	return a, exchange, users
}

// TestMain_ExchangeIDToken: a native app that signed in with the provider
// itself exchanges its ID token at POST /v1/auth/oauth/login for authgate
// tokens, which the hot path honours with the role the provider's group maps
// to. A token issued to another app, and a provider access token, are refused
// and create nothing.
func TestMain_ExchangeIDToken(t *testing.T) {
	phone := idptest.Client{ID: "phone-app", Secret: "phone-app-secret"}
	op := idptest.Start(t, idptest.Options{Clients: append(idptest.DefaultClients(), phone)})
	env := portalEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"op","name":"Example ID","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "native_client_ids":["phone-app"],"new_users":"create","roles":{"family":"viewer"}}]`)
	a, exchange, users := exchangeWorld(t, env)
	before := users()

	t.Run("AnotherAppsTokenRefused", func(t *testing.T) {
		code, body := exchange(`{"provider":"op","id_token":"` + appIDToken(t, op, op.Clients[1]) + `"}`)
		if code != 401 || !strings.Contains(string(body), "issued to one of the client ids") {
			t.Errorf("other-app's ID token: %d %s; want 401 naming the audience rule", code, body)
		}
	})
	t.Run("BothFormsRefused", func(t *testing.T) {
		code, body := exchange(`{"provider":"op","id_token":"x.y.z","access_token":"whatever-the-provider-gave"}`)
		if code != 400 || !strings.Contains(string(body), "not both") {
			t.Errorf("both forms: %d %s; want 400 saying one, not both", code, body)
		}
	})
	t.Run("UnknownProvider", func(t *testing.T) {
		if code, body := exchange(`{"provider":"nope","id_token":"x.y.z"}`); code != 400 || !strings.Contains(string(body), "provider") {
			t.Errorf("unknown provider: %d %s; want 400 naming the provider", code, body)
		}
	})
	if n := users(); n != before {
		t.Fatalf("%d users after the refusals; want still %d", n, before)
	}

	code, body := exchange(`{"provider":"op","id_token":"` + appIDToken(t, op, phone) + `","device_name":"Alice's phone"}`)
	var tk struct {
		Access    string `json:"access_token"`
		Refresh   string `json:"refresh_token"`
		TokenType string `json:"token_type"`
		ExpiresIn int64  `json:"expires_in"`
	}
	if code != 200 || json.Unmarshal(body, &tk) != nil || tk.Access == "" || !strings.HasPrefix(tk.Refresh, "agr_") ||
		tk.TokenType != "bearer" || tk.ExpiresIn <= 0 {
		t.Fatalf("exchange: %d %s; want the token answer of /v1/auth/login", code, body)
	}
	got, h := a.bearerForwardAuth(tk.Access, "events:read")
	if got != 200 || h["X-Auth-User"] != "alice" || !strings.Contains(" "+h["X-Auth-Roles"]+" ", " viewer ") {
		t.Fatalf("forward-auth with the exchanged access token: %d %v; want 200 as alice with role viewer", got, h)
	}
	if code, _, body := a.call("POST", "/v1/auth/refresh", "", `{"refresh_token":"`+tk.Refresh+`"}`,
		"Content-Type", "application/json"); code != 200 {
		t.Fatalf("refresh: %d %s; want 200", code, body)
	}
	if n := users(); n != before+1 {
		t.Fatalf("%d users; want alice created once", n)
	}
}

// Without providers the route says so.
func TestMain_ExchangeWithoutProviders(t *testing.T) {
	a := client{t, startMain(t, testEnv(dbtest.URL(t))).URL()}
	code, _, body := a.call("POST", "/v1/auth/oauth/login", "", `{"provider":"op","id_token":"x.y.z"}`,
		"Content-Type", "application/json")
	if code != 400 || !strings.Contains(string(body), "no identity providers are configured") {
		t.Errorf("%d %s; want 400 saying no providers are configured", code, body)
	}
}

// TestMain_ExchangeAccessToken: a native app presents an access token from
// a provider that offers token introspection; authgate asks the provider,
// as its own client, whether the token is active and whose it is. A token
// issued to authgate's client gets authgate tokens; another app's token and
// garbage are refused and create nothing; with the provider down the answer
// is 503.
func TestMain_ExchangeAccessToken(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	env := portalEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"op","name":"Example ID","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "scopes":["openid","email","profile","groups"],"new_users":"create","roles":{"family":"viewer"}}]`)
	a, exchange, users := exchangeWorld(t, env)
	before := users()

	_, otherApp := appTokens(t, op, op.Clients[1])
	for name, token := range map[string]string{"AnotherAppsToken": otherApp, "Garbage": "garbage"} {
		t.Run(name, func(t *testing.T) {
			code, body := exchange(`{"provider":"op","access_token":"` + token + `"}`)
			if code != 401 || !strings.Contains(string(body), "issued to one of the client ids") {
				t.Errorf("%s: %d %s; want 401 naming the client rule", name, code, body)
			}
		})
	}
	if n := users(); n != before {
		t.Fatalf("%d users after the refusals; want still %d", n, before)
	}

	_, ours := appTokens(t, op, op.Clients[0])
	code, body := exchange(`{"provider":"op","access_token":"` + ours + `","device_name":"Alice's phone"}`)
	var tk struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if code != 200 || json.Unmarshal(body, &tk) != nil || tk.Access == "" || !strings.HasPrefix(tk.Refresh, "agr_") {
		t.Fatalf("exchange: %d %s; want the token answer of /v1/auth/login", code, body)
	}
	if got, h := a.bearerForwardAuth(tk.Access, "events:read"); got != 200 || h["X-Auth-User"] != "alice" ||
		!strings.Contains(" "+h["X-Auth-Roles"]+" ", " viewer ") {
		t.Fatalf("forward-auth with the exchanged access token: %d %v; want 200 as alice with role viewer", got, h)
	}
	if n := users(); n != before+1 {
		t.Fatalf("%d users; want alice created once", n)
	}

	_, later := appTokens(t, op, op.Clients[0])
	op.Stop()
	if code, body := exchange(`{"provider":"op","access_token":"` + later + `"}`); code != 503 {
		t.Errorf("provider down: %d %s; want 503", code, body)
	}
}

// TestMain_ExchangeAccessTokenWithoutIntrospection: a plain OAuth2 provider
// (its identity from a userinfo endpoint, no introspection) refuses access
// tokens with a reason naming it, and ID tokens too, since it issues none.
func TestMain_ExchangeAccessTokenWithoutIntrospection(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	env := portalEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"plain","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "protocol":"oauth2","authorization_endpoint":"`+op.Issuer+`authorize","token_endpoint":"`+op.Issuer+`oauth/token",
		  "userinfo_endpoint":"`+op.Issuer+`userinfo","scopes":["openid","email","profile"]}]`)
	a := client{t, startMain(t, env).URL()}
	for _, tt := range []struct{ body, want string }{
		{`{"provider":"plain","access_token":"abc"}`, "plain offers no way to learn which app"},
		{`{"provider":"plain","id_token":"x.y.z"}`, "issues no ID tokens"},
	} {
		code, _, body := a.call("POST", "/v1/auth/oauth/login", "", tt.body, "Content-Type", "application/json")
		if code != 400 || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s; want 400 saying %q", tt.body, code, body, tt.want)
		}
	}
}

// TestMain_ExchangeWithoutPortal: providers serve native apps' exchange
// without a sign-in portal (no cookie domain): the ID token still gets
// authgate tokens, and start only warns that there are no buttons.
func TestMain_ExchangeWithoutPortal(t *testing.T) {
	phone := idptest.Client{ID: "phone-app", Secret: "phone-app-secret"}
	op := idptest.Start(t, idptest.Options{Clients: append(idptest.DefaultClients(), phone)})
	env := testEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"op","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "native_client_ids":["phone-app"],"new_users":"create"}]`)
	var logs syncBuffer
	a := client{t, startMain(t, env, &logs).URL()}
	code, _, body := a.call("POST", "/v1/auth/oauth/login", "", `{"provider":"op","id_token":"`+appIDToken(t, op, phone)+`"}`,
		"Content-Type", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code != 200 || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("exchange without a portal: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), "identity providers without a sign-in portal") {
		t.Error("no warning that the providers have no buttons")
	}
}
