package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
)

// portalEnv is testEnv with a portal for home.example at auth.home.example.
func portalEnv(dbURL string, extra ...string) map[string]string {
	return testEnv(dbURL, append([]string{"AUTHGATE_COOKIE_DOMAINS", "home.example",
		"AUTHGATE_PORTAL_URLS", "https://auth.home.example"}, extra...)...)
}

// signIn posts the sign-in form as a browser on the portal's host would and
// returns the session cookie it sets.
func (c client) signIn(user, password string) *http.Cookie {
	c.t.Helper()
	form := url.Values{"login": {user}, "password": {password}, "device_name": {"test browser"},
		"rd": {"https://cams.home.example/events"}}
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(form.Encode()))
	req.Host = "auth.home.example"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirects.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://cams.home.example/events" {
		c.t.Fatalf("sign in: %d to %q; want 303 to the page asked for", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Secure-authgate_session" {
			return ck
		}
	}
	c.t.Fatalf("sign in set no session cookie: %v", resp.Header["Set-Cookie"])
	return nil
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// page asks /forward-auth as Traefik would for a browser's page load (or, with
// navigation false, a fetch()), with the session cookie when one is given.
func (c client) page(cookie *http.Cookie, navigation bool) (int, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/forward-auth?scope=events:read", nil)
	for k, v := range map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "cams.home.example", "X-Forwarded-Uri": "/events"} {
		req.Header.Set(k, v)
	}
	if navigation {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestMain_BrowserSessionReachesEveryInstance(t *testing.T) {
	env := portalEnv(dbtest.URL(t))
	admin := bootstrap(t, env)
	a, b := client{t, startMain(t, env).URL()}, client{t, startMain(t, env).URL()}
	createAlice(t, env, a, admin)
	if code, _, body := a.call("POST", "/v1/permissions", admin, `{"name":"events:read"}`); code/100 != 2 {
		t.Fatalf("create events:read: %d %s", code, body)
	}
	if code, _, body := a.call("PUT", "/v1/roles/viewer/permissions/events:read", admin, ""); code/100 != 2 {
		t.Fatalf("grant events:read to viewer: %d %s", code, body)
	}

	// Without a cookie: a page load goes to the portal, a fetch() gets 401.
	code, h := a.page(nil, true)
	want := "https://auth.home.example/login?rd=" + url.QueryEscape("https://cams.home.example/events")
	if code != http.StatusFound || h.Get("Location") != want {
		t.Fatalf("page load without a session: %d to %q; want 302 to %q", code, h.Get("Location"), want)
	}
	if code, _ := a.page(nil, false); code != http.StatusUnauthorized {
		t.Fatalf("fetch without a session: %d; want 401", code)
	}

	cookie := a.signIn("alice", alicePassword)
	for name, c := range map[string]client{"A": a, "B": b} {
		code, h := c.page(cookie, true)
		if code != 200 || h.Get("X-Auth-Kind") != "session" || h.Get("X-Auth-User") != "alice" ||
			!strings.Contains(" "+h.Get("X-Auth-Scopes")+" ", " events:read ") {
			t.Fatalf("instance %s, signed in: %d kind %q user %q scopes %q; want 200 session alice with events:read",
				name, code, h.Get("X-Auth-Kind"), h.Get("X-Auth-User"), h.Get("X-Auth-Scopes"))
		}
	}

	// The cookie's value copied into a header is no credential: not on the
	// verify endpoints, and not on the management API, where it would carry
	// the user's whole authority outside the browser.
	if code, _, body := a.call("GET", "/v1/me", "", "", "Authorization", "Bearer "+cookie.Value); code != http.StatusUnauthorized {
		t.Fatalf("/v1/me with the session cookie as a bearer token: %d %s; want 401", code, body)
	}
	if code := a.forwardAuth(cookie.Value, "events:read"); code != http.StatusUnauthorized {
		t.Fatalf("forward-auth with the session cookie in X-API-Key: %d; want 401", code)
	}

	// Sign out everywhere on A: B, which has the cookie cached, must refuse it
	// within the bound and send the browser to sign in again, not round a loop.
	req, _ := http.NewRequest("POST", a.base+"/logout", strings.NewReader("all=1"))
	req.Host = "auth.home.example"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(cookie)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d; want 303", resp.StatusCode)
	}
	start, bound := time.Now(), 10*time.Second
	for {
		code, h := b.page(cookie, true)
		if code == http.StatusFound && h.Get("Location") == want {
			t.Logf("sign-out reached instance B after %v (bound %v)", time.Since(start).Round(time.Microsecond), bound)
			break
		}
		if time.Since(start) > bound {
			t.Fatalf("instance B after sign-out everywhere: %d; want 302 to sign in within %v", code, bound)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestStart_RefusesAPublicSuffixCookieDomain(t *testing.T) {
	cfg, err := LoadConfig(testEnv(dbtest.URL(t), "AUTHGATE_COOKIE_DOMAINS", "github.io",
		"AUTHGATE_PORTAL_URLS", "https://auth.github.io"), true, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Start(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil {
		m.Close()
		t.Fatal("started with cookie domain github.io; want a refusal: a public suffix would share the cookie with every site under it")
	}
	if !strings.Contains(err.Error(), "AUTHGATE_COOKIE_DOMAINS") || !strings.Contains(err.Error(), "github.io") {
		t.Fatalf("error %q; want it to name AUTHGATE_COOKIE_DOMAINS and github.io", err)
	}
}
