package issue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/verify"
)

func TestService_Login_IssuesTokens(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "vera", "viewer")
	admin := a.newUser(t, "ada", "admin")

	tok, err := a.login(t, "VERA@example.com", "password-of-vera") // by email, whatever the case
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != 900 {
		t.Fatalf("token_type %q, expires_in %d; want bearer, 900", tok.TokenType, tok.ExpiresIn)
	}
	if _, err := verify.ParseKey(verify.PrefixRefreshToken, tok.RefreshToken); err != nil {
		t.Fatalf("refresh token %q is not an agr_ credential: %v", tok.RefreshToken, err)
	}
	c := a.claims(t, tok.AccessToken)
	if c.Issuer != "authgate" || !slices.Equal(c.Audience, []string{"authgate"}) || c.Subject != u.ID ||
		c.ID == "" || !strings.HasPrefix(c.SessionID, "ses_") {
		t.Fatalf("claims %+v; want iss and aud authgate, sub %s, a jti and a sid", c, u.ID)
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) != 15*time.Minute || !c.NotBefore.Equal(c.IssuedAt.Time) || !c.IssuedAt.Equal(t0) {
		t.Fatalf("iat %v nbf %v exp %v; want iat = nbf = now, exp 15 minutes later", c.IssuedAt, c.NotBefore, c.ExpiresAt)
	}
	if c.Scope != "keys:read roles:read users:read" || !slices.Equal(c.Roles, []string{"viewer"}) ||
		c.Username != "vera" || c.Email != "vera@example.com" {
		t.Fatalf("scope %q roles %v username %q email %q; want the viewer's", c.Scope, c.Roles, c.Username, c.Email)
	}
	s := a.session(t, c.SessionID)
	if s.UserID != u.ID || s.IP != a.by.IP || s.UserAgent != a.by.UserAgent || !s.IdleExpiresAt.Equal(t0.Add(24*time.Hour)) ||
		!s.ExpiresAt.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("session %+v; want the user's, from the actor, idle 24 h, absolute 7 days", s)
	}

	scopes := strings.Fields(a.claims(t, a.mustLogin(t, "ada").AccessToken).Scope)
	if !slices.Contains(scopes, issue.ScopeAdmin) || !slices.Contains(scopes, issue.PermAuditRead) {
		t.Fatalf("admin %s scopes %v; want authgate:admin and every permission", admin.ID, scopes)
	}
}

func TestService_Login_NoSignerFailsClosed(t *testing.T) {
	b := setup(t) // no Signer
	_, err := b.svc.Login(context.Background(), issue.LoginRequest{Login: "x", Password: "y"}, issue.Actor{})
	if status, _, _ := api.Status(err); status != 500 || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("login without a signer: %v (status %d); want a 500 naming the missing signing key", err, status)
	}
}

func TestService_Login_FailuresLookAlike(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "wendy")
	d := a.newUser(t, "dora")
	if _, err := a.svc.SetUserDisabled(context.Background(), d.ID, true, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	var first error
	for _, tt := range []struct{ name, login, password string }{
		{"UnknownUser", "nobody", "password-of-nobody"},
		{"WrongPassword", "wendy", "not-the-password"},
		{"Disabled", "dora", "password-of-dora"},
	} {
		_, err := a.login(t, tt.login, tt.password)
		if !errors.Is(err, issue.ErrUnauthenticated) || err.Error() != "invalid username or password" {
			t.Fatalf("%s: %v; want ErrUnauthenticated saying invalid username or password", tt.name, err)
		}
		if first != nil && err.Error() != first.Error() {
			t.Fatalf("%s: %q; want the same as %q", tt.name, err, first)
		}
		first = err
	}
	var reasons []string
	for _, m := range a.auditRows(t, "user.login_failed") {
		login, _ := m["login"].(string) // absent for an unknown account: it may be a mistyped password
		reasons = append(reasons, m["reason"].(string)+"/"+login)
	}
	if want := []string{"unknown_user/", "wrong_password/wendy", "disabled/dora"}; !slices.Equal(reasons, want) {
		t.Fatalf("login_failed rows %v; want %v", reasons, want)
	}
}

func TestService_Login_Lockout(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "lou")
	fail := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := a.login(t, "lou", "wrong-password"); !errors.Is(err, issue.ErrUnauthenticated) {
				t.Fatalf("wrong password #%d: %v; want 401", i+1, err)
			}
		}
	}
	fail(5)
	_, err := a.login(t, "lou", "password-of-lou")
	var te *issue.ThrottleError
	if !errors.As(err, &te) || te.RetryAfter != 5*time.Minute {
		t.Fatalf("right password while locked: %v; want a ThrottleError for 5 minutes", err)
	}
	if status, _, _ := api.Status(err); status != 429 {
		t.Fatalf("locked: status %d; want 429", status)
	}
	a.now = a.now.Add(4 * time.Minute)
	if _, err := a.login(t, "lou", "password-of-lou"); !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Fatalf("a minute before the lock ends: %v; want 1 minute to wait", err)
	}
	a.now = a.now.Add(time.Minute)
	a.mustLogin(t, "lou")

	// Success resets the count: 4 + 4 failures around it lock nothing.
	fail(4)
	a.mustLogin(t, "lou")
	fail(4)
	a.mustLogin(t, "lou")
	// So does the window: 4 failures, then 4 more after it, lock nothing.
	fail(4)
	a.now = a.now.Add(15 * time.Minute)
	fail(4)
	a.mustLogin(t, "lou")

	if rows := a.auditRows(t, "user.login_failed"); len(rows) != 5+2+4+4+4+4 {
		t.Fatalf("%d login_failed rows; want one per failure", len(rows))
	} else if rows[4]["locked_until"] == nil || rows[5]["reason"] != "locked" {
		t.Fatalf("rows %v, %v; want the 5th to lock and the 6th to say locked", rows[4], rows[5])
	}
}

func TestService_Login_ThrottlesPerIP(t *testing.T) {
	a := setupAuth(t, issue.Options{LockoutThreshold: 2}) // 8 attempts per IP per 15 minutes
	a.newUser(t, "ivy")
	for i := range 8 {
		if _, err := a.login(t, "nobody", "x"); !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("attempt %d: %v; want 401", i+1, err)
		}
	}
	_, err := a.login(t, "ivy", "password-of-ivy")
	var te *issue.ThrottleError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > 15*time.Minute/8 {
		t.Fatalf("9th attempt: %v; want a ThrottleError for at most one refill interval", err)
	}
	other := a.by
	other.IP = "192.0.2.99"
	if _, err := a.svc.Login(context.Background(), issue.LoginRequest{Login: "ivy", Password: "password-of-ivy"}, other); err != nil {
		t.Fatalf("another IP: %v; want it let through", err)
	}
	a.now = a.now.Add(te.RetryAfter)
	a.mustLogin(t, "ivy")
	// Successful logins are given back: they never use the allowance up.
	for range 10 {
		a.mustLogin(t, "ivy")
	}
}

func TestService_Refresh_Rotates(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "rita")
	r0 := a.mustLogin(t, "rita")
	sid := a.claims(t, r0.AccessToken).SessionID
	a.now = a.now.Add(time.Minute)
	r1, err := a.refresh(r0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	c := a.claims(t, r1.AccessToken)
	if r1.RefreshToken == r0.RefreshToken || c.SessionID != sid || c.Subject != u.ID || !c.IssuedAt.Equal(a.now) {
		t.Fatalf("refresh gave %+v (claims %+v); want a new refresh token and a fresh access token of the same session", r1, c)
	}
	if s := a.session(t, sid); !s.RefreshedAt.Equal(a.now) || !s.IdleExpiresAt.Equal(a.now.Add(24*time.Hour)) {
		t.Fatalf("session %+v; want it touched", s)
	}
	// The old token again, after the grace: it was copied. The session ends.
	a.now = a.now.Add(11 * time.Second)
	for _, tok := range []string{r0.RefreshToken, r1.RefreshToken} {
		if _, err := a.refresh(tok); !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("after reuse: %v; want 401 for both tokens", err)
		}
	}
	if s := a.session(t, sid); s.RevokedAt == nil || *s.RevokeReason != issue.ReasonReuse {
		t.Fatalf("session %+v; want it revoked for reuse", s)
	}
	revs, err := a.store.SessionRevocationsSince(context.Background(), 0, a.now)
	if err != nil || len(revs) != 1 || revs[0].SessionID != sid || !revs[0].ExpiresAt.Equal(a.now.Add(15*time.Minute+30*time.Second)) {
		t.Fatalf("deny-list %+v, %v; want the session until now + access TTL + leeway", revs, err)
	}
	rows := a.auditRows(t, "session.revoke")
	if len(rows) != 1 || rows[0]["reason"] != issue.ReasonReuse || rows[0]["_resource_id"] != sid {
		t.Fatalf("session.revoke rows %v; want one, reason reuse", rows)
	}
	if rows := a.auditRows(t, "session.refresh"); len(rows) != 1 || rows[0]["_actor"] != "user:"+u.ID {
		t.Fatalf("session.refresh rows %v; want one, by the user", rows)
	}
}

func TestService_Refresh_RacesGetOneSuccessor(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "rob")
	r0 := a.mustLogin(t, "rob")

	var wg sync.WaitGroup
	got := make([]issue.Tokens, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { got[i], errs[i] = a.refresh(r0.RefreshToken) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("racing refreshes: %v, %v; want both to succeed", errs[0], errs[1])
	}
	if got[0].RefreshToken != got[1].RefreshToken {
		t.Fatal("racing refreshes got different refresh tokens; want the same successor")
	}
	if got[0].AccessToken == got[1].AccessToken {
		t.Fatal("racing refreshes got the same access token; want one each")
	}
	// Sequentially within the grace: the same successor again.
	a.now = a.now.Add(9 * time.Second)
	again, err := a.refresh(r0.RefreshToken)
	if err != nil || again.RefreshToken != got[0].RefreshToken {
		t.Fatalf("within the grace: %v; want the same successor", err)
	}
	// The successor works, and rotates in turn.
	next, err := a.refresh(got[0].RefreshToken)
	if err != nil || next.RefreshToken == got[0].RefreshToken {
		t.Fatalf("refresh with the successor: %v", err)
	}
	if rows := a.auditRows(t, "session.refresh"); len(rows) != 4 || rows[1]["within_grace"] != true {
		t.Fatalf("session.refresh rows %v; want 4, the second within the grace", rows)
	}
}

func TestService_Refresh_Expiry(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "ed")

	t.Run("Idle", func(t *testing.T) {
		tok := a.mustLogin(t, "ed")
		a.now = a.now.Add(24*time.Hour - time.Second)
		tok, err := a.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatalf("just before the idle expiry: %v", err)
		}
		a.now = a.now.Add(24 * time.Hour)
		if _, err := a.refresh(tok.RefreshToken); !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("idle for 24 h: %v; want 401", err)
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		tok := a.mustLogin(t, "ed")
		start := a.now
		for a.now.Sub(start) < 7*24*time.Hour-20*time.Hour {
			a.now = a.now.Add(20 * time.Hour)
			var err error
			if tok, err = a.refresh(tok.RefreshToken); err != nil {
				t.Fatalf("refresh %v after login: %v", a.now.Sub(start), err)
			}
			sid := a.claims(t, tok.AccessToken).SessionID
			if s := a.session(t, sid); s.IdleExpiresAt.After(s.ExpiresAt) {
				t.Fatalf("idle expiry %v after the absolute %v", s.IdleExpiresAt, s.ExpiresAt)
			}
			if exp := a.claims(t, tok.AccessToken).ExpiresAt.Time; exp.After(start.Add(7 * 24 * time.Hour)) {
				t.Fatalf("access token expires %v, after its session", exp)
			}
		}
		a.now = start.Add(7 * 24 * time.Hour)
		if _, err := a.refresh(tok.RefreshToken); !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("7 days after login: %v; want 401", err)
		}
	})
}

func TestService_Refresh_RereadsRolesAndUser(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	u := a.newUser(t, "rae")
	tok := a.mustLogin(t, "rae")
	if c := a.claims(t, tok.AccessToken); c.Scope != "" || len(c.Roles) != 0 {
		t.Fatalf("no roles: scope %q roles %v; want none", c.Scope, c.Roles)
	}
	if _, err := a.svc.AssignRole(context.Background(), u.ID, "operator", issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	tok, err := a.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if c := a.claims(t, tok.AccessToken); !strings.Contains(c.Scope, issue.PermSessionsWrite) || !slices.Equal(c.Roles, []string{"operator"}) {
		t.Fatalf("after assigning operator: scope %q roles %v", c.Scope, c.Roles)
	}
	if _, err := a.svc.SetUserDisabled(context.Background(), u.ID, true, issue.Actor{ID: "test", Authority: issue.AllAuthority()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.refresh(tok.RefreshToken); !errors.Is(err, issue.ErrUnauthenticated) {
		t.Fatalf("disabled user: %v; want 401", err)
	}
}

func TestService_Refresh_RefusesOtherCredentials(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "otto")
	tok := a.mustLogin(t, "otto")
	forged := verify.NewKey(verify.PrefixRefreshToken).Reveal()
	wrong := must(verify.ParseKey(verify.PrefixRefreshToken, tok.RefreshToken))(t)
	wrong.Secret = verify.NewKey(verify.PrefixRefreshToken).Secret
	badSum := tok.RefreshToken[:len(tok.RefreshToken)-1] + "x"
	if badSum == tok.RefreshToken {
		badSum = badSum[:len(badSum)-1] + "y"
	}
	tests := []struct {
		name, token string
		want        error
	}{
		{"Empty", "", issue.ErrInvalid},
		{"APIKey", a.admin, issue.ErrInvalid},
		{"AccessToken", tok.AccessToken, issue.ErrInvalid},
		{"Garbage", "agr_garbage", issue.ErrUnauthenticated},
		{"BadChecksum", badSum, issue.ErrUnauthenticated},
		{"UnknownLookupID", forged, issue.ErrUnauthenticated},
		{"WrongSecret", wrong.Reveal(), issue.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.refresh(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("%v; want %v", err, tt.want)
			}
			if tt.want == issue.ErrInvalid && tt.token != "" && !strings.Contains(err.Error(), "agr_") {
				t.Fatalf("%q does not say a refresh token (agr_…) is needed", err)
			}
		})
	}
	if _, err := a.refresh(tok.RefreshToken); err != nil {
		t.Fatalf("the real token after the failures: %v; want it still good", err)
	}
}

func TestService_Login_SessionCap(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "cap")
	var toks []issue.Tokens
	for range 6 {
		toks = append(toks, a.mustLogin(t, "cap"))
		a.now = a.now.Add(time.Second)
	}
	first := a.claims(t, toks[0].AccessToken).SessionID
	if s := a.session(t, first); s.RevokedAt == nil || *s.RevokeReason != issue.ReasonEvicted {
		t.Fatalf("oldest session %+v; want it evicted", s)
	}
	revs, err := a.store.SessionRevocationsSince(context.Background(), 0, a.now)
	if err != nil || len(revs) != 1 || revs[0].SessionID != first {
		t.Fatalf("deny-list %+v, %v; want the evicted session", revs, err)
	}
	if _, err := a.refresh(toks[0].RefreshToken); !errors.Is(err, issue.ErrUnauthenticated) {
		t.Fatalf("evicted session's refresh token: %v; want 401", err)
	}
	for i, tok := range toks[1:] {
		if _, err := a.refresh(tok.RefreshToken); err != nil {
			t.Fatalf("session %d: %v; want it live", i+2, err)
		}
	}
	if rows := a.auditRows(t, "session.revoke"); len(rows) != 1 || rows[0]["reason"] != issue.ReasonEvicted {
		t.Fatalf("session.revoke rows %v; want one, evicted", rows)
	}
}

func TestService_Audit_NoSecrets(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	a.newUser(t, "sam")
	secrets := []string{"password-of-sam", "wrong-password-1", "wrong-password-2"}
	a.login(t, "sam", "wrong-password-1")
	a.login(t, "nobody", "wrong-password-2")
	t1 := a.mustLogin(t, "sam")
	t2, err := a.refresh(t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	a.now = a.now.Add(time.Minute)
	a.refresh(t1.RefreshToken) // reuse: revokes
	t3 := a.mustLogin(t, "sam")
	c3 := a.claims(t, t3.AccessToken)
	if err := a.svc.Logout(context.Background(), c3.Subject, c3.SessionID, false, a.by); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []issue.Tokens{t1, t2, t3} {
		k := must(verify.ParseKey(verify.PrefixRefreshToken, tok.RefreshToken))(t)
		secrets = append(secrets, tok.RefreshToken, k.Secret, tok.AccessToken, strings.Split(tok.AccessToken, ".")[2])
	}
	actions := map[string]int{}
	for _, e := range a.audit(t) {
		actions[string(e.Action)]++
		text := strings.Join([]string{e.Actor, e.ResourceID, e.IP, e.UserAgent, e.RequestID, string(e.Metadata)}, " ")
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("audit row %d (%s) holds a secret: %s", e.ID, e.Action, text)
			}
		}
	}
	for action, n := range map[string]int{"user.login_failed": 2, "user.login": 2, "session.refresh": 1, "session.revoke": 2} {
		if actions[action] != n {
			t.Errorf("%d %s rows; want %d (all: %v)", actions[action], action, n, actions)
		}
	}
}
