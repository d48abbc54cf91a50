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

// newUser stores a user called name, created at createdAt.
func newUser(t *testing.T, store *db.DB, name string, createdAt time.Time) issue.User {
	t.Helper()
	u, err := store.UserInsert(context.Background(), issue.User{
		ID: "usr_" + verify.RandomString(16), Username: name, Email: name + "@example.com", FullName: "Full " + name,
		PasswordHash: "$argon2id$fake", CreatedAt: createdAt, UpdatedAt: createdAt,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDB_UserInsertAndRead(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "Alice", t0)
	if u.Username != "Alice" || u.Email != "Alice@example.com" || u.PasswordHash != "$argon2id$fake" ||
		u.FailedLogins != 0 || u.DisabledAt != nil || !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t0) {
		t.Fatalf("UserInsert returned %+v", u)
	}
	for _, tc := range []struct{ name, login string }{
		{"ExactUsername", "Alice"},
		{"UsernameOtherCase", "aLICE"},
		{"Email", "alice@example.com"},
		{"EmailOtherCase", "ALICE@EXAMPLE.COM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.UserByLogin(ctx, tc.login)
			if err != nil || got.ID != u.ID {
				t.Fatalf("UserByLogin(%q) = %q, %v; want %q", tc.login, got.ID, err, u.ID)
			}
		})
	}
	if _, err := store.UserByLogin(ctx, "bob"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("UserByLogin(unknown) err = %v; want ErrNotFound", err)
	}
	if _, err := store.UserByID(ctx, "usr_nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("UserByID(unknown) err = %v; want ErrNotFound", err)
	}
	if n, err := store.UserCount(ctx); err != nil || n != 1 {
		t.Errorf("UserCount = %d, %v; want 1", n, err)
	}
}

func TestDB_UserByLoginPrefersUsername(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	carol := newUser(t, store, "carol", t0)
	odd := newUser(t, store, "dave", t0)
	email := carol.Email
	// Usernames may hold an @: one user's username is another's email.
	odd, err := store.UserUpdate(ctx, odd.ID, issue.UserPatch{Username: &email}, t0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.UserByLogin(ctx, strings.ToUpper(email))
	if err != nil || got.ID != odd.ID {
		t.Fatalf("UserByLogin(%q) = %q, %v; want the user with that username, %q", email, got.ID, err, odd.ID)
	}
}

func TestDB_UserConflicts(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	newUser(t, store, "alice", t0)
	for _, tc := range []struct {
		name, username, email, constraint string
	}{
		{"UsernameOtherCase", "ALICE", "new@example.com", "users_username_key"},
		{"EmailOtherCase", "new", "Alice@Example.COM", "users_email_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.UserInsert(ctx, issue.User{ID: "usr_" + verify.RandomString(16), Username: tc.username,
				Email: tc.email, PasswordHash: "h", CreatedAt: t0, UpdatedAt: t0})
			if !errors.Is(err, issue.ErrConflict) || !strings.Contains(err.Error(), tc.constraint) {
				t.Fatalf("UserInsert err = %v; want ErrConflict naming %s", err, tc.constraint)
			}
		})
	}
	t.Run("Update", func(t *testing.T) {
		bob := newUser(t, store, "bob", t0)
		taken := "ALICE@example.com"
		_, err := store.UserUpdate(ctx, bob.ID, issue.UserPatch{Email: &taken}, t0)
		if !errors.Is(err, issue.ErrConflict) || !strings.Contains(err.Error(), "users_email_key") {
			t.Fatalf("UserUpdate err = %v; want ErrConflict naming users_email_key", err)
		}
	})
	t.Run("CheckIsInvalid", func(t *testing.T) {
		_, err := store.UserInsert(ctx, issue.User{ID: "usr_x", Username: "", Email: "e@x.io", PasswordHash: "h",
			CreatedAt: t0, UpdatedAt: t0})
		if !errors.Is(err, issue.ErrInvalid) {
			t.Fatalf("UserInsert(empty username) err = %v; want ErrInvalid", err)
		}
	})
}

func TestDB_UserUpdate(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	later := t0.Add(time.Hour)
	name, hash := "Alice Liddell", "$argon2id$new"
	got, err := store.UserUpdate(ctx, u.ID, issue.UserPatch{FullName: &name, PasswordHash: &hash}, later)
	if err != nil {
		t.Fatal(err)
	}
	if got.FullName != name || got.PasswordHash != hash || got.Username != u.Username || got.Email != u.Email ||
		!got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("UserUpdate = %+v; want full name and hash changed, updated_at %v, the rest kept", got, later)
	}
	if _, err := store.UserUpdate(ctx, "usr_nope", issue.UserPatch{FullName: &name}, later); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("UserUpdate(unknown) err = %v; want ErrNotFound", err)
	}

	got, err = store.UserSetDisabled(ctx, u.ID, &later)
	if err != nil || got.DisabledAt == nil || !got.DisabledAt.Equal(later) {
		t.Fatalf("UserSetDisabled = %v, %v; want %v", got.DisabledAt, err, later)
	}
	if got, _ = store.UserSetDisabled(ctx, u.ID, nil); got.DisabledAt != nil {
		t.Fatalf("UserSetDisabled(nil) left disabled_at = %v; want nil", got.DisabledAt)
	}

	st := issue.LoginState{FailedLogins: 3, FailedSince: &t0, LockedUntil: &later}
	if err := store.UserSetLoginState(ctx, u.ID, st); err != nil {
		t.Fatal(err)
	}
	got, _ = store.UserByIDForUpdate(ctx, u.ID)
	if got.FailedLogins != 3 || !got.FailedSince.Equal(t0) || !got.LockedUntil.Equal(later) {
		t.Fatalf("login state = %d, %v, %v; want 3, %v, %v", got.FailedLogins, got.FailedSince, got.LockedUntil, t0, later)
	}
	if err := store.UserSetLoginState(ctx, "usr_nope", st); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("UserSetLoginState(unknown) err = %v; want ErrNotFound", err)
	}
}

func TestDB_UserListCursor(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	var want []string
	for i := range 5 {
		// Two users per timestamp, so the cursor must break ties by id.
		u := newUser(t, store, "u"+string(rune('a'+i)), t0.Add(time.Duration(i/2)*time.Second))
		want = append(want, u.ID)
	}
	var got []issue.User
	var after *issue.Cursor
	for {
		page, err := store.UserList(ctx, issue.UserFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = &issue.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	var ids []string
	for i, u := range got {
		ids = append(ids, u.ID)
		if i > 0 && got[i-1].CreatedAt.Before(u.CreatedAt) {
			t.Fatalf("page order: %s before %s; want newest first", got[i-1].ID, u.ID)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("paging returned %v; want each of %v once", ids, want)
	}
}

func TestDB_UserDeleteCascades(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	keep := newUser(t, store, "bob", t0)
	s := newSession(t, store, u.ID, t0)
	newSession(t, store, keep.ID, t0)
	if err := store.RefreshTokenInsert(ctx, issue.RefreshToken{LookupID: "rt1", SessionID: s.ID,
		SecretMAC: []byte("mac"), MACVersion: 1, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := store.UserRoleAssign(ctx, u.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if err := store.UserDelete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SessionByID(ctx, s.ID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("session after its user's delete: err = %v; want ErrNotFound", err)
	}
	if _, err := store.RefreshTokenByLookupIDForUpdate(ctx, "rt1"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("refresh token after its user's delete: err = %v; want ErrNotFound", err)
	}
	if roles, err := store.UserRoles(ctx, u.ID); err != nil || len(roles) != 0 {
		t.Errorf("roles after delete = %v, %v; want none", roles, err)
	}
	if live, _ := store.SessionListLive(ctx, keep.ID, t0); len(live) != 1 {
		t.Errorf("other user's live sessions = %d; want 1", len(live))
	}
	if err := store.UserDelete(ctx, u.ID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("second UserDelete err = %v; want ErrNotFound", err)
	}
	if n, _ := store.UserCount(ctx); n != 1 {
		t.Errorf("UserCount = %d; want 1", n)
	}
}
