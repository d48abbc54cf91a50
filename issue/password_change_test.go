package issue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// changer is a user with three sessions: the browser session the change is
// made from, another browser session and an API session.
type changer struct {
	user                  issue.User
	by                    issue.Actor
	keep, browser, apiSes string
}

func newChanger(t *testing.T, a *apiBundle) changer {
	t.Helper()
	u := a.newUser(t, "cody", "viewer")
	c := changer{user: u, keep: a.mustSignIn(t, "cody", false).ID, browser: a.mustSignIn(t, "cody", true).ID,
		apiSes: a.claims(t, a.mustLogin(t, "cody").AccessToken).SessionID}
	held, err := a.svc.CallerAuthority(context.Background(), &verify.Principal{Kind: verify.KindSession, Subject: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	c.by = issue.Actor{ID: "user:" + u.ID, IP: a.by.IP, UserAgent: "test", Authority: held}
	return c
}

func TestService_ChangePassword(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	c := newChanger(t, a)
	ctx := context.Background()
	if err := a.svc.ChangePassword(ctx, c.user.ID, "password-of-cody", "a brand new passphrase", c.keep, c.by); err != nil {
		t.Fatal(err)
	}
	for id, live := range map[string]bool{c.keep: true, c.browser: false, c.apiSes: false} {
		if s := a.session(t, id); (s.RevokedAt == nil) != live || !live && *s.RevokeReason != issue.ReasonRevoked {
			t.Errorf("%s session %s: revoked %v; want live %v", s.Kind, id, s.RevokedAt, live)
		}
	}
	revs, err := a.store.SessionRevocationsSince(ctx, 0, a.now)
	if err != nil || len(revs) != 2 {
		t.Fatalf("deny-list %+v, %v; want the two other sessions", revs, err)
	}
	if _, err := a.login(t, "cody", "password-of-cody"); !errors.Is(err, issue.ErrUnauthenticated) {
		t.Fatalf("login with the old password: %v; want 401", err)
	}
	if _, err := a.login(t, "cody", "a brand new passphrase"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	rows := a.auditRows(t, "user.password_change")
	if len(rows) != 1 || rows[0]["_outcome"] != issue.OutcomeSuccess || rows[0]["sessions_revoked"] != 2.0 ||
		rows[0]["_actor"] != "user:"+c.user.ID {
		t.Fatalf("user.password_change rows %v; want one success by the user, two sessions ended", rows)
	}
	if rows := a.auditRows(t, "session.revoke"); len(rows) != 2 {
		t.Fatalf("session.revoke rows %v; want one per session ended", rows)
	}
}

func TestService_ChangePassword_KeepNone(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	c := newChanger(t, a)
	if err := a.svc.ChangePassword(context.Background(), c.user.ID, "password-of-cody", "a brand new passphrase", "", c.by); err != nil {
		t.Fatal(err)
	}
	if live, err := a.svc.Sessions(context.Background(), c.user.ID); err != nil || len(live) != 0 {
		t.Fatalf("live sessions %v, %v; want none", live, err)
	}
}

func TestService_ChangePassword_Refused(t *testing.T) {
	a := setupAuth(t, issue.Options{})
	c := newChanger(t, a)
	stranger := issue.Actor{ID: "user:usr_other", IP: a.by.IP} // holds nothing; cody holds viewer's
	for _, tt := range []struct {
		name           string
		current, next  string
		by             issue.Actor
		want           error
		field, outcome string
	}{
		{"WrongCurrent", "not-the-password", "a brand new passphrase", c.by, issue.ErrUnauthenticated, "", issue.OutcomeFailure},
		{"NoCurrent", "", "a brand new passphrase", c.by, issue.ErrInvalid, "current_password", ""},
		{"NextTooShort", "password-of-cody", "short", c.by, issue.ErrInvalid, "new_password", ""},
		{"CallerLacksTheUsersPermissions", "password-of-cody", "a brand new passphrase", stranger, issue.ErrPermission, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(a.auditRows(t, "user.password_change"))
			err := a.svc.ChangePassword(context.Background(), c.user.ID, tt.current, tt.next, c.keep, tt.by)
			var fe *issue.FieldError
			if !errors.Is(err, tt.want) || tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Fatalf("got %v; want %v naming %q", err, tt.want, tt.field)
			}
			rows := a.auditRows(t, "user.password_change")[before:]
			if tt.outcome == "" && len(rows) != 0 || tt.outcome != "" && (len(rows) != 1 || rows[0]["_outcome"] != tt.outcome) {
				t.Fatalf("new user.password_change rows %v; want outcome %q", rows, tt.outcome)
			}
			if live, err := a.svc.Sessions(context.Background(), c.user.ID); err != nil || len(live) != 3 {
				t.Fatalf("live sessions %d, %v; want all 3: nothing changes", len(live), err)
			}
			u, err := a.store.UserByID(context.Background(), c.user.ID)
			if err != nil || u.PasswordHash != c.user.PasswordHash || u.FailedLogins != 0 {
				t.Fatalf("user %+v, %v; want the password and the failed logins as they were", u, err)
			}
		})
	}
}

func TestService_ChangePassword_Throttled(t *testing.T) {
	a := setupAuth(t, issue.Options{LockoutThreshold: 2}) // 8 attempts per IP per 15 minutes
	c := newChanger(t, a)
	for i := range 8 {
		if err := a.svc.ChangePassword(context.Background(), c.user.ID, "wrong", "a brand new passphrase", c.keep, c.by); !errors.Is(err, issue.ErrUnauthenticated) {
			t.Fatalf("attempt %d: %v; want 401", i+1, err)
		}
	}
	var te *issue.ThrottleError
	err := a.svc.ChangePassword(context.Background(), c.user.ID, "password-of-cody", "a brand new passphrase", c.keep, c.by)
	if !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Fatalf("9th attempt: %v; want a ThrottleError", err)
	}
}
