package issue_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

const userPassword = "correct horse battery staple"

var userActor = issue.Actor{ID: "key:key_test", IP: "192.0.2.1", UserAgent: "test", RequestID: "req-1", Authority: issue.AllAuthority()}

// userFixture creates a user named name holding roles, or fails the test.
func (b *bundle) userFixture(t *testing.T, name string, roles ...string) issue.User {
	t.Helper()
	u, err := b.svc.CreateUser(context.Background(), issue.UserRequest{Username: name, Email: name + "@example.com",
		Password: userPassword, Roles: roles}, userActor)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sessionFixture stores a live session of user, as a login would.
func (b *bundle) sessionFixture(t *testing.T, userID string) string {
	t.Helper()
	id := "ses_" + verify.RandomString(16)
	err := b.store.SessionInsert(context.Background(), issue.Session{ID: id, UserID: userID, CreatedAt: b.now,
		RefreshedAt: b.now, IdleExpiresAt: b.now.Add(time.Hour), ExpiresAt: b.now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestService_CreateUser(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u, err := b.svc.CreateUser(ctx, issue.UserRequest{Username: "Ada.L_1-x", Email: "ada@example.com", FullName: "Ada Lovelace",
		Password: userPassword, Roles: []string{"viewer", "operator", "viewer"}}, userActor)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, "usr_") || u.Username != "Ada.L_1-x" || u.Email != "ada@example.com" ||
		u.FullName != "Ada Lovelace" || u.DisabledAt != nil || !u.CreatedAt.Equal(t0) {
		t.Fatalf("created user = %+v", u)
	}
	if want := []string{"operator", "viewer"}; !slices.Equal(u.Roles, want) {
		t.Errorf("roles = %v; want %v (sorted, without duplicates)", u.Roles, want)
	}
	got, err := b.svc.GetUser(ctx, u.ID)
	if err != nil || !slices.Equal(got.Roles, u.Roles) || !issue.CheckPassword(got.PasswordHash, userPassword) {
		t.Fatalf("GetUser = %+v, %v; want the user with its roles and a hash of its password", got, err)
	}
	if _, err := b.svc.GetUser(ctx, "usr_nope"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("GetUser of an unknown id: err = %v; want ErrNotFound", err)
	}
	rows := b.audit(t)
	if len(rows) != 1 || rows[0].Action != "user.create" || rows[0].ResourceID != u.ID || rows[0].Actor != userActor.ID ||
		rows[0].IP != userActor.IP || rows[0].RequestID != userActor.RequestID || rows[0].Outcome != issue.OutcomeSuccess {
		t.Fatalf("audit rows = %+v; want one user.create userActor %+v", rows, userActor)
	}
}

func TestService_CreateUserRejectsBadInput(t *testing.T) {
	ok := issue.UserRequest{Username: "ada", Email: "ada@example.com", Password: userPassword}
	with := func(f func(*issue.UserRequest)) issue.UserRequest { u := ok; f(&u); return u }
	tests := []struct {
		name  string
		in    issue.UserRequest
		field string
		msg   string
	}{
		{"EmptyUsername", with(func(u *issue.UserRequest) { u.Username = "" }), "username", "1 to 64"},
		{"LongUsername", with(func(u *issue.UserRequest) { u.Username = strings.Repeat("a", 65) }), "username", "1 to 64"},
		{"SpaceInUsername", with(func(u *issue.UserRequest) { u.Username = "ada l" }), "username", "only letters"},
		{"AtInUsername", with(func(u *issue.UserRequest) { u.Username = "ada@x" }), "username", "only letters"},
		{"NonASCIIUsername", with(func(u *issue.UserRequest) { u.Username = "adä" }), "username", "only letters"},
		{"SlashInUsername", with(func(u *issue.UserRequest) { u.Username = "a/b" }), "username", "only letters"},
		{"EmptyEmail", with(func(u *issue.UserRequest) { u.Email = "" }), "email", "required"},
		{"EmailNoAt", with(func(u *issue.UserRequest) { u.Email = "ada.example.com" }), "email", "plain address"},
		{"EmailWithName", with(func(u *issue.UserRequest) { u.Email = "Ada <ada@example.com>" }), "email", "plain address"},
		{"EmailSpaces", with(func(u *issue.UserRequest) { u.Email = " ada@example.com" }), "email", "plain address"},
		{"EmailTwoAddresses", with(func(u *issue.UserRequest) { u.Email = "a@example.com, b@example.com" }), "email", "plain address"},
		{"LongEmail", with(func(u *issue.UserRequest) { u.Email = strings.Repeat("a", 250) + "@x.io" }), "email", "at most 254"},
		{"LongFullName", with(func(u *issue.UserRequest) { u.FullName = strings.Repeat("é", 201) }), "full_name", "at most 200"},
		{"ControlInFullName", with(func(u *issue.UserRequest) { u.FullName = "Ada\nLovelace" }), "full_name", "printable"},
		{"InvalidUTF8FullName", with(func(u *issue.UserRequest) { u.FullName = "Ada\xff" }), "full_name", "UTF-8"},
		{"EmptyPassword", with(func(u *issue.UserRequest) { u.Password = "" }), "password", "at least 12"},
		{"ShortPassword", with(func(u *issue.UserRequest) { u.Password = strings.Repeat("x", 11) }), "password", "at least 12"},
		{"LongPassword", with(func(u *issue.UserRequest) { u.Password = strings.Repeat("é", 257) }), "password", "at most 256"},
		{"UnknownRole", with(func(u *issue.UserRequest) { u.Roles = []string{"viewer", "ops"} }), "roles", `"ops"`},
		{"MalformedRole", with(func(u *issue.UserRequest) { u.Roles = []string{"Bad Role"} }), "roles", `"Bad Role"`},
	}
	b := setup(t)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateUser(ctx, tt.in, userActor)
			var fe *issue.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Fatalf("err = %v; want a FieldError on %s mentioning %q", err, tt.field, tt.msg)
			}
		})
	}
	if n, _ := b.store.UserCount(ctx); n != 0 {
		t.Fatalf("%d users stored after only bad requests; want 0", n)
	}
	if rows := b.audit(t); len(rows) != 0 {
		t.Fatalf("%d audit rows after only bad requests; want 0", len(rows))
	}
	// The boundaries themselves are accepted.
	edge := issue.UserRequest{Username: strings.Repeat("a", 64), Email: "b@example.com", FullName: strings.Repeat("é", 200),
		Password: strings.Repeat("é", 256)}
	if _, err := b.svc.CreateUser(ctx, edge, userActor); err != nil {
		t.Fatalf("64-character username, 200-character name, 256-character password: %v", err)
	}
	edge = issue.UserRequest{Username: "c", Email: "c@example.com", Password: strings.Repeat("x", 12)}
	if _, err := b.svc.CreateUser(ctx, edge, userActor); err != nil {
		t.Fatalf("12-character password: %v", err)
	}
}

func TestService_CreateUserDuplicates(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.userFixture(t, "ada")
	tests := []struct {
		name, username, email, want string
	}{
		{"SameUsername", "ada", "other@example.com", "username already taken"},
		{"UsernameOtherCase", "ADA", "other@example.com", "username already taken"},
		{"SameEmail", "other", "ada@example.com", "email already taken"},
		{"EmailOtherCase", "other", "Ada@EXAMPLE.com", "email already taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateUser(ctx, issue.UserRequest{Username: tt.username, Email: tt.email, Password: userPassword}, userActor)
			var se *issue.StateError
			if !errors.Is(err, issue.ErrConflict) || !errors.As(err, &se) || se.Msg != tt.want {
				t.Fatalf("err = %v; want ErrConflict saying %q", err, tt.want)
			}
		})
	}
	if n, _ := b.store.UserCount(ctx); n != 1 {
		t.Fatalf("%d users; want only the first", n)
	}
}

func TestService_UpdateUser(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "ada", "viewer")
	other := b.userFixture(t, "bob")
	ses := b.sessionFixture(t, u.ID)
	b.now = t0.Add(time.Minute)

	name, email := "Ada King", "ada.king@example.com"
	got, err := b.svc.UpdateUser(ctx, u.ID, issue.UserUpdate{FullName: &name, Email: &email}, userActor)
	if err != nil {
		t.Fatal(err)
	}
	if got.FullName != name || got.Email != email || got.Username != "ada" || !got.UpdatedAt.Equal(b.now) ||
		!slices.Equal(got.Roles, []string{"viewer"}) {
		t.Fatalf("updated user = %+v", got)
	}
	if s, _ := b.store.SessionByID(ctx, ses); s.RevokedAt != nil {
		t.Fatal("changing the name and email ended the user's session; want it left alone")
	}

	pw := "a whole new passphrase"
	if _, err := b.svc.UpdateUser(ctx, u.ID, issue.UserUpdate{Password: &pw}, userActor); err != nil {
		t.Fatal(err)
	}
	stored := must(b.store.UserByID(ctx, u.ID))(t)
	if !issue.CheckPassword(stored.PasswordHash, pw) || issue.CheckPassword(stored.PasswordHash, userPassword) {
		t.Fatal("the new password does not replace the old one")
	}
	if s, _ := b.store.SessionByID(ctx, ses); s.RevokedAt == nil {
		t.Fatal("a new password left the user's session live; want it ended")
	}

	short, taken, upper := "short", other.Email, strings.ToUpper(email)
	refusals := []struct {
		name string
		in   issue.UserUpdate
		want error
	}{
		{"Nothing", issue.UserUpdate{}, issue.ErrInvalid},
		{"ShortPassword", issue.UserUpdate{Password: &short}, issue.ErrInvalid},
		{"BadEmail", issue.UserUpdate{Email: &short}, issue.ErrInvalid},
		{"TakenEmail", issue.UserUpdate{Email: &taken}, issue.ErrConflict},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.svc.UpdateUser(ctx, u.ID, tt.in, userActor); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
		})
	}
	t.Run("OwnEmailInOtherCase", func(t *testing.T) {
		if _, err := b.svc.UpdateUser(ctx, u.ID, issue.UserUpdate{Email: &upper}, userActor); err != nil {
			t.Fatalf("err = %v; want the user's own address accepted", err)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		if _, err := b.svc.UpdateUser(ctx, "usr_nope", issue.UserUpdate{FullName: &name}, userActor); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("err = %v; want ErrNotFound", err)
		}
	})

	var changed [][]string
	for _, r := range b.audit(t) {
		if r.Action == "user.update" {
			var m struct{ Changed []string }
			json.Unmarshal(r.Metadata, &m)
			changed = append(changed, m.Changed)
		}
	}
	if want := [][]string{{"email", "full_name"}, {"password"}, {"email"}}; !slices.EqualFunc(changed, want, slices.Equal) {
		t.Fatalf("user.update rows changed %v; want %v", changed, want)
	}
}

func TestService_DisableUserEndsSessions(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "ada")
	bystander := b.userFixture(t, "bob")
	s1, s2, kept := b.sessionFixture(t, u.ID), b.sessionFixture(t, u.ID), b.sessionFixture(t, bystander.ID)
	b.now = t0.Add(time.Minute)

	got, err := b.svc.SetUserDisabled(ctx, u.ID, true, userActor)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledAt == nil || !got.DisabledAt.Equal(b.now) {
		t.Fatalf("disabled_at = %v; want %v", got.DisabledAt, b.now)
	}
	for _, id := range []string{s1, s2} {
		s := must(b.store.SessionByID(ctx, id))(t)
		if s.RevokedAt == nil || !s.RevokedAt.Equal(b.now) || s.RevokeReason == nil || *s.RevokeReason != issue.ReasonUserDisabled {
			t.Fatalf("session %s after disable = %+v; want revoked now for %s", id, s, issue.ReasonUserDisabled)
		}
	}
	if s, _ := b.store.SessionByID(ctx, kept); s.RevokedAt != nil {
		t.Fatal("disabling one user ended another's session")
	}
	denied := map[string]time.Time{}
	revs, err := b.store.SessionRevocationsSince(ctx, 0, b.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range revs {
		denied[r.SessionID] = r.ExpiresAt
	}
	opts := b.svc.Options()
	for _, id := range []string{s1, s2} {
		if want := b.now.Add(opts.AccessTTL + opts.Leeway); !denied[id].Equal(want) {
			t.Fatalf("deny-list entry of %s until %v; want %v (now + access TTL + leeway)", id, denied[id], want)
		}
	}

	// Disabling again keeps the first time; enabling clears it.
	b.now = t0.Add(time.Hour)
	if again, _ := b.svc.SetUserDisabled(ctx, u.ID, true, userActor); !again.DisabledAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("disabling twice moved disabled_at to %v", again.DisabledAt)
	}
	if en, err := b.svc.SetUserDisabled(ctx, u.ID, false, userActor); err != nil || en.DisabledAt != nil {
		t.Fatalf("enable = %+v, %v; want disabled_at cleared", en, err)
	}
	if _, err := b.svc.SetUserDisabled(ctx, "usr_nope", true, userActor); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("disable an unknown user: err = %v; want ErrNotFound", err)
	}
	var actions []string
	for _, r := range b.audit(t) {
		actions = append(actions, string(r.Action))
	}
	if want := []string{"user.create", "user.create", "user.disable", "user.disable", "user.enable"}; !slices.Equal(actions, want) {
		t.Fatalf("audit actions %v; want %v", actions, want)
	}
}

func TestService_DeleteUserEndsSessions(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	u := b.userFixture(t, "ada", "operator")
	ses := b.sessionFixture(t, u.ID)
	if err := b.svc.DeleteUser(ctx, u.ID, userActor); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.GetUser(ctx, u.ID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("GetUser after delete: err = %v; want ErrNotFound", err)
	}
	revs := must(b.store.SessionRevocationsSince(ctx, 0, b.now))(t)
	if len(revs) != 1 || revs[0].SessionID != ses {
		t.Fatalf("deny-list after delete = %+v; want the user's session %s, outliving the user", revs, ses)
	}
	if err := b.svc.DeleteUser(ctx, u.ID, userActor); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("delete twice: err = %v; want ErrNotFound", err)
	}
	// The name is free again.
	b.userFixture(t, "ada")
	rows := b.audit(t)
	if len(rows) != 3 || rows[1].Action != "user.delete" || rows[1].ResourceID != u.ID {
		t.Fatalf("audit rows = %+v; want user.create, user.delete, user.create", rows)
	}
}

func TestService_Register(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	in := issue.UserRequest{Username: "eve", Email: "eve@example.com", Password: userPassword, Roles: []string{issue.RoleAdmin}}
	if _, err := b.svc.Register(ctx, in, issue.Actor{ID: "anonymous"}); !errors.Is(err, issue.ErrPermission) {
		t.Fatalf("register while closed: err = %v; want ErrPermission", err)
	}
	if n, _ := b.store.UserCount(ctx); n != 0 {
		t.Fatalf("%d users after a refused registration", n)
	}

	open := issue.NewService(b.store, b.hasher, func() time.Time { return b.now }, issue.Options{AllowRegistration: true})
	u, err := open.Register(ctx, in, issue.Actor{ID: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Roles) != 0 {
		t.Fatalf("a self-registered user holds %v; want no role whatever was asked for", u.Roles)
	}
	if ps, _ := open.UserPermissions(ctx, u.ID); len(ps) != 0 {
		t.Fatalf("a self-registered user has permissions %v; want none", ps)
	}
	rows := b.audit(t)
	if len(rows) != 1 || rows[0].Action != "user.register" || rows[0].Actor != "anonymous" {
		t.Fatalf("audit rows = %+v; want one user.register userActor anonymous", rows)
	}
}

func TestService_RegisterIsThrottledPerIP(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	// LockoutThreshold 1 leaves each IP 4 attempts a window.
	open := issue.NewService(b.store, b.hasher, func() time.Time { return b.now },
		issue.Options{AllowRegistration: true, LockoutThreshold: 1})
	bad := issue.UserRequest{Username: "eve", Email: "eve@example.com", Password: "short"}
	for i := range 4 {
		if _, err := open.Register(ctx, bad, issue.Actor{ID: "anonymous", IP: "192.0.2.9"}); !errors.Is(err, issue.ErrInvalid) {
			t.Fatalf("attempt %d: err = %v; want ErrInvalid", i+1, err)
		}
	}
	_, err := open.Register(ctx, bad, issue.Actor{ID: "anonymous", IP: "192.0.2.9"})
	var te *issue.ThrottleError
	if !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Fatalf("fifth attempt: err = %v; want a ThrottleError", err)
	}
	if _, err := open.Register(ctx, bad, issue.Actor{ID: "anonymous", IP: "192.0.2.10"}); !errors.Is(err, issue.ErrInvalid) {
		t.Fatalf("another IP: err = %v; want it unaffected", err)
	}
}

func TestService_ListUsers(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	for i, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		b.now = t0.Add(time.Duration(i%2) * time.Second) // ties on created_at too
		b.userFixture(t, name, "viewer")
	}
	var seen []string
	var after *issue.Cursor
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		users, next, err := b.svc.ListUsers(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if !slices.Equal(u.Roles, []string{"viewer"}) {
				t.Fatalf("listed user %s with roles %v; want [viewer]", u.Username, u.Roles)
			}
			seen = append(seen, u.Username)
		}
		if next == nil {
			break
		}
		after = next
	}
	slices.Sort(seen)
	if want := []string{"u1", "u2", "u3", "u4", "u5"}; !slices.Equal(seen, want) {
		t.Fatalf("pages held %v; want each user once: %v", seen, want)
	}
	for _, limit := range []int{-1, 201} { // 0 asks for DefaultPageLimit
		if _, _, err := b.svc.ListUsers(ctx, nil, limit); !errors.Is(err, issue.ErrInvalid) {
			t.Fatalf("limit %d: err = %v; want ErrInvalid", limit, err)
		}
	}
}
