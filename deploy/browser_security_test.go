package deploy_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/verify"
)

// sessionPrefix starts every session cookie's value.
const sessionPrefix = "ags_"

// refused fails unless a visit to a protected page with the cookie jar as it
// is ends on the sign-in page (no loop, no upstream).
func refused(t *testing.T, s *browserStack, b *tab, why string) {
	t.Helper()
	tag := uniqueTag("refused")
	want := "https://" + appHost + "/events/" + tag
	resp := b.open(want)
	if u := b.url(); u.Host != portalHost || u.Path != "/login" || resp.Status != http.StatusOK {
		t.Errorf("%s: %d at %s; want the sign-in page", why, resp.Status, u)
	}
	if h := s.up.saw(tag); h != nil {
		t.Errorf("%s: the upstream received the request as %q", why, h.Get("X-Auth-User"))
	}
}

// signedInAtPortal signs p in on device, on the portal itself (no return URL): the
// cookie has then been seen only by the portal's replica, not by the one
// answering the proxy.
func signedInAtPortal(t *testing.T, s *browserStack, device int, p person) (*tab, string) {
	t.Helper()
	b := s.device(t, device)
	b.open("https://" + portalHost + "/login")
	b.signIn(p, false)
	if u := b.url(); u.Host != portalHost || u.Path != "/account" {
		t.Fatalf("signing in without a return URL ended at %s; want https://%s/account", u, portalHost)
	}
	c := b.cookie(appHost)
	if c == nil {
		t.Fatal("no session cookie after sign-in")
	}
	return b, c.Value
}

// expiredCookie signs in on the portal and lets the session's idle expiry
// pass (made so in the database) before the proxy's replica ever saw the
// cookie.
func expiredCookie(t *testing.T, s *browserStack) string {
	t.Helper()
	_, value := signedInAtPortal(t, s, 0, s.alice)
	k, _ := verify.ParseKey(sessionPrefix, value)
	conn, err := pgx.Connect(context.Background(), s.ag.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tag, err := conn.Exec(context.Background(),
		`UPDATE sessions SET idle_expires_at = now() - interval '1 minute' WHERE cookie_lookup_id = $1`, k.LookupID)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("expire the session: %v (%d rows)", err, tag.RowsAffected())
	}
	return value
}

var browserAttacks = []browserCase{
	{name: "CookieAttributes", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b, value := signedInAtPortal(t, s, 0, p)
		c := b.cookie(appHost)
		if c.Domain != "."+domain || c.Path != "/" || !c.HTTPOnly || !c.Secure || c.SameSite != "Lax" || !c.Session {
			t.Errorf("cookie %+v; want Domain .%s, Path /, HttpOnly, Secure, SameSite Lax, a session cookie", c, domain)
		}
		if _, err := verify.ParseKey(sessionPrefix, value); err != nil {
			t.Errorf("cookie value %.8s…: %v; want an %s credential", value, err, sessionPrefix)
		}
		// HttpOnly: the apps' scripts cannot read it.
		b.open("https://" + appHost + "/events/" + uniqueTag("script"))
		if jar, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || jar != "" {
			t.Errorf("document.cookie = %q (%v); want the session cookie hidden from scripts", jar, err)
		}
		// "Remember this device": a cookie that outlives the browser.
		r := s.device(t, 1)
		r.open("https://" + portalHost + "/login")
		r.signIn(p, true)
		c = r.cookie(appHost)
		if c == nil || c.Session || time.Unix(int64(c.Expires), 0).Before(time.Now().Add(24*time.Hour)) {
			t.Errorf("remembered cookie %+v; want one that expires after more than a day", c)
		}
	}},
	{name: "RefusedCookies", run: func(t *testing.T, s *browserStack) {
		_, value := signedInAtPortal(t, s, 0, s.alice)
		real, _ := verify.ParseKey(sessionPrefix, value)
		for _, tc := range []struct {
			name  string
			value func(t *testing.T) string
		}{
			{"Forged", func(*testing.T) string { return verify.NewKey(sessionPrefix).Reveal() }},
			{"WrongSecret", func(*testing.T) string {
				return verify.Key{Prefix: sessionPrefix, LookupID: real.LookupID, Secret: verify.RandomString(32)}.Reveal()
			}},
			{"Malformed", func(*testing.T) string { return sessionPrefix + "not-a-session" }},
			{"APIKeyInCookie", func(t *testing.T) string { return s.ag.createKey(t, "not a cookie", "events:read").Key }},
			{"Expired", func(t *testing.T) string { return expiredCookie(t, s) }},
			{"Revoked", func(t *testing.T) string {
				b, value := signedInAtPortal(t, s, 0, s.alice)
				b.submit(`header form[action="/logout"] button`)
				return value
			}},
			{"OtherDomain", func(t *testing.T) string {
				// Signed in on the other cookie domain, copied to this one.
				l := s.device(t, 2)
				l.open("https://" + labPortal + "/login")
				l.signIn(s.alice, false)
				c := l.cookie(labHost)
				if c == nil {
					t.Fatal("no lab.example session cookie after sign-in")
				}
				return c.Value
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := tc.value(t)
				b := s.device(t, 1)
				b.setCookie(domain, v)
				if tc.name == "Revoked" { // revoked on the other replica: within the bound
					waitFor(context.Background(), revocationBound, func() bool {
						b.open("https://" + appHost + "/events/" + uniqueTag("revoked-poll"))
						return b.url().Host == portalHost
					})
				}
				refused(t, s, b, tc.name)
			})
		}
	}},
	{name: "SessionFixation", run: func(t *testing.T, s *browserStack) {
		mallory, victim := s.newPerson(t, "mallory"), s.alice
		_, planted := signedInAtPortal(t, s, 0, mallory)
		for _, tc := range []struct{ name, value string }{
			{"AttackersOwnSession", planted},
			{"UnknownValue", verify.NewKey(sessionPrefix).Reveal()},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := s.device(t, 1)
				b.setCookie(domain, tc.value)
				tag := uniqueTag("fixation")
				want := "https://" + appHost + "/events/" + tag
				b.open("https://" + portalHost + "/login?rd=" + url.QueryEscape(want))
				b.signIn(victim, false)
				if b.url().String() != want {
					t.Fatalf("after sign-in: at %s; want %s", b.url(), want)
				}
				s.sawPerson(t, tag, victim)
				if c := b.cookie(appHost); c == nil || c.Value == tc.value {
					t.Errorf("the cookie set before sign-in survived it")
				}
				// The planted value never became the victim's session.
				tag = uniqueTag("planted")
				r := s.get(t, "https://"+appHost+"/events/"+tag, http.Header{"Cookie": {cookieName + "=" + tc.value}})
				if h := s.up.saw(tag); h != nil && h.Get("X-Auth-User") == victim.login {
					t.Errorf("the planted cookie now signs in the victim: %s", r)
				}
			})
		}
	}},
	{name: "CrossOriginFormsRefused", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		// Signing someone in to the attacker's account, from another site and from
		// a sibling host (same site, another origin).
		for _, from := range []string{evilHost, appHost} {
			b := s.device(t, 0)
			b.open("https://" + from + "/public/" + uniqueTag("attacker"))
			resp := b.postFrom("https://"+portalHost+"/login", map[string]string{"login": p.login, "password": password})
			if resp.Status != http.StatusForbidden {
				t.Errorf("a sign-in form posted from %s: %d; want 403", from, resp.Status)
			}
			if c := b.cookie(appHost); c != nil {
				t.Errorf("a sign-in form posted from %s set a session cookie", from)
			}
		}
		// Signing someone out.
		v := s.device(t, 1)
		v.open("https://" + appHost + "/events/" + uniqueTag("victim"))
		v.signIn(p, false)
		for _, from := range []string{evilHost, appHost} {
			v.open("https://" + from + "/public/" + uniqueTag("attacker"))
			if resp := v.postFrom("https://"+portalHost+"/logout", map[string]string{"all": "1"}); resp.Status != http.StatusForbidden {
				t.Errorf("a sign-out form posted from %s: %d; want 403", from, resp.Status)
			}
		}
		tag := uniqueTag("still")
		v.open("https://" + appHost + "/events/" + tag)
		s.sawPerson(t, tag, p)
	}},
	{name: "OpenRedirectEndsAtPortalHome", run: func(t *testing.T, s *browserStack) {
		p := s.alice
		b := s.device(t, 0)
		// Each is refused in the link; the first few are also tried in the form.
		for i, rd := range []string{
			"https://evil.example/",
			"//evil.example/",
			`https://evil.example\@app.home.example/`,
			"javascript:alert(document.domain)//https://app.home.example/",
			"https://app.home.example.evil.example/",
			"https://app.home.example@evil.example/",
			"/\\evil.example/",
			"http://app.home.example/",
			"https://evil.example%2F@app.home.example/",
			"https://app.home.example%09.evil.example/",
		} {
			// In the link: the portal refuses it (400), never redirects.
			resp := b.open("https://" + portalHost + "/login?rd=" + url.QueryEscape(rd))
			if u := b.url(); u.Host != portalHost || resp.Status != http.StatusBadRequest {
				t.Errorf("rd=%q: %d at %s; want the portal's 400 page", rd, resp.Status, u)
			}
			if i >= 4 {
				continue
			}
			// In the form: signing in ends at the portal's home.
			b.open("https://" + portalHost + "/login")
			b.do(chromedp.SetAttributeValue(chromedp.CSS(`input[name=rd]`), "value", rd))
			b.signIn(p, false)
			if u := b.url(); u.Host != portalHost || u.Path != "/account" {
				t.Errorf("rd=%q in the form: signed in to %s; want https://%s/account", rd, u, portalHost)
			}
		}
	}},
}
