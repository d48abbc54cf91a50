package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/idp/idptest"
)

// TestMain_SignInWithProvider drives the whole browser flow against a running
// authgate and a real OpenID provider: the button's start URL, the provider's
// login form, the callback, and then the hot path honouring the session with
// the role the provider's group maps to.
func TestMain_SignInWithProvider(t *testing.T) {
	op := idptest.Start(t, idptest.Options{RedirectURIs: []string{"https://auth.home.example/sso/op/callback"}})
	env := portalEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"op","name":"Example ID","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "scopes":["openid","email","profile","groups"],"new_users":"create","roles":{"family":"viewer"}}]`)
	admin := bootstrap(t, env)
	a := client{t, startMain(t, env).URL()}
	if code, _, body := a.call("POST", "/v1/permissions", admin, `{"name":"events:read"}`); code/100 != 2 {
		t.Fatalf("create events:read: %d %s", code, body)
	}
	if code, _, body := a.call("PUT", "/v1/roles/viewer/permissions/events:read", admin, ""); code/100 != 2 {
		t.Fatalf("grant events:read to viewer: %d %s", code, body)
	}

	onPortal := func(path string, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", a.base+path, nil)
		req.Host = "auth.home.example"
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	rd := "https://cams.home.example/events"
	start := onPortal("/sso/op/start?rd=" + url.QueryEscape(rd))
	if start.StatusCode != http.StatusSeeOther || !strings.HasPrefix(start.Header.Get("Location"), strings.TrimSuffix(op.Issuer, "/")) {
		t.Fatalf("start: %d to %q; want 303 to the provider", start.StatusCode, start.Header.Get("Location"))
	}
	jar, _ := cookiejar.New(nil)
	cb, err := url.Parse(op.Login(t, &http.Client{Jar: jar}, start.Header.Get("Location")))
	if err != nil {
		t.Fatal(err)
	}
	back := onPortal(cb.RequestURI(), start.Cookies()...)
	if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != rd {
		t.Fatalf("callback: %d to %q; want 303 to %s", back.StatusCode, back.Header.Get("Location"), rd)
	}
	var session *http.Cookie
	for _, c := range back.Cookies() {
		if c.Name == "__Secure-authgate_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("callback set no session cookie: %v", back.Header["Set-Cookie"])
	}
	code, h := a.page(session, true)
	if code != 200 || h.Get("X-Auth-Kind") != "session" || h.Get("X-Auth-User") != "alice" ||
		!strings.Contains(" "+h.Get("X-Auth-Scopes")+" ", " events:read ") {
		t.Fatalf("signed in through the provider: %d kind %q user %q scopes %q; want 200 session alice with events:read",
			code, h.Get("X-Auth-Kind"), h.Get("X-Auth-User"), h.Get("X-Auth-Scopes"))
	}
}

// A provider policy naming a role that does not exist yet is a warning at
// start, naming the provider and the role: the role may be created through
// the API after the start, and until then the provider's sign-ins fail closed.
func TestStart_WarnsOfAPolicyWithAnUnknownRole(t *testing.T) {
	op := idptest.Start(t, idptest.Options{})
	env := portalEnv(dbtest.URL(t), "OP_SECRET", op.ClientSecret, "AUTHGATE_PROVIDERS",
		`[{"id":"op","name":"Example ID","issuer":"`+op.Issuer+`","client_id":"`+op.ClientID+`","client_secret_env":"OP_SECRET",
		  "new_users":"create","roles":{"family":"no-such-role"}}]`)
	var logs syncBuffer
	startMain(t, env, &logs)
	text := logs.String()
	if !strings.Contains(text, `"provider":"op"`) || !strings.Contains(text, "no-such-role") || !strings.Contains(text, `"level":"WARN"`) {
		t.Fatalf("log %s; want a warning naming provider op and role no-such-role", text)
	}
}
