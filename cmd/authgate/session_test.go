package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
)

const alicePassword = "correct horse battery staple"

// createAlice makes the first person the way an operator would: with the CLI,
// the password on standard input. It returns her user id.
func createAlice(t *testing.T, env map[string]string, c client, admin string) string {
	t.Helper()
	var errOut bytes.Buffer
	args := []string{"users", "create", "--username", "alice", "--email", "alice@example.com", "--role", "viewer"}
	if code := run(context.Background(), args, env, strings.NewReader(alicePassword+"\n"), io.Discard, &errOut); code != 0 {
		t.Fatalf("users create exited %d: %s", code, errOut.String())
	}
	code, _, body := c.call("GET", "/v1/users", admin, "")
	var page struct {
		Users []struct{ ID, Username string } `json:"users"`
	}
	if code != 200 || json.Unmarshal(body, &page) != nil || len(page.Users) != 1 || page.Users[0].Username != "alice" {
		t.Fatalf("list users: %d %s; want alice alone", code, body)
	}
	return page.Users[0].ID
}

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func (c client) login(user, password string) (int, tokens) {
	c.t.Helper()
	code, _, body := c.call("POST", "/v1/auth/login", "", `{"login":"`+user+`","password":"`+password+`"}`,
		"Content-Type", "application/json")
	var tk tokens
	if code == 200 && json.Unmarshal(body, &tk) != nil {
		c.t.Fatalf("login answer %s", body)
	}
	return code, tk
}

// bearerForwardAuth asks as Traefik would, with an access token.
func (c client) bearerForwardAuth(token, scope string) (int, map[string]string) {
	c.t.Helper()
	code, h, _ := c.call("GET", "/forward-auth?scope="+scope, "", "",
		"Authorization", "Bearer "+token, "X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https",
		"X-Forwarded-Host", "app.example", "X-Forwarded-Uri", "/events")
	got := map[string]string{}
	for _, name := range []string{"X-Auth-Kind", "X-Auth-Subject", "X-Auth-User", "X-Auth-Email", "X-Auth-Roles", "X-Auth-Scopes"} {
		got[name] = h.Get(name)
	}
	return code, got
}

// waitDenied polls c with token until it is refused, failing after the bound.
func waitDenied(t *testing.T, c client, token, what string) {
	t.Helper()
	start := time.Now()
	bound := 10 * time.Second // the documented bound, as for keys
	for {
		code, _ := c.bearerForwardAuth(token, "events:read")
		if code == 401 {
			t.Logf("%s reached the other instance after %v (bound %v)", what, time.Since(start).Round(time.Microsecond), bound)
			return
		}
		if time.Since(start) > bound {
			t.Fatalf("after %s, the other instance still answered %d after %v", what, code, bound)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestMain_LoginLogoutAndDisableReachEveryInstance(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	var logs syncBuffer
	a, b := client{t, startMain(t, env, &logs).URL()}, client{t, startMain(t, env, &logs).URL()}
	alice := createAlice(t, env, a, admin)
	var secrets []string // every password and token of the test: none may reach the log
	defer func() {
		text := logs.String()
		if !strings.Contains(text, `"path":"/v1/auth/login"`) {
			t.Fatalf("the log holds no login request; the scan would prove nothing")
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a password or token reached the log: %.12s…", s)
			}
		}
	}()
	secrets = append(secrets, alicePassword, "wrong password, clearly")

	// An application permission, a role holding it, and Alice in that role.
	for _, step := range [][3]string{
		{"POST", "/v1/permissions", `{"name":"events:read","description":"see the event list"}`},
		{"POST", "/v1/roles", `{"name":"family"}`},
		{"PUT", "/v1/roles/family/permissions/events:read", ""},
		{"PUT", "/v1/users/" + alice + "/roles/family", ""},
	} {
		if code, _, body := a.call(step[0], step[1], admin, step[2], "Content-Type", "application/json"); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", step[0], step[1], code, body)
		}
	}

	if code, _ := a.login("alice", "wrong password, clearly"); code != 401 {
		t.Fatalf("login with a wrong password: %d; want 401", code)
	}
	code, tk := a.login("alice", alicePassword)
	if code != 200 || tk.Access == "" || !strings.HasPrefix(tk.Refresh, "agr_") {
		t.Fatalf("login: %d %+v; want 200 with both tokens", code, tk)
	}
	secrets = append(secrets, tk.Access, tk.Refresh[len("agr_")+12:])

	// The access token from A passes B's verify endpoint, with Alice's identity.
	code, got := b.bearerForwardAuth(tk.Access, "events:read")
	want := map[string]string{"X-Auth-Kind": "jwt", "X-Auth-Subject": alice, "X-Auth-User": "alice",
		"X-Auth-Email": "alice@example.com", "X-Auth-Roles": "family viewer"}
	if code != 200 {
		t.Fatalf("forward-auth with the access token: %d; want 200", code)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q", k, got[k], v)
		}
	}
	if !strings.Contains(" "+got["X-Auth-Scopes"]+" ", " events:read ") {
		t.Errorf("X-Auth-Scopes = %q; want it to hold events:read", got["X-Auth-Scopes"])
	}
	if code, _ := b.bearerForwardAuth(tk.Access, "events:write"); code != 403 {
		t.Errorf("forward-auth for a scope Alice lacks: %d; want 403", code)
	}

	// Logging out on A denies the token on B within the bound, and ends the refresh token.
	if code, _, body := a.call("POST", "/v1/auth/logout", "", "", "Authorization", "Bearer "+tk.Access); code != 204 {
		t.Fatalf("logout: %d %s", code, body)
	}
	waitDenied(t, b, tk.Access, "logout")
	if code, _, _ := a.call("POST", "/v1/auth/refresh", "", `{"refresh_token":"`+tk.Refresh+`"}`); code != 401 {
		t.Errorf("refresh after logout: %d; want 401", code)
	}

	// Disabling Alice denies her live token everywhere, and her next login.
	_, tk = a.login("alice", alicePassword)
	secrets = append(secrets, tk.Access, tk.Refresh[len("agr_")+12:])
	if code, _ := b.bearerForwardAuth(tk.Access, "events:read"); code != 200 {
		t.Fatalf("second login's token: %d; want 200", code)
	}
	if code, _, body := a.call("POST", "/v1/users/"+alice+"/disable", admin, ""); code != 200 {
		t.Fatalf("disable: %d %s", code, body)
	}
	waitDenied(t, b, tk.Access, "disabling the user")
	if code, _ := a.login("alice", alicePassword); code != 401 {
		t.Errorf("login of a disabled user: %d; want 401", code)
	}
}

func TestMain_JWKSPublishesTheSigningKey(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	a := client{t, startMain(t, env).URL()}
	code, h, body := a.call("GET", "/.well-known/jwks.json", "", "")
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Crv string } `json:"keys"`
	}
	if code != 200 || json.Unmarshal(body, &set) != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %d %s; want one key", code, body)
	}
	if k := set.Keys[0]; k.Alg != "ES256" || k.Kty != "EC" || k.Crv != "P-256" || k.Kid == "" {
		t.Errorf("jwks key %+v; want an ES256 P-256 key with a kid", k)
	}
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("Cache-Control %q; want a max-age", cc)
	}
}
