package issue_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// signIn signs username in on the portal with their password.
func (a *apiBundle) signIn(t *testing.T, username string, remember bool) (issue.BrowserSession, error) {
	t.Helper()
	return a.svc.SignIn(context.Background(), "home.example", issue.LoginRequest{Login: username, Password: "password-of-" + username,
		DeviceName: "Firefox on Linux", Remember: remember}, a.by)
}

func (a *apiBundle) mustSignIn(t *testing.T, username string, remember bool) issue.BrowserSession {
	t.Helper()
	bs, err := a.signIn(t, username, remember)
	if err != nil {
		t.Fatalf("sign in %s: %v", username, err)
	}
	return bs
}

func TestService_SignIn_StartsABrowserSession(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		name     string
		remember bool
		idle     time.Duration
	}{
		{"BrowserSession", false, day},
		{"RememberThisDevice", true, 30 * day},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := setupAuth(t, issue.Options{})
			u := a.newUser(t, "bea", "viewer")
			bs := a.mustSignIn(t, "bea", tt.remember)
			if bs.UserID != u.ID || !strings.HasPrefix(bs.ID, "ses_") || !bs.ExpiresAt.Equal(t0.Add(90*day)) || bs.Remember != tt.remember {
				t.Fatalf("got %+v; want bea's session, ending 90 days from now, remember %v", bs, tt.remember)
			}
			key, err := verify.ParseKey(verify.PrefixSession, bs.Cookie)
			if err != nil {
				t.Fatalf("cookie %q is not an %s credential: %v", bs.Cookie, verify.PrefixSession, err)
			}
			rec, err := a.store.SessionByCookie(context.Background(), key.LookupID)
			if err != nil || rec.ID != bs.ID || !a.hasher.Equal(rec.MACVersion, key.Secret, rec.SecretMAC) ||
				strings.Contains(string(rec.SecretMAC), key.Secret) {
				t.Fatalf("stored %+v, %v; want the session, the cookie's secret only as its MAC", rec, err)
			}
			if !rec.ExpiresAt.Equal(t0.Add(tt.idle)) || rec.Scopes == nil || rec.Username != "bea" {
				t.Fatalf("record %+v; want it to expire after %v idle, with bea's scopes", rec, tt.idle)
			}
			s := a.session(t, bs.ID)
			if s.Kind != issue.SessionBrowser || s.DeviceName != "Firefox on Linux" || s.IdleTTL != tt.idle ||
				s.Remember != tt.remember || !s.IdleExpiresAt.Equal(t0.Add(tt.idle)) || s.IP != a.by.IP {
				t.Fatalf("session %+v; want a browser session idle %v, from the actor", s, tt.idle)
			}
			rows := a.auditRows(t, "user.login")
			if len(rows) != 1 || rows[0]["kind"] != issue.SessionBrowser || rows[0]["session_id"] != bs.ID ||
				rows[0]["_actor"] != "user:"+u.ID {
				t.Fatalf("user.login rows %v; want one, kind browser, by the user", rows)
			}
			for _, e := range a.audit(t) {
				if strings.Contains(string(e.Metadata), key.Secret) {
					t.Fatalf("audit row %s holds the cookie's secret: %s", e.Action, e.Metadata)
				}
			}
		})
	}
}

func TestService_SignIn_CookieAuthenticates(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "vic", "viewer")
	bs := a.mustSignIn(t, "vic", false)
	v, err := verify.NewVerifier(a.store, a.hasher, verify.Options{Now: func() time.Time { return a.now },
		Logger:   slog.New(slog.DiscardHandler),
		Sessions: &verify.SessionOptions{Store: a.store, Revoked: a.deny, Cookie: "authgate_session"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(context.Background(), bs.Cookie)
	if err != nil || p.Kind != verify.KindSession || p.Subject != u.ID || p.SessionID != bs.ID || p.User != "vic" ||
		!slices.Equal(p.Scopes, []string{"keys:read", "roles:read", "users:read"}) {
		t.Fatalf("got %+v, %v; want vic's session with the viewer's scopes", p, err)
	}
	if err := a.svc.Logout(context.Background(), u.ID, bs.ID, false, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	a.syncDenyList(t)
	if _, err := v.Authenticate(context.Background(), bs.Cookie); !errors.Is(err, verify.ErrRevoked) {
		t.Fatalf("after sign-out: %v; want ErrRevoked", err)
	}
}

func TestService_SignIn_NewCookieEveryTime(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "nia")
	first, second := a.mustSignIn(t, "nia", false), a.mustSignIn(t, "nia", false)
	if first.Cookie == second.Cookie || first.ID == second.ID {
		t.Fatalf("two sign-ins got cookie %q and %q; want a new session and cookie each", first.Cookie, second.Cookie)
	}
}

func TestService_SignIn_NeedsNoSigner(t *testing.T) {
	b := setup(t) // no Signer: logins through the API fail closed, sign-ins need none
	if _, err := b.svc.CreateUser(context.Background(), issue.UserRequest{Username: "sid", Email: "sid@example.com",
		Password: "password-of-sid"}, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.SignIn(context.Background(), "home.example", issue.LoginRequest{Login: "sid", Password: "password-of-sid"}, issue.Actor{}); err != nil {
		t.Fatalf("sign in without a signing key: %v; want a session", err)
	}
}

func TestService_SignIn_SessionCapCountsBothKinds(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "cap")
	var ids []string
	next := func(browser bool) {
		t.Helper()
		if browser {
			ids = append(ids, a.mustSignIn(t, "cap", false).ID)
		} else {
			ids = append(ids, a.claims(t, a.mustLogin(t, "cap").AccessToken).SessionID)
		}
		a.now = a.now.Add(time.Second)
	}
	next(true) // the oldest, evicted by the 6th
	for range 4 {
		next(false)
	}
	next(true)
	next(false) // the 7th evicts the oldest API session
	for i, id := range ids {
		s := a.session(t, id)
		if evicted := i < 2; (s.RevokedAt != nil) != evicted || evicted && *s.RevokeReason != issue.ReasonEvicted {
			t.Errorf("session %d (%s): revoked %v (%v); want evicted %v", i+1, s.Kind, s.RevokedAt, s.RevokeReason, evicted)
		}
	}
	live, err := a.svc.Sessions(context.Background(), a.session(t, ids[0]).UserID)
	if err != nil || len(live) != 5 {
		t.Fatalf("live sessions %d, %v; want 5", len(live), err)
	}
}

func TestService_SignIn_FailsAsLoginDoes(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "wes")
	d := a.newUser(t, "dot")
	if _, err := a.svc.SetUserDisabled(context.Background(), d.ID, true, issue.CLI()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, login, password string }{
		{"UnknownUser", "nobody", "password-of-nobody"},
		{"WrongPassword", "wes", "not-the-password"},
		{"Disabled", "dot", "password-of-dot"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.svc.SignIn(context.Background(), "home.example", issue.LoginRequest{Login: tt.login, Password: tt.password}, a.by)
			_, lerr := a.login(t, tt.login, tt.password)
			if !errors.Is(err, issue.ErrUnauthenticated) || lerr == nil || err.Error() != lerr.Error() {
				t.Fatalf("got %v; want %v, as Login answers", err, lerr)
			}
		})
	}
	if rows := a.auditRows(t, "user.login_failed"); len(rows) != 6 {
		t.Fatalf("%d login_failed rows; want one per attempt, sign-in or login", len(rows))
	}
}

func TestService_SignIn_SharesTheLockout(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "lou")
	for i := range 5 { // sign-ins and logins count together
		var err error
		if i%2 == 0 {
			_, err = a.svc.SignIn(context.Background(), "home.example", issue.LoginRequest{Login: "lou", Password: "wrong-password"}, a.by)
		} else {
			_, err = a.login(t, "lou", "wrong-password")
		}
		if !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("wrong password #%d: %v; want 401", i+1, err)
		}
	}
	var te *issue.ThrottleError
	if _, err := a.signIn(t, "lou", false); !errors.As(err, &te) || te.RetryAfter != 5*time.Minute {
		t.Fatalf("right password while locked: %v; want a ThrottleError for 5 minutes", err)
	}
	a.now = a.now.Add(5 * time.Minute)
	a.mustSignIn(t, "lou", false)
	release := a.svc.HoldHashSlots()
	defer release()
	if _, err := a.signIn(t, "lou", false); !errors.Is(err, issue.ErrBusy) {
		t.Fatalf("every hash slot taken: %v; want ErrBusy", err)
	}
}

func TestService_CallerAuthority_Session(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "opal", "operator")
	ctx := context.Background()
	got, err := a.svc.CallerAuthority(ctx, &verify.Principal{Kind: verify.KindSession, Subject: u.ID})
	if err != nil || !got.Holds(issue.PermSessionsWrite) || got.Holds(issue.PermUsersWrite) || got.All() {
		t.Fatalf("got %+v, %v; want the operator's permissions, as for a JWT", got, err)
	}
	if _, err := a.svc.UnassignRole(ctx, u.ID, "operator", issue.CLI()); err != nil {
		t.Fatal(err)
	}
	if got, err := a.svc.CallerAuthority(ctx, &verify.Principal{Kind: verify.KindSession, Subject: u.ID}); err != nil ||
		got.Holds(issue.PermSessionsWrite) {
		t.Fatalf("after the role is taken away: %+v, %v; want it gone at once", got, err)
	}
}

func TestService_EndOtherSessions(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "oli")
	keep, other := a.mustSignIn(t, "oli", false), a.mustSignIn(t, "oli", true)
	api := a.mustLogin(t, "oli")
	by, err := a.svc.CallerAuthority(context.Background(), &verify.Principal{Kind: verify.KindSession, Subject: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	ended, err := a.svc.EndOtherSessions(context.Background(), u.ID, keep.ID, issue.Actor{ID: "user:" + u.ID, Authority: by})
	if err != nil || len(ended) != 2 || !slices.Contains(ended, other.ID) || slices.Contains(ended, keep.ID) {
		t.Fatalf("ended %v, %v; want the other browser session and the API session, not %s", ended, err, keep.ID)
	}
	if s := a.session(t, keep.ID); s.RevokedAt != nil {
		t.Fatalf("the kept session ended: %+v", s)
	}
	if s := a.session(t, other.ID); s.RevokedAt == nil || *s.RevokeReason != issue.ReasonLogout {
		t.Fatalf("the other session: %+v; want ended with reason logout", s)
	}
	if _, err := a.refresh(api.RefreshToken); err == nil {
		t.Fatal("the API session's refresh token still works; want it ended too")
	}
}
