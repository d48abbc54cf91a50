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
	if raw == "" {
		t.Fatal("no ID token in the token response")
	}
	return raw
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
	before := users()

	t.Run("AnotherAppsTokenRefused", func(t *testing.T) {
		code, body := exchange(`{"provider":"op","id_token":"` + appIDToken(t, op, op.Clients[1]) + `"}`)
		if code != 401 || !strings.Contains(string(body), "issued to one of the client ids") {
			t.Errorf("other-app's ID token: %d %s; want 401 naming the audience rule", code, body)
		}
	})
	t.Run("AccessTokenRefused", func(t *testing.T) {
		code, body := exchange(`{"provider":"op","access_token":"whatever-the-provider-gave"}`)
		if code != 400 || !strings.Contains(string(body), "only ID tokens are accepted") ||
			!strings.Contains(string(body), "not which app it was issued to") {
			t.Errorf("access token: %d %s; want 400 saying only ID tokens, and why", code, body)
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
