package deploy_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authgate/authgate/idp/idptest"
)

// Each browser stack has two OpenID providers configured at once, two
// processes of zitadel's example provider (idptest), so two issuers: Home ID
// provisions new people with the roles their family group maps to; Work ID
// knows the same people but lets no new one in. Their redirect URIs are the
// portal hosts' /sso/<id>/callback, reached through the proxy.
const (
	homeID = "home-id"
	workID = "work-id"
)

// ssoProviders are a stack's two providers and the environment that
// configures authgate for them.
type ssoProviders struct {
	home, work *idptest.Provider
	env        []string
}

// startSSOProviders starts the two providers, or returns nil when the
// provider is not built (the SSO case then skips, or fails under CI=true,
// and the other browser cases run as before).
func startSSOProviders(t *testing.T) *ssoProviders {
	t.Helper()
	if !providerBuilt() {
		return nil
	}
	started := time.Now()
	defer func() { t.Logf("OpenID providers up in %v", time.Since(started).Round(time.Millisecond)) }()
	globs := []string{"https://" + portalHost + "/sso/**", "https://" + labPortal + "/sso/**"}
	p := &ssoProviders{
		home: idptest.Start(t, idptest.Options{RedirectURIGlobs: globs}),
		work: idptest.Start(t, idptest.Options{RedirectURIGlobs: globs}),
	}
	scopes := []string{"openid", "email", "profile", "groups"}
	list, err := json.Marshal([]map[string]any{
		{"id": homeID, "name": "Home ID", "issuer": p.home.Issuer, "client_id": p.home.ClientID,
			"client_secret_env": "HOME_ID_SECRET", "scopes": scopes,
			"new_users": "create", "roles": map[string]string{"family": "family"}},
		{"id": workID, "name": "Work ID", "issuer": p.work.Issuer, "client_id": p.work.ClientID,
			"client_secret_env": "WORK_ID_SECRET", "scopes": scopes, "new_users": "refuse"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.env = []string{"AUTHGATE_PROVIDERS=" + string(list),
		"HOME_ID_SECRET=" + p.home.ClientSecret, "WORK_ID_SECRET=" + p.work.ClientSecret}
	return p
}

// authgateEnv is what authgate needs to know the providers; none when p is nil.
func (p *ssoProviders) authgateEnv() []string {
	if p == nil {
		return nil
	}
	return p.env
}

// providerBuilt reports whether idptest would find the provider's binary, as
// idptest looks for it.
func providerBuilt() bool {
	if os.Getenv("AUTHGATE_OIDC_PROVIDER") != "" {
		return true
	}
	out, err := exec.Command("../scripts/oidc-provider.sh", "paths").Output()
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(out)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "oidc-provider="); ok && p != "" {
			return true
		}
	}
	return false
}

// ssoCase is the browser case SSO: sign-in through a provider's button and
// login form back to the page first asked for, with the mapped role; the same
// identity again is the same user; an identity Work ID may not bring in is
// refused; and Home ID's code and state delivered to Work ID's callback are
// refused, while the same answer at Home ID's own callback signs in.
func ssoCase(t *testing.T, s *browserStack) {
	if s.sso == nil {
		skipOrFail(t, "the OpenID provider is not built; run: scripts/oidc-provider.sh ensure (make test does)")
	}
	started := time.Now()
	alice, _ := s.sso.home.User("alice")
	var first apiUser
	t.Run("SignInReturnsToThePage", func(t *testing.T) {
		before := len(s.users(t))
		b := s.device(t, 0)
		tag := uniqueTag("sso-first")
		s.ssoSignIn(t, b, homeID, s.sso.home, alice, tag)
		linked := s.linkedUsers(t, s.sso.home.Issuer, alice.Subject)
		if len(linked) != 1 {
			t.Fatalf("%d users linked to Home ID's alice; want 1", len(linked))
		}
		first = linked[0]
		t.Logf("Home ID's alice is the new user %s (%s)", first.Username, first.ID)
		if got := len(s.users(t)); got != before+1 {
			t.Errorf("%d users after the first sign-in; want %d (one created)", got, before+1)
		}
		if strings.Join(first.Roles, ",") != "family" {
			t.Errorf("the new user has roles %q; want only family (mapped from the group; no default role)", first.Roles)
		}
		s.sawSSOUser(t, tag, first)
		if c := b.cookie(appHost); c == nil || c.Domain != "."+domain {
			t.Errorf("session cookie after the provider sign-in: %+v; want one for .%s", c, domain)
		}
	})
	if first.ID == "" {
		t.FailNow()
	}
	t.Run("SecondSignInIsTheSameUser", func(t *testing.T) {
		before := len(s.users(t))
		b := s.device(t, 1)
		tag := uniqueTag("sso-again")
		s.ssoSignIn(t, b, homeID, s.sso.home, alice, tag)
		if linked := s.linkedUsers(t, s.sso.home.Issuer, alice.Subject); len(linked) != 1 || linked[0].ID != first.ID {
			t.Errorf("users linked after the second sign-in: %+v; want only %s", linked, first.ID)
		}
		if got := len(s.users(t)); got != before {
			t.Errorf("%d users after the second sign-in; want %d (none created)", got, before)
		}
		s.sawSSOUser(t, tag, first)
	})
	t.Run("RefusedIdentityCreatesNothing", func(t *testing.T) {
		before := len(s.users(t))
		b := s.device(t, 2)
		tag := uniqueTag("sso-work")
		resp := s.ssoLogIn(t, b, workID, s.sso.work, alice, tag)
		if u := b.url(); resp.Status != http.StatusForbidden || u.Host != portalHost ||
			!strings.Contains(b.text(), "not allowed to sign in here") {
			t.Errorf("Work ID (new_users refuse) for an unknown identity: %d at %s; want 403 \"not allowed\" (page: %.300q)",
				resp.Status, u, b.text())
		}
		if c := b.cookie(appHost); c != nil {
			t.Errorf("a session cookie after a refused sign-in: %+v", c)
		}
		if got := len(s.users(t)); got != before || len(s.linkedUsers(t, s.sso.work.Issuer, alice.Subject)) != 0 {
			t.Errorf("%d users (want %d) after the refusal, or a Work ID identity linked", got, before)
		}
		if s.up.saw(tag) != nil {
			t.Errorf("the upstream received %s", tag)
		}
	})
	t.Run("MixUpIsRefused", func(t *testing.T) { s.ssoMixUp(t, alice, first) })
	t.Logf("SSO: %v", time.Since(started).Round(time.Millisecond))
}

// ssoLogIn asks for a page on the app host, clicks the provider's button on
// the sign-in page, and signs in on the provider's own form as u; it returns
// the response of the page the browser ends on.
func (s *browserStack) ssoLogIn(t *testing.T, b *tab, id string, op *idptest.Provider, u idptest.User, tag string) *network.Response {
	t.Helper()
	want := "https://" + appHost + "/events/" + tag
	b.open(want)
	b.onLogin(portalHost, want)
	b.submit(`form[action="/login"] button[formaction="/sso/` + id + `/start"]`)
	s.onProvider(t, b, op)
	b.do(chromedp.SetValue(chromedp.ID("username"), u.Username), chromedp.SetValue(chromedp.ID("password"), u.Password))
	return b.submit(`form[action="/login/username"] button[type=submit]`)
}

// ssoSignIn is ssoLogIn, and fails unless the browser ends on the page it
// first asked for, served by the upstream.
func (s *browserStack) ssoSignIn(t *testing.T, b *tab, id string, op *idptest.Provider, u idptest.User, tag string) {
	t.Helper()
	want := "https://" + appHost + "/events/" + tag
	if resp := s.ssoLogIn(t, b, id, op, u, tag); resp.Status != http.StatusOK || b.url().String() != want {
		t.Fatalf("after signing in with %s: %d at %s; want 200 at %s (page: %.300q)", id, resp.Status, b.url(), want, b.text())
	}
}

// onProvider fails unless the tab shows op's login form.
func (s *browserStack) onProvider(t *testing.T, b *tab, op *idptest.Provider) {
	t.Helper()
	iss, err := url.Parse(op.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if u := b.url(); u.Host != iss.Host || !strings.HasPrefix(u.Path, "/login") {
		t.Fatalf("after the provider's button the browser is at %s; want %s's login form (page: %.300q)", u, op.Issuer, b.text())
	}
}

// ssoMixUp starts a sign-in with Home ID and lets Home ID answer, but the
// browser never reaches Home ID's callback (blocked): its code and state go
// to Work ID's callback instead, as an attacker mixing up providers would
// send them. Refused, no session; then the same answer at Home ID's own
// callback signs in, so the refusal was the mix-up's, not a dead code's.
func (s *browserStack) ssoMixUp(t *testing.T, u idptest.User, want apiUser) {
	b := s.device(t, 2)
	tag := uniqueTag("sso-mixup")
	page := "https://" + appHost + "/events/" + tag
	b.open(page)
	b.onLogin(portalHost, page)
	b.submit(`form[action="/login"] button[formaction="/sso/` + homeID + `/start"]`)
	s.onProvider(t, b, s.sso.home)

	// The browser's request to Home ID's callback is held (Fetch) and failed:
	// the answer is never delivered there, so its code stays unused.
	callback := "https://" + portalHost + "/sso/" + homeID + "/callback"
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: callback + "*"}}}); err != nil {
		t.Fatalf("intercept %s: %v", callback, err)
	}
	b.do(chromedp.SetValue(chromedp.ID("username"), u.Username), chromedp.SetValue(chromedp.ID("password"), u.Password))
	ev, err := chromedp.Run(b.ctx, chromedp.WaitEvent(fetch.RequestPaused, nil,
		chromedp.Click(chromedp.CSS(`form[action="/login/username"] button[type=submit]`))))
	if err != nil {
		t.Fatalf("Home ID never sent the browser to %s: %v", callback, err)
	}
	if _, err := chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID,
		ErrorReason: network.ErrorReasonBlockedByClient}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, fetch.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	answer, err := url.Parse(ev.Request.URL)
	if err != nil || answer.Query().Get("code") == "" || answer.Query().Get("state") == "" {
		t.Fatalf("Home ID's answer %q: %v; want a code and a state", ev.Request.URL, err)
	}

	mixed := "https://" + portalHost + "/sso/" + workID + "/callback?" + answer.RawQuery
	resp := b.open(mixed)
	if resp.Status/100 != 4 || b.url().Host != portalHost || !strings.Contains(b.text(), "expired") {
		t.Errorf("Home ID's answer at Work ID's callback: %d at %s; want the refusal page (page: %.300q)", resp.Status, b.url(), b.text())
	}
	if c := b.cookie(appHost); c != nil {
		t.Errorf("a session cookie after the mix-up: %+v", c)
	}
	if len(s.linkedUsers(t, s.sso.work.Issuer, u.Subject)) != 0 {
		t.Error("the mix-up linked a Work ID identity")
	}

	if resp := b.open(ev.Request.URL); resp.Status != http.StatusOK || b.url().String() != page {
		t.Fatalf("the same answer at Home ID's callback: %d at %s; want 200 at %s (page: %.300q)", resp.Status, b.url(), page, b.text())
	}
	s.sawSSOUser(t, tag, want)
}

// apiUser is a user as the admin API lists it.
type apiUser struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Roles    []string `json:"roles"`
}

// users lists every user (the stacks have a few, within one page).
func (s *browserStack) users(t *testing.T) []apiUser {
	t.Helper()
	var page struct {
		Users []apiUser `json:"users"`
		Next  *string   `json:"next_cursor"`
	}
	s.ag.api(t, http.MethodGet, "/v1/users?limit=100", nil, &page)
	if page.Next != nil {
		t.Fatal("more than 100 users: page on")
	}
	return page.Users
}

// linkedUsers lists the users the external identity (issuer, subject) is linked to.
func (s *browserStack) linkedUsers(t *testing.T, issuer, subject string) []apiUser {
	t.Helper()
	var out []apiUser
	for _, u := range s.users(t) {
		var ids struct {
			Identities []struct {
				Issuer  string `json:"issuer"`
				Subject string `json:"subject"`
			} `json:"identities"`
		}
		s.ag.api(t, http.MethodGet, "/v1/users/"+u.ID+"/identities", nil, &ids)
		for _, id := range ids.Identities {
			if id.Issuer == issuer && id.Subject == subject {
				out = append(out, u)
			}
		}
	}
	return out
}

// sawSSOUser fails unless the upstream received tag with u's session
// identity, the mapped role family among its roles.
func (s *browserStack) sawSSOUser(t *testing.T, tag string, u apiUser) {
	t.Helper()
	h := s.up.saw(tag)
	if h == nil {
		t.Fatalf("the upstream never received %s", tag)
	}
	if h.Get("X-Auth-Kind") != "session" || h.Get("X-Auth-User") != u.Username || h.Get("X-Auth-Subject") != u.ID {
		t.Errorf("upstream got kind %q user %q subject %q; want session %s %s",
			h.Get("X-Auth-Kind"), h.Get("X-Auth-User"), h.Get("X-Auth-Subject"), u.Username, u.ID)
	}
	if roles := strings.Fields(strings.ReplaceAll(h.Get("X-Auth-Roles"), ",", " ")); !slices.Contains(roles, "family") {
		t.Errorf("upstream got X-Auth-Roles %q; want family among them", h.Get("X-Auth-Roles"))
	}
}
