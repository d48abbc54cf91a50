package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser drives headless chromium through each shipped proxy
// configuration as a person would: sign in, use the apps, the account page,
// sign out; and checks what an attacker could try with cookies, forms and
// return URLs (browser_security_test.go). AUTHGATE_SCREENSHOTS=dir saves the
// sign-in and account pages as PNGs.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		skipOrFail(t, "-short: TestBrowser runs real proxies and chromium")
	}
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			started := time.Now()
			s := startBrowserStack(t, p, proxyBinary(t, p.name))
			t.Logf("stack up in %v", time.Since(started).Round(time.Millisecond))
			for _, c := range append(browserCases, browserAttacks...) {
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
			t.Logf("%s: %v in all", p.name, time.Since(started).Round(time.Millisecond))
		})
	}
}

type browserCase struct {
	name string
	run  func(t *testing.T, s *browserStack)
}

// revocationBound is how long a revoked session may keep working through the
// proxy: authgate's cache TTL, should the change notice be lost. With it,
// milliseconds.
const revocationBound = 10 * time.Second

var browserCases = []browserCase{
	{name: "SSO", run: ssoCase}, // sso_browser_test.go
	{name: "SignInReturnsToThePage", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		tag := uniqueTag("first")
		want := "https://" + appHost + "/events/" + tag + "?day=1"
		b.open(want)
		b.onLogin(portalHost, want)
		s.screenshot(t, b, "sign-in")
		if resp := b.signIn(p, false); resp.Status != http.StatusOK || b.url().String() != want {
			t.Fatalf("after sign-in: %d at %s; want 200 at %s (page: %.300q)", resp.Status, b.url(), want, b.text())
		}
		s.sawPerson(t, tag, p)

		// Every host under the domain knows the person now.
		tag = uniqueTag("other-host")
		b.open("https://" + otherHost + "/events/" + tag)
		if got := b.url().Host; got != otherHost {
			t.Fatalf("the second host sent the browser to %s; want it signed in", b.url())
		}
		s.sawPerson(t, tag, p)
	}},
	{name: "FetchAndKeysAreNotRedirected", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		b.open("https://" + appHost + "/events/" + uniqueTag("start"))
		b.signIn(p, false)
		// Without the cookie, a script's request gets 401, not the sign-in page,
		// also when it asks for HTML but says it is a script (X-Requested-With).
		for _, init := range []string{`{credentials: "omit"}`,
			`{credentials: "omit", headers: {"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}}`} {
			tag := uniqueTag("fetch-none")
			if f := b.fetch("/events/"+tag, init); f.Status != http.StatusUnauthorized || f.Type == "opaqueredirect" {
				t.Errorf("fetch %s: %+v; want 401, no redirect", init, f)
			}
			if s.up.saw(tag) != nil {
				t.Errorf("the upstream received %s", tag)
			}
		}
		tag := uniqueTag("fetch-cookie")
		if f := b.fetch("/events/"+tag, `{credentials: "same-origin"}`); f.Status != http.StatusOK {
			t.Errorf("fetch with the session: %+v; want 200", f)
		}
		s.sawPerson(t, tag, p)
		// An API key on the same route, even on a request that looks like a page:
		// 200, no redirect, and the key wins over the session cookie.
		key := s.ag.createKey(t, "page script", "events:read")
		for _, creds := range []string{"omit", "same-origin"} {
			tag := uniqueTag("fetch-key")
			init := fmt.Sprintf(`{credentials: %q, headers: {"X-API-Key": %q, "Accept": "text/html"}}`, creds, key.Key)
			if f := b.fetch("/events/"+tag, init); f.Status != http.StatusOK || f.Type == "opaqueredirect" {
				t.Errorf("fetch with an API key (credentials %s): %+v; want 200", creds, f)
			}
			if h := s.up.saw(tag); h.Get("X-Auth-Kind") != "api_key" || h.Get("X-Auth-Key-Id") != key.ID {
				t.Errorf("credentials %s: the upstream got X-Auth-Kind %q, X-Auth-Key-Id %q; want the key's",
					creds, h.Get("X-Auth-Kind"), h.Get("X-Auth-Key-Id"))
			}
		}
		// A machine with the key, straight through the proxy: no redirect either.
		tag = uniqueTag("go-key")
		r := s.get(t, "https://"+appHost+"/events/"+tag, http.Header{"X-Api-Key": {key.Key}, "Accept": {"text/html"}})
		if r.status != http.StatusOK || !r.fromUpstream() {
			t.Errorf("GET with an API key: %s; want the upstream's 200", r)
		}
	}},
	{name: "MissingScopeShowsWhich", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		b.open("https://" + portalHost + "/login")
		b.signIn(p, false)
		tag := uniqueTag("denied")
		resp := b.open("https://" + appHost + "/cameras/" + tag)
		if u := b.url(); resp.Status != http.StatusForbidden || u.Host != portalHost || u.Path != "/denied" {
			t.Fatalf("a signed-in person without cameras:stream: %d at %s; want 403 at https://%s/denied", resp.Status, u, portalHost)
		}
		if !strings.Contains(b.text(), "cameras:stream") {
			t.Errorf("the page does not name the missing permission: %.300q", b.text())
		}
		if s.up.saw(tag) != nil {
			t.Errorf("the upstream received %s", tag)
		}
	}},
	{name: "SignOut", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		b.open("https://" + appHost + "/events/" + uniqueTag("before"))
		b.signIn(p, false)
		old := b.cookie(appHost)
		if old == nil {
			t.Fatal("no session cookie after sign-in")
		}
		b.open("https://" + portalHost + "/account")
		b.submit(`header form[action="/logout"] button`)
		if u := b.url(); u.Host != portalHost || u.Path != "/login" {
			t.Errorf("after sign-out the browser is at %s; want the sign-in page", u)
		}
		if c := b.cookie(appHost); c != nil {
			t.Errorf("the session cookie is still in the jar: %+v", c)
		}
		want := "https://" + appHost + "/events/" + uniqueTag("after")
		b.open(want)
		b.onLogin(portalHost, want)
		// The old cookie, put back, is refused too (revoked on the other replica).
		b.setCookie(domain, old.Value)
		if !waitFor(context.Background(), revocationBound, func() bool {
			b.open("https://" + appHost + "/events/" + uniqueTag("replay"))
			return b.url().Host == portalHost
		}) {
			t.Fatalf("the signed-out cookie still passes after %v", revocationBound)
		}
	}},
	{name: "AccountAndSignOutEverywhere", run: func(t *testing.T, s *browserStack) {
		p := s.newPerson(t, "erin")
		phone, laptop := s.device(t, 0), s.device(t, 1)
		for _, b := range []*tab{phone, laptop} {
			b.open("https://" + appHost + "/events/" + uniqueTag("device"))
			b.signIn(p, false)
		}
		laptop.open("https://" + portalHost + "/account")
		s.screenshot(t, laptop, "account")
		rows, err := chromedp.Run(laptop.ctx, chromedp.Evaluate[int](
			`document.querySelectorAll("section[aria-labelledby=sessions-h] tbody tr").length`))
		if err != nil || rows != 2 || strings.Count(laptop.text(), "this device") != 1 {
			t.Errorf("the account page lists %d sessions (%v); want 2, one of them this device:\n%.600s", rows, err, laptop.text())
		}

		// A personal token: created, shown once, used, revoked.
		laptop.do(chromedp.SendKeys(chromedp.ID("token-name"), "kiosk"), chromedp.SetValue(chromedp.ID("token-days"), "7"),
			chromedp.Click(chromedp.CSS(`input[name=scopes][value="events:read"]`)))
		laptop.submit(`form[action="/account/tokens"] button[type=submit]`)
		secret := laptop.value("#new-token")
		if !strings.HasPrefix(secret, "agp_") {
			t.Fatalf("no token shown after creating one: %q (page: %.400q)", secret, laptop.text())
		}
		bearer := http.Header{"Authorization": {"Bearer " + secret}}
		tag := uniqueTag("token")
		if r := s.get(t, "https://"+appHost+"/events/"+tag, bearer); r.status != http.StatusOK || s.up.saw(tag).Get("X-Auth-Kind") != "token" {
			t.Errorf("the new token: %s; want the upstream's 200 as X-Auth-Kind token", r)
		}
		laptop.submit(`form[action="/account/tokens/revoke"] button`)
		if !waitFor(context.Background(), revocationBound, func() bool {
			return s.get(t, "https://"+appHost+"/events/"+uniqueTag("token-revoked"), bearer).status == http.StatusUnauthorized
		}) {
			t.Errorf("the revoked token still passes after %v", revocationBound)
		}

		// Sign out everywhere, on the laptop: the phone, verified by the other
		// replica, is signed out within the bound.
		if f := phone.fetch("/events/"+uniqueTag("phone"), `{credentials: "same-origin"}`); f.Status != http.StatusOK {
			t.Fatalf("the phone's session before: %+v; want 200", f)
		}
		laptop.submit(`form[action="/logout"]:has(input[name=all]) button`)
		ended := time.Now()
		if !waitFor(context.Background(), revocationBound, func() bool {
			return phone.fetch("/events/"+uniqueTag("phone-poll"), `{credentials: "same-origin"}`).Status == http.StatusUnauthorized
		}) {
			t.Fatalf("the phone is still signed in %v after sign-out everywhere", revocationBound)
		}
		t.Logf("sign-out everywhere reached the other replica after %v", time.Since(ended).Round(time.Millisecond))
		want := "https://" + appHost + "/events/" + uniqueTag("phone-next")
		phone.open(want)
		phone.onLogin(portalHost, want)
	}},
	{name: "SecondDomainSignsInOnItsOwn", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		b.open("https://" + appHost + "/events/" + uniqueTag("home"))
		b.signIn(p, false)
		// The home.example cookie does not reach lab.example: its own portal asks.
		tag := uniqueTag("lab")
		want := "https://" + labHost + "/events/" + tag
		b.open(want)
		b.onLogin(labPortal, want)
		b.signIn(p, false)
		if b.url().String() != want {
			t.Fatalf("after sign-in on %s: at %s; want %s", labPortal, b.url(), want)
		}
		s.sawPerson(t, tag, p)
		if c := b.cookie(labHost); c == nil || c.Domain != "."+labDomain {
			t.Errorf("lab.example cookie %+v; want one for .%s", c, labDomain)
		}
	}},
}
