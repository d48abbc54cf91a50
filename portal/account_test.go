package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestPortal_Account_Sessions(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	phone := f.signIn(t, "vera", "device_name", "Vera's phone")
	laptop := f.signIn(t, "vera", "device_name", "Kitchen laptop")

	a := f.get(t, "/account", laptop)
	wantPage(t, a, http.StatusOK, "<h1>Your account</h1>", "vera@example.com", "household",
		"Vera&#39;s phone", "Kitchen laptop <strong class=\"tag\">this device</strong>", "192.0.2.7", "Browser")

	// End the phone's session from the laptop.
	phoneP, err := f.principal(t, phone.Value)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, f.post(t, "/account/sessions/end", url.Values{"id": {phoneP.SessionID}}, laptop), "/account?done=session_ended")
	f.settle(t)
	if _, err := f.principal(t, phone.Value); err == nil {
		t.Fatal("the phone's cookie still works")
	}
	wantPage(t, f.get(t, "/account", phone), http.StatusUnauthorized, "Your session has ended")
	wantPage(t, f.get(t, "/account?done=session_ended", laptop), http.StatusOK, "The session has ended.")

	// Another user's session is as if it did not exist.
	f.newUser(t, "otto")
	otto := f.signIn(t, "otto")
	ottoP, _ := f.principal(t, otto.Value)
	wantPage(t, f.post(t, "/account/sessions/end", url.Values{"id": {ottoP.SessionID}}, laptop), http.StatusNotFound)
	f.settle(t)
	if _, err := f.principal(t, otto.Value); err != nil {
		t.Fatalf("vera ended otto's session: %v", err)
	}

	// Sign out all other devices: the laptop stays.
	other := f.signIn(t, "vera", "device_name", "Tablet")
	wantRedirect(t, f.post(t, "/account/sessions/end-all", url.Values{}, laptop), "/account?done=sessions_ended")
	f.settle(t)
	if _, err := f.principal(t, other.Value); err == nil {
		t.Fatal("the tablet's cookie still works after ending every other session")
	}
	if list := f.sessions(t, u.ID); len(list) != 1 || list[0].DeviceName != "Kitchen laptop" {
		t.Fatalf("sessions %+v; want only the laptop", list)
	}

	// Ending this device's own session is signing out.
	laptopP, _ := f.principal(t, laptop.Value)
	a = f.post(t, "/account/sessions/end", url.Values{"id": {laptopP.SessionID}}, laptop)
	wantRedirect(t, a, "/login?done=signed_out")
	if c := sessionCookie(t, a); c == nil || c.MaxAge != -1 {
		t.Fatalf("ending this session sets %v; want the cookie cleared", a.Header["Set-Cookie"])
	}
}

func TestPortal_Account_NotSignedIn(t *testing.T) {
	f := setup(t, issue.Options{})
	wantRedirect(t, f.get(t, "/account"), "/login")
	forged := &http.Cookie{Name: cookieName, Value: verify.NewKey(verify.PrefixSession).Reveal()}
	a := f.get(t, "/account", forged)
	wantPage(t, a, http.StatusUnauthorized, "Your session has ended", `<a href="/login">Sign in again</a>`)
	if c := sessionCookie(t, a); c == nil || c.MaxAge != -1 {
		t.Fatalf("a stale cookie is not cleared: %v", a.Header["Set-Cookie"])
	}
	for _, path := range []string{"/account/tokens", "/account/tokens/revoke", "/account/password", "/account/sessions/end", "/account/sessions/end-all"} {
		wantPage(t, f.post(t, path, url.Values{"name": {"x"}}), http.StatusUnauthorized, "Your session has ended")
	}
	// Something shaped like another credential is not a session.
	key, err := f.svc.CreateKey(context.Background(), issue.KeyRequest{Name: "k", Scopes: []string{"keys:read"}}, cli)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, f.get(t, "/account", &http.Cookie{Name: cookieName, Value: key.Secret}), "/login")
}

var secretRE = regexp.MustCompile(`value="(agp_[^"]+)"`)

func TestPortal_Account_Tokens(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")

	a := f.get(t, "/account", c)
	wantPage(t, a, http.StatusOK, "You have no personal tokens.", `value="events:read"`, `value="events:write"`, `max="365"`)

	a = f.post(t, "/account/tokens", url.Values{"name": {"ci"}, "days": {"30"}, "scopes": {"events:read"}}, c)
	wantPage(t, a, http.StatusCreated, "Copy it now: it is shown only this once", "<td>ci</td>")
	m := secretRE.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", a.body)
	}
	p, err := f.principal(t, m[1])
	if err != nil || p.Kind != verify.KindPersonalToken || p.Subject != u.ID || strings.Join(p.Scopes, " ") != "events:read" {
		t.Fatalf("the token shown authenticates as %+v, %v; want vera's token with events:read", p, err)
	}
	if again := f.get(t, "/account", c); strings.Contains(again.body, m[1]) {
		t.Fatal("the secret is shown a second time")
	}

	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"NoName", url.Values{"days": {"30"}}, http.StatusBadRequest, "Name: "},
		{"DaysNotANumber", url.Values{"name": {"x"}, "days": {"soon"}}, http.StatusBadRequest, "Expires after: write a whole number of days."},
		{"TooLong", url.Values{"name": {"x"}, "days": {"9999"}}, http.StatusBadRequest, "Expires after (days): must be between 1 and 365"},
		{"NotHeld", url.Values{"name": {"x"}, "days": {"1"}, "scopes": {"cams:view"}}, http.StatusForbidden, "You do not hold scope cams:view"},
		{"OwnPermission", url.Values{"name": {"x"}, "days": {"1"}, "scopes": {issue.PermUsersWrite}}, http.StatusBadRequest, "Scopes: a personal token cannot carry users:write"},
		{"NameTaken", url.Values{"name": {"ci"}, "days": {"1"}}, http.StatusConflict, "You already have a token named &#34;ci&#34;"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/account/tokens", tt.form, c)
			wantPage(t, a, tt.status, `<p class="error" role="alert" id="tokens-error">`+tt.msg)
			if name := tt.form.Get("name"); name != "" && !strings.Contains(a.body, `id="token-name" name="name" type="text" required maxlength="100" value="`+name+`"`) {
				t.Fatalf("the form lost the name %q", name)
			}
		})
	}

	tokens, err := f.svc.ListTokens(context.Background(), u.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens %v, %v; want one", tokens, err)
	}
	wantRedirect(t, f.post(t, "/account/tokens/revoke", url.Values{"id": {tokens[0].ID}}, c), "/account?done=token_revoked")
	f.settle(t)
	if _, err := f.principal(t, m[1]); err == nil {
		t.Fatal("the revoked token still authenticates")
	}
	wantPage(t, f.get(t, "/account?done=token_revoked", c), http.StatusOK, "The token has been revoked.", "<td>revoked</td>")
	wantPage(t, f.post(t, "/account/tokens/revoke", url.Values{"id": {"tok_nosuchtoken00000"}}, c), http.StatusNotFound)
}

func TestPortal_Account_ChangePassword(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	here := f.signIn(t, "vera")
	elsewhere := f.signIn(t, "vera")
	const next = "a-brand-new-password"

	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"Mismatch", url.Values{"current": {"password-of-vera"}, "new": {next}, "repeat": {next + "!"}}, http.StatusBadRequest,
			"The two new passwords differ"},
		{"WrongCurrent", url.Values{"current": {"not-it"}, "new": {next}, "repeat": {next}}, http.StatusUnauthorized,
			"The current password is wrong."},
		{"TooShort", url.Values{"current": {"password-of-vera"}, "new": {"short"}, "repeat": {"short"}}, http.StatusBadRequest,
			"New password: must be at least 12 characters."},
		{"NoCurrent", url.Values{"new": {next}, "repeat": {next}}, http.StatusBadRequest, "Current password: is required."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/account/password", tt.form, here)
			wantPage(t, a, tt.status, `<p class="error" role="alert" id="password-error">`+tt.msg)
		})
	}

	a := f.post(t, "/account/password", url.Values{"current": {"password-of-vera"}, "new": {next}, "repeat": {next}}, here)
	wantRedirect(t, a, "/account?done=password_changed")
	f.settle(t)
	if _, err := f.principal(t, here.Value); err != nil {
		t.Fatalf("the session the change was made from ended: %v", err)
	}
	if _, err := f.principal(t, elsewhere.Value); err == nil {
		t.Fatal("another session survived the password change")
	}
	if n := len(f.sessions(t, u.ID)); n != 1 {
		t.Fatalf("%d live sessions; want 1", n)
	}
	wantPage(t, f.post(t, "/login", url.Values{"login": {"vera"}, "password": {"password-of-vera"}}), http.StatusUnauthorized)
	wantRedirect(t, f.post(t, "/login", url.Values{"login": {"vera"}, "password": {next}}), "/account")
}

func TestPortal_Logout(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	other := f.signIn(t, "vera")

	a := f.post(t, "/logout", url.Values{}, c)
	wantRedirect(t, a, "/login?done=signed_out")
	want := cookieName + "=; Path=/; Domain=home.example; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
	if got := a.Header.Get("Set-Cookie"); got != want {
		t.Fatalf("Set-Cookie %q; want %q", got, want)
	}
	f.settle(t)
	if _, err := f.principal(t, c.Value); err == nil {
		t.Fatal("the cookie still authenticates after sign-out")
	}
	if _, err := f.principal(t, other.Value); err != nil {
		t.Fatalf("signing out one browser ended another: %v", err)
	}
	wantPage(t, f.get(t, "/login?done=signed_out"), http.StatusOK, "You have signed out.")
	wantPage(t, f.get(t, "/account", c), http.StatusUnauthorized, "Your session has ended")

	// Without a session: the cookie is cleared all the same.
	a = f.post(t, "/logout", url.Values{})
	wantRedirect(t, a, "/login?done=signed_out")
	if a.Header.Get("Set-Cookie") != want {
		t.Fatalf("Set-Cookie %q; want %q", a.Header.Get("Set-Cookie"), want)
	}
	if n := len(f.sessions(t, u.ID)); n != 1 {
		t.Fatalf("%d live sessions; want the other browser's", n)
	}
}

func TestPortal_Logout_Everywhere(t *testing.T) {
	f := setup(t, issue.Options{})
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	other := f.signIn(t, "vera")
	wantRedirect(t, f.post(t, "/logout", url.Values{"all": {"1"}}, c), "/login?done=signed_out_all")
	f.settle(t)
	for _, ck := range []*http.Cookie{c, other} {
		if _, err := f.principal(t, ck.Value); err == nil {
			t.Fatal("a session survived signing out everywhere")
		}
	}
	if n := len(f.sessions(t, u.ID)); n != 0 {
		t.Fatalf("%d live sessions; want none", n)
	}
}

func TestPortal_Account_Identities(t *testing.T) {
	f := setup(t, issue.Options{})
	ctx := context.Background()
	u := f.newUser(t, "vera")
	c := f.signIn(t, "vera")
	wantPage(t, f.get(t, "/account", c), http.StatusOK, "<h1>Your account</h1>")
	if a := f.get(t, "/account", c); strings.Contains(a.body, "Linked sign-ins") {
		t.Fatal("the section shows with nothing linked")
	}
	const iss = "https://id.home.example"
	link := func(sub, email string) {
		t.Helper()
		_, err := f.svc.SignInExternal(ctx, "home.example", issue.ExternalIdentity{Provider: "pocket", Issuer: iss, Subject: sub,
			Email: email, EmailVerified: true}, issue.ProviderPolicy{LinkByVerifiedEmail: true}, issue.BrowserSignIn{}, issue.Actor{})
		if err != nil {
			t.Fatal(err)
		}
	}
	link("vera-sub", "vera@example.com")
	otto := f.newUser(t, "otto")
	link("otto-sub", "otto@example.com")

	a := f.get(t, "/account", c)
	wantPage(t, a, http.StatusOK, `<h2 id="identities-h">Linked sign-ins</h2>`, "<td>pocket</td>", "<td>vera@example.com</td>",
		`<input type="hidden" name="issuer" value="`+iss+`"><input type="hidden" name="subject" value="vera-sub">`)
	if strings.Contains(a.body, "otto-sub") {
		t.Fatal("vera's page shows otto's sign-in")
	}

	// Another user's sign-in is as if it did not exist.
	a = f.post(t, "/account/identities/unlink", url.Values{"issuer": {iss}, "subject": {"otto-sub"}}, c)
	wantPage(t, a, http.StatusNotFound, `<p class="error" role="alert">`)
	if ids, err := f.svc.Identities(ctx, otto.ID); err != nil || len(ids) != 1 {
		t.Fatalf("otto's identities %v, %v; want untouched", ids, err)
	}

	wantRedirect(t, f.post(t, "/account/identities/unlink", url.Values{"issuer": {iss}, "subject": {"vera-sub"}}, c),
		"/account?done=identity_unlinked")
	if ids, err := f.svc.Identities(ctx, u.ID); err != nil || len(ids) != 0 {
		t.Fatalf("vera's identities %v, %v; want none", ids, err)
	}
	a = f.get(t, "/account?done=identity_unlinked", c)
	wantPage(t, a, http.StatusOK, "The sign-in has been unlinked.")
	if strings.Contains(a.body, "Linked sign-ins") {
		t.Fatal("the section still shows with nothing linked")
	}
	if _, err := f.principal(t, c.Value); err != nil {
		t.Fatalf("unlinking ended the session: %v", err)
	}
	wantPage(t, f.post(t, "/account/identities/unlink", url.Values{"issuer": {iss}, "subject": {"vera-sub"}}), http.StatusUnauthorized)
}
