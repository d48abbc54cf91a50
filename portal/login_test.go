package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestPortal_SignIn_Cookie(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	rd := "https://app.home.example/events?day=1"

	page := f.get(t, "/login?rd="+url.QueryEscape(rd))
	wantPage(t, page, http.StatusOK, `<input type="hidden" name="rd" value="https://app.home.example/events?day=1">`,
		`value="Chrome on Linux"`, `<html lang="en">`)

	a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}, "device_name": {"Kitchen laptop"}, "rd": {rd}})
	wantRedirect(t, a, rd)
	c := sessionCookie(t, a)
	if c == nil || !strings.HasPrefix(c.Value, verify.PrefixSession) {
		t.Fatalf("Set-Cookie %v; want an ags_ session cookie", a.Header["Set-Cookie"])
	}
	// A browser-session cookie: no Expires, no Max-Age.
	want := cookieName + "=" + c.Value + "; Path=/; Domain=home.example; HttpOnly; Secure; SameSite=Lax"
	if got := a.Header.Get("Set-Cookie"); got != want {
		t.Fatalf("Set-Cookie %q; want %q", got, want)
	}

	p, err := f.principal(t, c.Value)
	if err != nil || p.Kind != verify.KindSession || p.Subject != u.ID || p.User != "vera" {
		t.Fatalf("the cookie authenticates as %+v, %v; want vera's session", p, err)
	}
	list := f.sessions(t, u.ID)
	if len(list) != 1 || list[0].ID != p.SessionID || list[0].Kind != issue.SessionBrowser ||
		list[0].DeviceName != "Kitchen laptop" || list[0].IP != "192.0.2.7" {
		t.Fatalf("sessions %+v; want one browser session on Kitchen laptop from 192.0.2.7", list)
	}
}

func TestPortal_SignIn_Remember(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera", "remember", "1")
	list := f.sessions(t, u.ID)
	if len(list) != 1 {
		t.Fatalf("sessions %+v; want one", list)
	}
	// Expires is the session's absolute expiry, to the second (the cookie's precision).
	if want := list[0].ExpiresAt.UTC().Truncate(time.Second); !c.Expires.Equal(want) || c.MaxAge != 0 {
		t.Fatalf("Expires %v, Max-Age %d; want Expires %v (the session's absolute expiry) and no Max-Age", c.Expires, c.MaxAge, want)
	}
	if c.Domain != "home.example" || c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie %+v; want Domain=home.example, Path=/, HttpOnly, Secure, SameSite=Lax", c)
	}
}

func TestPortal_SignIn_ReturnURL(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	for _, tt := range []struct{ name, rd, want string }{
		{"Valid", "https://cams.home.example:8443/live", "https://cams.home.example:8443/live"},
		{"FragmentDropped", "https://app.home.example/x#y", "https://app.home.example/x"},
		{"Absent", "", "/account"},
		{"OtherSite", "https://evil.example/", "/account"},
		{"OtherConfiguredDomain", "https://grafana.lab.example.net/", "/account"},
		{"ProtocolRelative", "//evil.example/", "/account"},
		{"Javascript", "javascript:alert(1)", "/account"},
		{"HTTP", "http://app.home.example/", "/account"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}, "rd": {tt.rd}})
			wantRedirect(t, a, tt.want)
			if sessionCookie(t, a) == nil {
				t.Fatal("no session cookie")
			}
		})
	}
}

func TestPortal_LoginPage_BadReturnURL(t *testing.T) {
	f := setup(t, issue.Options{})
	for _, rd := range []string{"https://evil.example/", "https://home.example.evil.com/", "/account", "https://app.home.example\\@evil.example"} {
		a := f.get(t, "/login?rd="+url.QueryEscape(rd))
		wantPage(t, a, http.StatusBadRequest, "This sign-in link cannot be followed", `<a href="/login">Sign in without it</a>`)
		if strings.Contains(a.body, "evil") {
			t.Fatalf("the error page repeats the refused URL:\n%s", a.body)
		}
	}
	// A method other than GET is named, so the person knows their form was not sent.
	a := f.get(t, "/login?rd="+url.QueryEscape("https://app.home.example/form")+"&rm=POST")
	wantPage(t, a, http.StatusOK, "You were sending a form (POST)")
}

func TestPortal_SignIn_Refused(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	rd := "https://app.home.example/events"
	for _, tt := range []struct {
		name, login, password string
		status                int
		msg                   string
	}{
		{"WrongPassword", "vera", "not-the-password", http.StatusUnauthorized, "Invalid username or password."},
		{"UnknownUser", "nobody", "password-of-nobody", http.StatusUnauthorized, "Invalid username or password."},
		{"NoPassword", "vera", "", http.StatusBadRequest, "Password: is required."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/login", url.Values{"login": {tt.login}, "password": {tt.password}, "rd": {rd}, "device_name": {"Phone"}})
			wantPage(t, a, tt.status, `<p class="error" role="alert" id="form-error">`+tt.msg,
				`value="`+tt.login+`"`, `value="Phone"`, `name="rd" value="`+rd+`"`)
			if a.Header.Get("Set-Cookie") != "" {
				t.Fatalf("a refused sign-in sets %v", a.Header["Set-Cookie"])
			}
			if tt.password != "" && strings.Contains(a.body, tt.password) {
				t.Fatal("the page repeats the password")
			}
		})
	}
	long := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}, "device_name": {strings.Repeat("x", 101)}})
	wantPage(t, long, http.StatusBadRequest, "Device name: ")
}

func TestPortal_SignIn_Lockout(t *testing.T) {
	f := setup(t, issue.Options{LockoutThreshold: 2, LockoutDuration: 5 * time.Minute})
	f.newUser(t, "vera")
	for range 2 {
		a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"wrong-password"}})
		wantPage(t, a, http.StatusUnauthorized, "Invalid username or password.")
	}
	// Locked: even the right password is refused, with the wait.
	a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}})
	wantPage(t, a, http.StatusTooManyRequests, "Too many failed logins for this account. Try again in 5 minutes.")
	if a.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a locked account gets %v", a.Header["Set-Cookie"])
	}
}

// A cookie the browser holds before signing in, planted or left over, is
// never the session after it: sign-in mints a new one, and ends the old.
func TestPortal_SignIn_Fixation(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	mallory := f.newUser(t, "mallory")
	planted := f.signIn(t, "mallory") // a real session the attacker holds

	forged := &http.Cookie{Name: cookieName, Value: verify.NewKey(verify.PrefixSession).Reveal()}
	for _, tt := range []struct {
		name   string
		before *http.Cookie
	}{{"Planted", planted}, {"Forged", forged}} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}}, tt.before)
			after := sessionCookie(t, a)
			if after == nil || after.Value == tt.before.Value {
				t.Fatalf("the cookie after sign-in is %v; want a new one", after)
			}
			p, err := f.principal(t, after.Value)
			if err != nil || p.Subject != u.ID {
				t.Fatalf("new cookie: %+v, %v; want vera's session", p, err)
			}
		})
	}
	f.settle(t)
	if p, err := f.principal(t, planted.Value); err == nil {
		t.Fatalf("the planted cookie still authenticates as %s", p.User)
	}
	if n := len(f.sessions(t, mallory.ID)); n != 0 {
		t.Fatalf("mallory has %d live sessions; want the replaced one ended", n)
	}
}

func TestPortal_SignIn_ServerErrorSaysNothing(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	f.store.Close() // every query fails from now on
	a := f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}})
	wantPage(t, a, http.StatusInternalServerError, "Something went wrong", "Reference: <code>"+a.Header.Get("X-Request-Id")+"</code>")
	for _, leak := range []string{"pool", "closed", "login vera", "sql"} {
		if strings.Contains(strings.ToLower(a.body), leak) {
			t.Fatalf("the 500 page says %q:\n%s", leak, a.body)
		}
	}
}

// Each portal sets the cookie of its own domain, and sends back only to it.
func TestPortal_SignIn_SecondSite(t *testing.T) {
	f := setup(t, issue.Options{})
	f.newUser(t, "vera")
	const lab = "auth.lab.example.net"
	for _, tt := range []struct{ name, rd, want string }{
		{"OwnDomain", "https://grafana.lab.example.net/d", "https://grafana.lab.example.net/d"},
		{"FirstSitesDomain", "https://app.home.example/", "/account"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(t, request{method: http.MethodPost, path: "/login", host: lab,
				form: url.Values{"login": {"vera"}, "password": {"password-of-vera"}, "rd": {tt.rd}}})
			wantRedirect(t, a, tt.want)
			if c := sessionCookie(t, a); c == nil || c.Domain != "lab.example.net" {
				t.Fatalf("Set-Cookie %v; want Domain=lab.example.net", a.Header["Set-Cookie"])
			}
		})
	}
	wantPage(t, f.do(t, request{method: http.MethodGet, path: "/login?rd=" + url.QueryEscape("https://app.home.example/"), host: lab}),
		http.StatusBadRequest, "This sign-in link cannot be followed")
	// A session signed in on the first site is nobody on the second: a browser
	// never sends home.example's cookie to lab.example.net, so it was copied.
	home := f.signIn(t, "vera")
	a := f.do(t, request{method: http.MethodGet, path: "/account", host: lab, cookies: []*http.Cookie{home}})
	wantPage(t, a, http.StatusUnauthorized, "Your session has ended")
}
