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

// tokenDraft is a personal token of userID called name, expiring a day after createdAt.
func tokenDraft(userID, name string, createdAt time.Time, scopes ...string) issue.PersonalTokenDraft {
	k := verify.NewKey(verify.PrefixPersonalToken)
	if scopes == nil {
		scopes = []string{}
	}
	return issue.PersonalTokenDraft{ID: "tok_" + verify.RandomString(16), LookupID: k.LookupID,
		SecretMAC: []byte("mac-of-" + k.Secret), MACVersion: 1, UserID: userID, Name: name, Scopes: scopes,
		ExpiresAt: createdAt.Add(24 * time.Hour), CreatedAt: createdAt}
}

func insertToken(t *testing.T, store *db.DB, d issue.PersonalTokenDraft) issue.PersonalToken {
	t.Helper()
	tok, err := store.PersonalTokenInsert(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestDB_PersonalTokenInsertAndRead(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	d := tokenDraft(u.ID, "kiosk", t0, "a:read", "b:write")
	tok := insertToken(t, store, d)
	if tok.ID != d.ID || tok.Prefix != "agp_"+d.LookupID || tok.UserID != u.ID || tok.Name != "kiosk" ||
		!slices.Equal(tok.Scopes, d.Scopes) || !tok.ExpiresAt.Equal(d.ExpiresAt) || !tok.CreatedAt.Equal(t0) ||
		tok.RevokedAt != nil || tok.LastUsedAt != nil {
		t.Fatalf("PersonalTokenInsert returned %+v", tok)
	}
	if got, err := store.PersonalTokenByID(ctx, d.ID); err != nil || got.Prefix != tok.Prefix {
		t.Fatalf("PersonalTokenByID = %+v, %v", got, err)
	}
	for name, get := range map[string]func(context.Context, string) (issue.PersonalToken, error){
		"ByID": store.PersonalTokenByID, "ByIDForUpdate": store.PersonalTokenByIDForUpdate,
	} {
		if _, err := get(ctx, "tok_nope"); !errors.Is(err, verify.ErrNotFound) {
			t.Errorf("PersonalToken%s(unknown) err = %v; want ErrNotFound", name, err)
		}
	}
	if _, err := store.PersonalTokenInsert(ctx, tokenDraft("usr_nope", "x", t0)); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("insert for an unknown user: err = %v; want ErrNotFound", err)
	}
}

func TestDB_PersonalTokenListByUser(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u, other := newUser(t, store, "alice", t0), newUser(t, store, "bob", t0)
	old := insertToken(t, store, tokenDraft(u.ID, "old", t0))
	mid := insertToken(t, store, tokenDraft(u.ID, "mid", t0.Add(time.Minute)))
	insertToken(t, store, tokenDraft(other.ID, "bob's", t0.Add(2*time.Minute)))
	if _, err := store.PersonalTokenRevoke(ctx, old.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := store.PersonalTokenListByUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tok := range got {
		ids = append(ids, tok.ID)
	}
	if !slices.Equal(ids, []string{mid.ID, old.ID}) || got[1].RevokedAt == nil {
		t.Fatalf("list = %+v; want mid then old (revoked)", got)
	}
	if none, err := store.PersonalTokenListByUser(ctx, "usr_nope"); err != nil || len(none) != 0 {
		t.Fatalf("list of an unknown user = %v, %v; want none", none, err)
	}
}

func TestDB_PersonalTokenLiveNameIsUnique(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u, other := newUser(t, store, "alice", t0), newUser(t, store, "bob", t0)
	first := insertToken(t, store, tokenDraft(u.ID, "kiosk", t0))
	_, err := store.PersonalTokenInsert(ctx, tokenDraft(u.ID, "kiosk", t0))
	if !errors.Is(err, issue.ErrConflict) || !strings.Contains(err.Error(), "personal_tokens_live_name") {
		t.Fatalf("second live token of the name: err = %v; want ErrConflict naming personal_tokens_live_name", err)
	}
	insertToken(t, store, tokenDraft(other.ID, "kiosk", t0)) // another user's names are theirs
	if _, err := store.PersonalTokenRevoke(ctx, first.ID, t0); err != nil {
		t.Fatal(err)
	}
	insertToken(t, store, tokenDraft(u.ID, "kiosk", t0)) // a revoked token frees its name
}

func TestDB_PersonalTokenRevokeKeepsFirstTime(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	tok := insertToken(t, store, tokenDraft(newUser(t, store, "alice", t0).ID, "a", t0))
	if _, err := store.PersonalTokenRevoke(ctx, tok.ID, t0); err != nil {
		t.Fatal(err)
	}
	again, err := store.PersonalTokenRevoke(ctx, tok.ID, t0.Add(time.Hour))
	if err != nil || again.RevokedAt == nil || !again.RevokedAt.Equal(t0) {
		t.Fatalf("second revoke = %v, %v; want revoked_at to stay %v", again.RevokedAt, err, t0)
	}
	if _, err := store.PersonalTokenRevoke(ctx, "tok_nope", t0); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("revoke unknown: err = %v; want ErrNotFound", err)
	}
}

func TestDB_PersonalTokenRevokeExpiredNamed(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	tok := insertToken(t, store, tokenDraft(u.ID, "kiosk", t0)) // expires at t0+24h
	if got, err := store.PersonalTokenRevokeExpiredNamed(ctx, u.ID, "kiosk", t0.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("before expiry: %v, %v; want nothing revoked", got, err)
	}
	at := tok.ExpiresAt
	got, err := store.PersonalTokenRevokeExpiredNamed(ctx, u.ID, "kiosk", at)
	if err != nil || len(got) != 1 || got[0].ID != tok.ID || got[0].RevokedAt == nil || !got[0].RevokedAt.Equal(at) {
		t.Fatalf("at expiry: %+v, %v; want the token revoked at %v", got, err, at)
	}
	if got, err := store.PersonalTokenRevokeExpiredNamed(ctx, u.ID, "kiosk", at.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("again: %v, %v; want nothing (already revoked)", got, err)
	}
	insertToken(t, store, tokenDraft(u.ID, "kiosk", at))
}

func TestDB_TokenByLookupID(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	for _, p := range []string{"doors:open", "events:read"} {
		if err := store.PermissionInsert(ctx, issue.Permission{Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RoleInsert(ctx, issue.Role{Name: "guard"}); err != nil {
		t.Fatal(err)
	}
	if err := store.RoleGrant(ctx, "guard", "events:read"); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, store, "alice", t0)
	for _, r := range []string{"guard", "viewer"} { // viewer: keys:read roles:read users:read
		if err := store.UserRoleAssign(ctx, u.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	// keys:read and keys:write are authgate's own: the service refuses them in a
	// personal token, but a token made by an earlier version may carry them.
	// Inserted straight through the store, they are left out on use.
	d := tokenDraft(u.ID, "kiosk", t0, "doors:open", "events:read", "keys:read", "keys:write")
	if tok := insertToken(t, store, d); !slices.Equal(tok.Scopes, d.Scopes) {
		t.Fatalf("stored scopes = %v; want %v as inserted", tok.Scopes, d.Scopes)
	}
	read := func(t *testing.T) verify.TokenRecord {
		t.Helper()
		rec, err := store.TokenByLookupID(ctx, d.LookupID)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	rec := read(t)
	if rec.ID != d.ID || rec.LookupID != d.LookupID || rec.Name != "kiosk" || string(rec.SecretMAC) != string(d.SecretMAC) ||
		rec.MACVersion != 1 || !rec.ExpiresAt.Equal(d.ExpiresAt) || !rec.RevokedAt.IsZero() || rec.UserID != u.ID ||
		rec.Username != "alice" || rec.Email != "alice@example.com" || rec.UserDisabled {
		t.Fatalf("TokenByLookupID = %+v", rec)
	}
	steps := []struct {
		name       string
		change     func() error
		roles      []string
		scopes     []string
		disabled   bool
		revokedSet bool
	}{
		// keys:read is held through viewer, and left out all the same.
		{"HoldsSome", func() error { return nil },
			[]string{"guard", "viewer"}, []string{"events:read"}, false, false},
		{"RoleLost", func() error { return store.UserRoleUnassign(ctx, u.ID, "guard") },
			[]string{"viewer"}, []string{}, false, false},
		{"AdminHoldsAllButOwn", func() error { return store.UserRoleAssign(ctx, u.ID, issue.RoleAdmin) },
			[]string{"admin", "viewer"}, []string{"doors:open", "events:read"}, false, false},
		{"PermissionDeleted", func() error { return store.PermissionDelete(ctx, "doors:open") },
			[]string{"admin", "viewer"}, []string{"events:read"}, false, false},
		{"UserDisabled", func() error { _, err := store.UserSetDisabled(ctx, u.ID, &t0); return err },
			[]string{"admin", "viewer"}, []string{"events:read"}, true, false},
		{"Revoked", func() error { _, err := store.PersonalTokenRevoke(ctx, d.ID, t0); return err },
			[]string{"admin", "viewer"}, []string{"events:read"}, true, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.change(); err != nil {
				t.Fatal(err)
			}
			rec := read(t)
			if !slices.Equal(rec.Roles, st.roles) || !slices.Equal(rec.Scopes, st.scopes) ||
				rec.UserDisabled != st.disabled || rec.RevokedAt.IsZero() == st.revokedSet {
				t.Fatalf("got roles %v scopes %v disabled %v revoked %v; want %v %v %v revoked set %v",
					rec.Roles, rec.Scopes, rec.UserDisabled, rec.RevokedAt, st.roles, st.scopes, st.disabled, st.revokedSet)
			}
		})
	}
	if err := store.UserDelete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.TokenByLookupID(ctx, d.LookupID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("after the user is deleted: err = %v; want ErrNotFound", err)
	}
	if _, err := store.PersonalTokenByID(ctx, d.ID); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("the token row outlived its user: err = %v", err)
	}
	if _, err := store.TokenByLookupID(ctx, "nosuchlookup"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("unknown lookup id: err = %v; want ErrNotFound", err)
	}
}

func TestDB_TokensTouchNeverGoesBack(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	tok := insertToken(t, store, tokenDraft(newUser(t, store, "alice", t0).ID, "a", t0))
	later := t0.Add(time.Minute)
	if err := store.TokensTouch(ctx, []string{tok.ID, "tok_unknown"}, later); err != nil {
		t.Fatal(err)
	}
	if err := store.TokensTouch(ctx, []string{tok.ID}, t0); err != nil {
		t.Fatal(err)
	}
	got, _ := store.PersonalTokenByID(ctx, tok.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(later) {
		t.Fatalf("last_used_at = %v; want %v", got.LastUsedAt, later)
	}
}

func TestDB_PersonalTokenChangesAreAnnounced(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "alice", t0)
	tok := insertToken(t, store, tokenDraft(u.ID, "before-listening", t0))
	a := listenTo(t, store, db.ChannelKeys)
	if err := store.TokensTouch(ctx, []string{tok.ID}, t0); err != nil { // last use alone is not announced
		t.Fatal(err)
	}
	if _, err := store.PersonalTokenRevoke(ctx, tok.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := store.UserRoleAssign(ctx, u.ID, "viewer"); err != nil { // what every token of the user may do changed
		t.Fatal(err)
	}
	a.expect(t, tok.Prefix[len(verify.PrefixPersonalToken):], db.AllCredentials)
}
