package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// newBrowserSession stores a browser session of userID signed in at createdAt,
// idle for idle, ending 90 days later, with cookie lookup id lookupID.
func newBrowserSession(t *testing.T, store *db.DB, userID, lookupID string, createdAt time.Time, idle time.Duration) issue.Session {
	t.Helper()
	s := issue.Session{ID: "ses_" + verify.RandomString(16), UserID: userID, Kind: issue.SessionBrowser,
		DeviceName: "Firefox on Linux", CreatedAt: createdAt, RefreshedAt: createdAt, IdleExpiresAt: createdAt.Add(idle),
		ExpiresAt: createdAt.Add(90 * 24 * time.Hour), IP: "192.0.2.1", UserAgent: "test", Remember: idle > 24*time.Hour,
		IdleTTL: idle}
	c := issue.SessionCookie{LookupID: lookupID, SecretMAC: []byte("mac-" + lookupID), MACVersion: 1, Domain: "home.example"}
	if err := store.SessionInsertBrowser(context.Background(), s, c); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDB_SessionInsertBrowser(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	api := newSession(t, store, u.ID, t0)
	s := newBrowserSession(t, store, u.ID, "lookup000001", t0.Add(time.Second), 30*24*time.Hour)

	got, err := store.SessionByID(ctx, s.ID)
	if err != nil || got.Kind != issue.SessionBrowser || got.DeviceName != s.DeviceName || !got.Remember ||
		got.IdleTTL != 30*24*time.Hour || !got.IdleExpiresAt.Equal(s.IdleExpiresAt) {
		t.Fatalf("SessionByID = %+v, %v; want %+v", got, err, s)
	}
	if got, _ := store.SessionByID(ctx, api.ID); got.Kind != issue.SessionAPI || got.IdleTTL != 0 || got.Remember {
		t.Fatalf("API session read back as %+v; want kind api, no idle lifetime of its own", got)
	}
	live, err := store.SessionListLive(ctx, u.ID, t0.Add(time.Minute))
	var kinds []string
	for _, l := range live {
		kinds = append(kinds, l.Kind)
	}
	if want := []string{issue.SessionAPI, issue.SessionBrowser}; err != nil || !slices.Equal(kinds, want) {
		t.Fatalf("SessionListLive kinds = %v, %v; want %v: both kinds count towards the cap", kinds, err, want)
	}
	for _, tc := range []struct {
		name   string
		s      issue.Session
		cookie string
		want   error
	}{
		{"TakenLookupID", issue.Session{ID: "ses_other", UserID: u.ID, IdleTTL: time.Hour}, "lookup000001", issue.ErrConflict},
		{"UnknownUser", issue.Session{ID: "ses_other", UserID: "usr_nope", IdleTTL: time.Hour}, "lookup000002", verify.ErrNotFound},
		{"NoIdleLifetime", issue.Session{ID: "ses_other", UserID: u.ID}, "lookup000003", issue.ErrInvalid},
		{"DeviceNameTooLong", issue.Session{ID: "ses_other", UserID: u.ID, IdleTTL: time.Hour,
			DeviceName: strings.Repeat("x", 101)}, "lookup000004", issue.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.CreatedAt, tc.s.RefreshedAt, tc.s.IdleExpiresAt, tc.s.ExpiresAt = t0, t0, t0, t0
			err := store.SessionInsertBrowser(ctx, tc.s, issue.SessionCookie{LookupID: tc.cookie, SecretMAC: []byte("m"), MACVersion: 1, Domain: "home.example"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
		})
	}
}

func TestDB_SessionByCookie(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	ann, bob, cat := newUser(t, store, "ann", t0), newUser(t, store, "bob", t0), newUser(t, store, "cat", t0)
	must(t, store.UserRoleAssign(ctx, ann.ID, "viewer"))
	must(t, store.UserRoleAssign(ctx, cat.ID, issue.RoleAdmin))
	live := newBrowserSession(t, store, ann.ID, "annlookup001", t0, 24*time.Hour)
	revoked := newBrowserSession(t, store, ann.ID, "annlookup002", t0, 24*time.Hour)
	if _, err := store.SessionRevoke(ctx, revoked.ID, t0.Add(time.Minute), issue.ReasonLogout, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	disabled := newBrowserSession(t, store, bob.ID, "boblookup001", t0, 24*time.Hour)
	if _, err := store.UserSetDisabled(ctx, bob.ID, &t0); err != nil {
		t.Fatal(err)
	}
	admin := newBrowserSession(t, store, cat.ID, "catlookup001", t0, 24*time.Hour)
	nearEnd := newBrowserSession(t, store, cat.ID, "catlookup002", t0.Add(-90*24*time.Hour+time.Hour), 24*time.Hour)
	must(t, store.SessionTouch(ctx, nearEnd.ID, t0, t0.Add(24*time.Hour))) // the idle expiry after the absolute

	for _, tc := range []struct {
		name, lookupID string
		want           verify.SessionRecord
	}{
		{"Live", "annlookup001", verify.SessionRecord{ID: live.ID, ExpiresAt: live.IdleExpiresAt, UserID: ann.ID,
			Username: "ann", Roles: []string{"viewer"}, Scopes: []string{"keys:read", "roles:read", "users:read"}}},
		{"Revoked", "annlookup002", verify.SessionRecord{ID: revoked.ID, ExpiresAt: revoked.IdleExpiresAt,
			RevokedAt: t0.Add(time.Minute), UserID: ann.ID, Username: "ann", Roles: []string{"viewer"},
			Scopes: []string{"keys:read", "roles:read", "users:read"}}},
		{"UserDisabled", "boblookup001", verify.SessionRecord{ID: disabled.ID, ExpiresAt: disabled.IdleExpiresAt,
			UserID: bob.ID, Username: "bob", Roles: []string{}, Scopes: []string{}, UserDisabled: true}},
		{"AbsoluteExpiryFirst", "catlookup002", verify.SessionRecord{ID: nearEnd.ID, ExpiresAt: nearEnd.ExpiresAt,
			UserID: cat.ID, Username: "cat", Roles: []string{issue.RoleAdmin}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.SessionByCookie(ctx, tc.lookupID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.want.ID || got.LookupID != tc.lookupID || string(got.SecretMAC) != "mac-"+tc.lookupID ||
				got.MACVersion != 1 || got.Domain != "home.example" || !got.ExpiresAt.Equal(tc.want.ExpiresAt) || !got.RevokedAt.Equal(tc.want.RevokedAt) ||
				got.UserID != tc.want.UserID || got.Username != tc.want.Username ||
				got.Email != tc.want.Username+"@example.com" || !slices.Equal(got.Roles, tc.want.Roles) ||
				got.UserDisabled != tc.want.UserDisabled || (tc.want.Scopes != nil && !slices.Equal(got.Scopes, tc.want.Scopes)) {
				t.Fatalf("got %+v; want %+v", got, tc.want)
			}
		})
	}
	t.Run("AdminHoldsEverything", func(t *testing.T) {
		got, err := store.SessionByCookie(ctx, "catlookup001")
		if err != nil || got.ID != admin.ID || !slices.Contains(got.Scopes, issue.ScopeAdmin) ||
			!slices.Contains(got.Scopes, issue.PermAuditRead) || !slices.IsSorted(got.Scopes) {
			t.Fatalf("got %+v, %v; want the admin's scopes, sorted: %s and every permission", got, err, issue.ScopeAdmin)
		}
	})
	t.Run("PermissionsAfterARoleChange", func(t *testing.T) {
		must(t, store.UserRoleUnassign(ctx, ann.ID, "viewer"))
		must(t, store.UserRoleAssign(ctx, ann.ID, "operator"))
		got, err := store.SessionByCookie(ctx, "annlookup001")
		want := []string{"audit:read", "keys:read", "keys:write", "roles:read", "sessions:write", "users:read"}
		if err != nil || !slices.Equal(got.Roles, []string{"operator"}) || !slices.Equal(got.Scopes, want) {
			t.Fatalf("got roles %v scopes %v, %v; want operator's now: %v", got.Roles, got.Scopes, err, want)
		}
	})
	for _, tc := range []struct{ name, lookupID string }{
		{"UnknownLookupID", "nolookup0001"},
		{"Empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := store.SessionByCookie(ctx, tc.lookupID); !errors.Is(err, verify.ErrNotFound) {
				t.Fatalf("err = %v; want ErrNotFound", err)
			}
		})
	}
	t.Run("UserDeleted", func(t *testing.T) {
		must(t, store.UserDelete(ctx, bob.ID))
		if _, err := store.SessionByCookie(ctx, "boblookup001"); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("err = %v; want ErrNotFound", err)
		}
	})
}

func TestDB_SessionsTouch(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		created time.Time                       // the session's sign-in; it ends 90 days later
		arrange func(t *testing.T, id string)   // before the touch
		at      time.Time                       // the touch
		want    func(s issue.Session) time.Time // idle expiry after it
		seen    time.Time                       // last seen after it
	}{
		{"SlidesIdle", t0, nil, t0.Add(time.Hour),
			func(issue.Session) time.Time { return t0.Add(time.Hour + day) }, t0.Add(time.Hour)},
		{"NeverBeyondAbsolute", t0.Add(-90*day + 2*time.Hour), func(t *testing.T, id string) {
			must(t, store.SessionTouch(ctx, id, t0.Add(-time.Hour), t0.Add(time.Hour))) // live, two hours left
		}, t0, func(s issue.Session) time.Time { return s.ExpiresAt }, t0},
		{"NotRevoked", t0, func(t *testing.T, id string) {
			if _, err := store.SessionRevoke(ctx, id, t0, issue.ReasonLogout, t0); err != nil {
				t.Fatal(err)
			}
		}, t0.Add(time.Hour), func(s issue.Session) time.Time { return s.IdleExpiresAt }, t0},
		{"NotBackwards", t0, func(t *testing.T, id string) {
			must(t, store.SessionsTouch(ctx, []string{id}, t0.Add(2*time.Hour)))
		}, t0.Add(time.Hour), func(issue.Session) time.Time { return t0.Add(2*time.Hour + day) }, t0.Add(2 * time.Hour)},
		{"NotOnceIdleExpired", t0, nil, t0.Add(day),
			func(s issue.Session) time.Time { return s.IdleExpiresAt }, t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newBrowserSession(t, store, u.ID, verify.RandomString(12), tc.created, day)
			if tc.arrange != nil {
				tc.arrange(t, s.ID)
			}
			if err := store.SessionsTouch(ctx, []string{s.ID, "ses_nope"}, tc.at); err != nil {
				t.Fatal(err)
			}
			got, err := store.SessionByID(ctx, s.ID)
			if err != nil || !got.IdleExpiresAt.Equal(tc.want(s)) || !got.RefreshedAt.Equal(tc.seen) {
				t.Fatalf("idle expiry %v, last seen %v (%v); want %v, %v", got.IdleExpiresAt, got.RefreshedAt, err, tc.want(s), tc.seen)
			}
		})
	}
	t.Run("NotAPISessions", func(t *testing.T) {
		s := newSession(t, store, u.ID, t0)
		must(t, store.SessionsTouch(ctx, []string{s.ID}, t0.Add(time.Minute)))
		if got, _ := store.SessionByID(ctx, s.ID); !got.RefreshedAt.Equal(t0) || !got.IdleExpiresAt.Equal(s.IdleExpiresAt) {
			t.Fatalf("API session touched: %+v; want it as it was", got)
		}
	})
}

func TestDB_SessionRevokeAllForUserExcept(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u, other := newUser(t, store, "alice", t0), newUser(t, store, "bob", t0)
	api := newSession(t, store, u.ID, t0)
	keep := newBrowserSession(t, store, u.ID, "keeplookup01", t0, time.Hour)
	browser := newBrowserSession(t, store, u.ID, "endlookup001", t0, time.Hour)
	theirs := newSession(t, store, other.ID, t0)

	ids, err := store.SessionRevokeAllForUserExcept(ctx, u.ID, keep.ID, t0, issue.ReasonRevoked, t0.Add(time.Hour))
	if want := slices.Sorted(slices.Values([]string{api.ID, browser.ID})); err != nil || !slices.Equal(ids, want) {
		t.Fatalf("SessionRevokeAllForUserExcept = %v, %v; want %v", ids, err, want)
	}
	for id, live := range map[string]bool{keep.ID: true, theirs.ID: true, api.ID: false, browser.ID: false} {
		if s, _ := store.SessionByID(ctx, id); (s.RevokedAt == nil) != live {
			t.Errorf("session %s revoked at %v; want live %v", id, s.RevokedAt, live)
		}
	}
	revs, _ := store.SessionRevocationsSince(ctx, 0, t0)
	if len(revs) != 2 {
		t.Fatalf("deny-list %+v; want the two ended sessions", revs)
	}
	if ids, err := store.SessionRevokeAllForUserExcept(ctx, u.ID, "", t0, issue.ReasonRevoked, t0); err != nil ||
		!slices.Equal(ids, []string{keep.ID}) {
		t.Fatalf("sparing none: %v, %v; want %s", ids, err, keep.ID)
	}
}

// must fails the test at once if err is set.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
