package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
)

// TestSSO_Remember: "Remember this device" and the device name, chosen on
// the sign-in form before pressing a provider's button, travel sealed in the
// attempt and shape the session made at the callback, as a password
// sign-in's do.
func TestSSO_Remember(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	o := f.svc.Options()
	for _, tt := range []struct {
		name     string
		form     url.Values
		remember bool
		device   string
		rd       string
	}{
		{"Remembered", url.Values{"login": {""}, "password": {""}, "remember": {"1"}, "device_name": {" Kitchen tablet "},
			"rd": {"https://app.home.example/cams"}}, true, "Kitchen tablet", "https://app.home.example/cams"},
		{"NotRemembered", url.Values{"login": {""}, "password": {""}, "device_name": {""}}, false, "Chrome on Linux", "/account"},
		{"UnprintableDeviceName", url.Values{"device_name": {"tab\u202elet"}, "remember": {"1"}}, true, "Chrome on Linux", "/account"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			authURL, attempt := ssoStartForm(t, f, tt.form)
			if strings.Contains(authURL, "remember") || strings.Contains(authURL, "Kitchen") {
				t.Errorf("the choices went to the provider: %s", authURL)
			}
			back := f.get(t, loginAt(t, op, authURL, "alice"), attempt)
			wantRedirect(t, back, tt.rd)
			c := sessionCookie(t, back)
			pr, err := f.principal(t, c.Value)
			if err != nil {
				t.Fatal(err)
			}
			var sess *issue.Session
			for _, s := range f.sessions(t, pr.Subject) {
				if s.ID == pr.SessionID {
					sess = &s
				}
			}
			if sess == nil {
				t.Fatalf("no session %s", pr.SessionID)
			}
			wantIdle := o.BrowserIdleTTL
			if tt.remember {
				wantIdle = o.BrowserRememberTTL
			}
			if sess.Remember != tt.remember || sess.IdleTTL != wantIdle || sess.DeviceName != tt.device {
				t.Errorf("got session remember %v, idle %v, device %q; want %v, %v, %q",
					sess.Remember, sess.IdleTTL, sess.DeviceName, tt.remember, wantIdle, tt.device)
			}
			if tt.remember {
				if want := sess.ExpiresAt.UTC().Truncate(time.Second); !c.Expires.Equal(want) {
					t.Errorf("got cookie Expires %v; want %v, the session's absolute expiry", c.Expires, want)
				}
			} else if !c.Expires.IsZero() || c.MaxAge != 0 {
				t.Errorf("got cookie Expires %v, Max-Age %d; want a browser-session cookie", c.Expires, c.MaxAge)
			}
		})
	}
	t.Run("CrossOriginPostRefused", func(t *testing.T) {
		a := f.do(t, request{method: http.MethodPost, path: "/sso/op/start", form: url.Values{"remember": {"1"}},
			header: http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}})
		wantPage(t, a, http.StatusForbidden, "Form refused")
		if attemptCookie(t, a) != nil {
			t.Error("a cross-site post began an attempt")
		}
	})
	t.Run("BadReturnURL", func(t *testing.T) {
		a := f.post(t, "/sso/op/start", url.Values{"rd": {"https://evil.example/"}})
		wantPage(t, a, http.StatusBadRequest, "This sign-in link cannot be followed")
	})
}

// loginFailures returns the user.login_failed rows' metadata.
func (f *fixture) loginFailures(t *testing.T) []string {
	t.Helper()
	rows, _, err := f.svc.ListAudit(context.Background(), issue.AuditFilter{Action: issue.ActionLoginFailed})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, string(r.Metadata))
	}
	return out
}

// TestSSO_NotAllowed: a person the provider vouched for whom this portal
// does not admit gets the "not allowed" page (403) naming the provider,
// never the claim, and an audit row with the reason; a broken answer gets
// "could not be verified" (400).
func TestSSO_NotAllowed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		o      ssoOptions
		prep   func(t *testing.T, f *fixture)
		user   string
		reason string // in the user.login_failed row's metadata
	}{
		{"HostedDomain", ssoOptions{policy: issue.ProviderPolicy{NewUsers: issue.NewUsersCreate},
			config: func(c *idp.ProviderConfig) { c.Preset, c.HostedDomain = "google", "example.com" }},
			nil, "alice", `"check": "hosted_domain"`},
		{"NewUsersRefused", ssoOptions{policy: issue.ProviderPolicy{NewUsers: issue.NewUsersRefuse}},
			nil, "carol", `"reason": "not_linked"`},
		{"UnverifiedEmailLinking", ssoOptions{policy: issue.ProviderPolicy{LinkByVerifiedEmail: true}},
			func(t *testing.T, f *fixture) {
				if _, err := f.svc.CreateUser(context.Background(), issue.UserRequest{Username: "bobby", Email: "bob@example.test",
					Password: "password-of-bobby"}, cli); err != nil {
					t.Fatal(err)
				}
			}, "bob", `"reason": "email_unverified"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, op, _ := ssoSetupWith(t, tt.o)
			if tt.prep != nil {
				tt.prep(t, f)
			}
			before := f.userCount(t)
			authURL, attempt := ssoStart(t, f, "")
			a := f.get(t, loginAt(t, op, authURL, tt.user), attempt)
			wantPage(t, a, http.StatusForbidden, "This account is not allowed to sign in here",
				"the Example ID account you used is not allowed to sign in here", "Sign in with another Example ID account")
			for _, leak := range []string{"example.com", "hd", "@example.test", "not_linked", "unverified"} {
				if strings.Contains(strings.ToLower(textOf(a.body)), leak) {
					t.Errorf("the page says %q", leak)
				}
			}
			if sessionCookie(t, a) != nil {
				t.Error("got a session cookie on a refusal")
			}
			if got := f.userCount(t); got != before {
				t.Errorf("got %d users; want %d", got, before)
			}
			rows := f.loginFailures(t)
			if len(rows) != 1 || !strings.Contains(strings.ReplaceAll(rows[0], `":"`, `": "`), tt.reason) ||
				!strings.Contains(rows[0], `"op"`) {
				t.Errorf("user.login_failed rows %v; want one with %s and the provider", rows, tt.reason)
			}
		})
	}
	t.Run("BrokenAnswer", func(t *testing.T) {
		f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
		authURL, attempt := ssoStart(t, f, "")
		cb, _ := url.Parse(loginAt(t, op, authURL, "alice"))
		q := cb.Query()
		q.Set("iss", "https://evil.example") // a mix-up: another issuer's answer
		wantPage(t, f.get(t, cb.Path+"?"+q.Encode(), attempt), http.StatusBadRequest, "The sign-in could not be verified")
	})
}

// textOf is an HTML page without its head (the stylesheet link, the CSP
// meta), roughly what a person reads.
func textOf(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		return body[i:]
	}
	return body
}

// TestSSO_Throttle: each client address may start and bring back a limited
// number of sign-ins a minute; beyond it the 429 page with Retry-After, no
// attempt cookie, and no call to the provider. A refused callback keeps its
// attempt, so it works once the wait is over.
func TestSSO_Throttle(t *testing.T) {
	const limit = 5
	f, op, w := ssoSetupWith(t, ssoOptions{policy: issue.ProviderPolicy{NewUsers: issue.NewUsersCreate}, limit: limit})
	authURL, attempt := ssoStart(t, f, "") // 1 start
	cb := loginAt(t, op, authURL, "alice")

	t.Run("Start", func(t *testing.T) {
		for i := 1; i < limit; i++ {
			ssoStart(t, f, "")
		}
		a := f.get(t, "/sso/op/start")
		wantPage(t, a, http.StatusTooManyRequests, "Too many sign-ins from here", "Try again in")
		if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("got Retry-After %q; want 1 to 60 seconds", a.Header.Get("Retry-After"))
		}
		if attemptCookie(t, a) != nil {
			t.Error("a refused start set an attempt cookie")
		}
		wantPage(t, f.post(t, "/sso/op/start", url.Values{}), http.StatusTooManyRequests) // the form's button too
		// Another address has its own allowance.
		other := f.do(t, request{method: http.MethodGet, path: "/sso/op/start", header: http.Header{"X-Real-Ip": {"198.51.100.9"}}})
		if other.StatusCode != http.StatusSeeOther {
			t.Errorf("another address: %d; want 303", other.StatusCode)
		}
	})
	t.Run("Callback", func(t *testing.T) {
		for range limit {
			wantPage(t, f.get(t, "/sso/op/callback?state=x"), http.StatusBadRequest) // no usable state: cheap refusals
		}
		calls := w.tokenCalls.Load()
		a := f.get(t, cb, attempt)
		wantPage(t, a, http.StatusTooManyRequests, "Too many sign-ins from here")
		if a.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if got := w.tokenCalls.Load(); got != calls {
			t.Errorf("the provider's token endpoint was called %d times beyond the limit", got-calls)
		}
		if sessionCookie(t, a) != nil || attemptCookie(t, a) != nil {
			t.Errorf("a refused callback set cookies: %v", a.Header["Set-Cookie"])
		}
		w.advance(time.Minute) // the allowance is back; the code and the attempt are still good
		wantRedirect(t, f.get(t, cb, attempt), "/account")
		if got := w.tokenCalls.Load(); got != calls+1 {
			t.Errorf("got %d token calls; want 1", got-calls)
		}
	})
}

// TestSSO_LoginPageAllowsTheProvider: the sign-in page's form-action admits
// the provider's authorization endpoint, where a button's post is
// redirected (browsers check that redirect against it); other pages keep
// the portal's own policy.
func TestSSO_LoginPageAllowsTheProvider(t *testing.T) {
	f, op := ssoSetup(t, issue.ProviderPolicy{NewUsers: issue.NewUsersCreate})
	origin := strings.TrimSuffix(op.Issuer, "/")
	login := f.get(t, "/login")
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+origin+" ") {
		t.Errorf("login page CSP %q does not admit %s", csp, origin)
	}
	if csp := f.get(t, "/denied").Header.Get("Content-Security-Policy"); strings.Contains(csp, origin) {
		t.Errorf("denied page CSP %q admits the provider", csp)
	}
}
