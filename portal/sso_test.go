package portal_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/idp/idptest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/portal"
)

const ssoCallback = portalURL + "/sso/op/callback"

// ssoSetup is the fixture with one OpenID provider, a real one on loopback,
// configured with policy.
func ssoSetup(t *testing.T, policy issue.ProviderPolicy) (*fixture, *idptest.Provider) {
	t.Helper()
	f, op, _ := ssoSetupWith(t, ssoOptions{policy: policy})
	return f, op
}

// ssoOptions change ssoSetupWith's provider and portal.
type ssoOptions struct {
	policy issue.ProviderPolicy
	config func(*idp.ProviderConfig) // changes the provider's configuration
	limit  int                       // portal.Config.SSOLimit
}

// ssoWorld is what ssoSetupWith answers besides the fixture: the portal's
// clock, which a test may move, and the number of calls authgate made to
// the provider's token endpoint.
type ssoWorld struct {
	offset     atomic.Int64 // added to the real time, for the portal's clock
	tokenCalls atomic.Int64
}

func (w *ssoWorld) advance(d time.Duration) { w.offset.Add(int64(d)) }

// countTokenCalls counts requests to a token endpoint through next.
type countTokenCalls struct {
	next  http.RoundTripper
	calls *atomic.Int64
}

func (c countTokenCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		c.calls.Add(1)
	}
	return c.next.RoundTrip(r)
}

// ssoSetupWith is ssoSetup with more to choose.
func ssoSetupWith(t *testing.T, o ssoOptions) (*fixture, *idptest.Provider, *ssoWorld) {
	t.Helper()
	f := setup(t, issue.Options{})
	op := idptest.Start(t, idptest.Options{RedirectURIs: []string{ssoCallback}})
	w := &ssoWorld{}
	discard := slog.New(slog.DiscardHandler)
	cfg := idp.ProviderConfig{ID: "op", Name: "Example ID", Issuer: op.Issuer,
		ClientID: op.ClientID, ClientSecret: op.ClientSecret, Scopes: []string{"openid", "email", "profile", "groups"},
		Policy: o.policy}
	if o.config != nil {
		o.config(&cfg)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: countTokenCalls{http.DefaultTransport, &w.tokenCalls}}
	set, err := idp.New(context.Background(), []idp.ProviderConfig{cfg}, idp.Options{Log: discard, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	f.p, err = portal.New(portal.Config{Log: discard, Sites: []portal.Site{{Domain: "home.example", URL: portalURL}},
		Providers: set, SSOKey: []byte("0123456789abcdef0123456789abcdef"), SSOLimit: o.limit,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }}, f.svc, f.v)
	if err != nil {
		t.Fatal(err)
	}
	f.e = echo.New()
	f.p.Register(f.e)
	return f, op, w
}

// ssoStart asks the portal to begin a sign-in, as a link does (GET), and
// returns the provider's authorization URL and the attempt cookie.
func ssoStart(t *testing.T, f *fixture, rd string) (string, *http.Cookie) {
	t.Helper()
	path := "/sso/op/start"
	if rd != "" {
		path += "?rd=" + url.QueryEscape(rd)
	}
	return startedAttempt(t, f.get(t, path))
}

// ssoStartForm begins a sign-in as the sign-in form's provider button does
// (POST, with the form's fields).
func ssoStartForm(t *testing.T, f *fixture, form url.Values) (string, *http.Cookie) {
	t.Helper()
	return startedAttempt(t, f.post(t, "/sso/op/start", form))
}

func startedAttempt(t *testing.T, a answer) (string, *http.Cookie) {
	t.Helper()
	if a.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", a.StatusCode, a.body)
	}
	attempt := attemptCookie(t, a)
	if attempt == nil {
		t.Fatalf("start: no attempt cookie in %v", a.Header["Set-Cookie"])
	}
	return a.Header.Get("Location"), attempt
}

// attemptCookie returns the attempt cookie an answer sets, or nil.
func attemptCookie(t *testing.T, a answer) *http.Cookie {
	t.Helper()
	var attempt *http.Cookie
	for _, raw := range a.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(raw); err == nil && strings.HasPrefix(c.Name, "__Secure-authgate_sso_") {
			attempt = c
		}
	}
	return attempt
}

// loginAt logs in at the provider and returns the callback's path and query.
func loginAt(t *testing.T, op *idptest.Provider, authURL, username string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := op.User(username)
	cb, err := url.Parse(op.LoginAs(t, &http.Client{Jar: jar}, authURL, u.Username, u.Password))
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != ssoCallback {
		t.Fatalf("provider sent the browser to %s; want %s", got, ssoCallback)
	}
	return cb.RequestURI()
}

func (f *fixture) userCount(t *testing.T) int {
	t.Helper()
	users, _, err := f.svc.ListUsers(context.Background(), nil, 200)
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

func TestSSO_SignInThroughProvider(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	login := f.get(t, "/login?rd="+url.QueryEscape("https://app.home.example/cams"))
	wantPage(t, login, http.StatusOK, `<input type="hidden" name="rd" value="https://app.home.example/cams">`,
		`<button type="submit" formaction="/sso/op/start" formnovalidate class="secondary">Sign in with Example ID</button>`)
	if strings.Index(login.body, `formaction="/sso/op/start"`) < strings.Index(login.body, `<button type="submit">Sign in</button>`) {
		t.Error("a provider button comes before the password form's own: Enter in the password field would press it")
	}

	authURL, attempt := ssoStart(t, f, "https://app.home.example/cams?x=1")
	if !strings.HasPrefix(authURL, strings.TrimSuffix(op.Issuer, "/")) {
		t.Fatalf("start sent the browser to %s; want the provider", authURL)
	}
	if attempt.Path != "/sso/op/callback" || !attempt.HttpOnly || !attempt.Secure || attempt.SameSite != http.SameSiteLaxMode ||
		attempt.MaxAge != 600 || attempt.Domain != "" || len(attempt.Name) != len("__Secure-authgate_sso_")+8 {
		t.Errorf("got attempt cookie %+v; want host-only, Path=/sso/op/callback, HttpOnly, Secure, Lax, 600s", attempt)
	}
	cb := loginAt(t, op, authURL, "alice")
	back := f.get(t, cb, attempt)
	wantRedirect(t, back, "https://app.home.example/cams?x=1")
	sess := sessionCookie(t, back)
	if sess == nil || sess.Domain != "home.example" {
		t.Fatalf("got session cookie %+v; want one for home.example", sess)
	}
	cleared := false
	for _, raw := range back.Header.Values("Set-Cookie") {
		if c, _ := http.ParseSetCookie(raw); c != nil && c.Name == attempt.Name && c.MaxAge < 0 && c.Path == attempt.Path {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("attempt cookie not cleared: %v", back.Header["Set-Cookie"])
	}
	pr, err := f.principal(t, sess.Value)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.svc.Identities(context.Background(), pr.Subject)
	if err != nil || len(ids) != 1 || ids[0].Subject != "sub-alice" {
		t.Errorf("got identities %+v, %v; want alice's link", ids, err)
	}
	account := f.get(t, "/account", sess)
	wantPage(t, account, http.StatusOK, "<td>Example ID</td>") // the provider by its display name

	// The same callback again, as the browser would send it: the cookie is gone.
	wantPage(t, f.get(t, cb, sess), http.StatusBadRequest, "This sign-in link has expired")
}

func TestSSO_CallbackRefusals(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	authURL, attempt := ssoStart(t, f, "")
	cb := loginAt(t, op, authURL, "alice")
	_, other := ssoStart(t, f, "")
	before := f.userCount(t)

	t.Run("NoCookie", func(t *testing.T) {
		wantPage(t, f.get(t, cb), http.StatusBadRequest, "This sign-in link has expired")
	})
	t.Run("AnotherAttemptsCookie", func(t *testing.T) {
		forged := &http.Cookie{Name: attempt.Name, Value: other.Value}
		wantPage(t, f.get(t, cb, forged), http.StatusBadRequest, "This sign-in link has expired")
	})
	t.Run("TamperedCookie", func(t *testing.T) {
		forged := &http.Cookie{Name: attempt.Name, Value: "A" + attempt.Value[1:]}
		wantPage(t, f.get(t, cb, forged), http.StatusBadRequest, "This sign-in link has expired")
	})
	t.Run("NoState", func(t *testing.T) {
		wantPage(t, f.get(t, "/sso/op/callback?code=x", attempt), http.StatusBadRequest, "This sign-in link has expired")
	})
	t.Run("ErrorFromProvider", func(t *testing.T) {
		q := url.Values{"state": {stateOf(t, cb)}, "error": {"access_denied"}}
		wantPage(t, f.get(t, "/sso/op/callback?"+q.Encode(), attempt), http.StatusForbidden, "Example ID did not sign you in")
	})
	t.Run("ReplayedCode", func(t *testing.T) {
		// The attempt cookie stolen and replayed along with the code, after a
		// first use: the provider refuses the code.
		authURL, attempt := ssoStart(t, f, "")
		cb := loginAt(t, op, authURL, "alice")
		wantRedirect(t, f.get(t, cb, attempt), "/account")
		wantPage(t, f.get(t, cb, attempt), http.StatusBadRequest, "This sign-in link has expired")
	})
	t.Run("UnknownProvider", func(t *testing.T) {
		wantPage(t, f.get(t, "/sso/nope/start"), http.StatusNotFound)
		wantPage(t, f.get(t, "/sso/nope/callback?state=abcdefgh"), http.StatusNotFound)
	})
	t.Run("BadReturnURL", func(t *testing.T) {
		wantPage(t, f.get(t, "/sso/op/start?rd="+url.QueryEscape("https://evil.example/")), http.StatusBadRequest)
	})
	if got := f.userCount(t); got != before+1 { // ReplayedCode's first sign-in created alice
		t.Errorf("got %d users; want %d", got, before+1)
	}
}

func TestSSO_RefusedIdentityCreatesNothing(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersRefuse})
	before := f.userCount(t)
	authURL, attempt := ssoStart(t, f, "")
	a := f.get(t, loginAt(t, op, authURL, "carol"), attempt)
	wantPage(t, a, http.StatusForbidden, "This account is not allowed to sign in here")
	if sessionCookie(t, a) != nil {
		t.Error("got a session cookie on a refusal")
	}
	if got := f.userCount(t); got != before {
		t.Errorf("got %d users; want %d", got, before)
	}
}

func TestSSO_ProviderDown(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	before := f.userCount(t)
	authURL, attempt := ssoStart(t, f, "")
	cb := loginAt(t, op, authURL, "alice")
	op.Stop()
	wantPage(t, f.get(t, cb, attempt), http.StatusBadGateway, "Could not reach Example ID")
	if got := f.userCount(t); got != before {
		t.Errorf("got %d users; want %d", got, before)
	}
}

func stateOf(t *testing.T, requestURI string) string {
	t.Helper()
	u, err := url.Parse(requestURI)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}
