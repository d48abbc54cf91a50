package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

const pocket = "https://id.home.example"

func TestDB_Identity(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	ann, bob := newUser(t, store, "ann", t0), newUser(t, store, "bob", t0)
	link := func(u issue.User, sub string, at time.Time) issue.LinkedIdentity {
		t.Helper()
		l, err := store.IdentityInsert(ctx, issue.LinkedIdentity{Provider: "pocket", Issuer: pocket, Subject: sub,
			UserID: u.ID, Email: u.Email, LinkedAt: at, LastSignInAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := link(ann, "sub-ann", t0)
	if first.UserID != ann.ID || first.Provider != "pocket" || !first.LinkedAt.Equal(t0) || first.Email != "ann@example.com" {
		t.Fatalf("IdentityInsert returned %+v", first)
	}
	link(ann, "sub-ann-2", t0.Add(time.Hour))
	link(bob, "sub-bob", t0)

	t.Run("OneUserPerIdentity", func(t *testing.T) {
		_, err := store.IdentityInsert(ctx, issue.LinkedIdentity{Provider: "pocket", Issuer: pocket, Subject: "sub-ann",
			UserID: bob.ID, LinkedAt: t0, LastSignInAt: t0})
		if !errors.Is(err, issue.ErrConflict) {
			t.Fatalf("linking ann's identity to bob: %v; want ErrConflict", err)
		}
	})
	t.Run("UnknownUser", func(t *testing.T) {
		_, err := store.IdentityInsert(ctx, issue.LinkedIdentity{Provider: "pocket", Issuer: pocket, Subject: "x",
			UserID: "usr_nope", LinkedAt: t0, LastSignInAt: t0})
		if !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("linking to nobody: %v; want ErrNotFound", err)
		}
	})
	t.Run("ByKey", func(t *testing.T) {
		got, err := store.IdentityByKey(ctx, pocket, "sub-bob")
		if err != nil || got.UserID != bob.ID {
			t.Fatalf("got %+v, %v; want bob's link", got, err)
		}
		if _, err := store.IdentityByKey(ctx, "https://other.example", "sub-bob"); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("same subject, other issuer: %v; want ErrNotFound", err)
		}
	})
	t.Run("ListByUser", func(t *testing.T) {
		list, err := store.IdentityListByUser(ctx, ann.ID)
		if err != nil || len(list) != 2 || list[0].Subject != "sub-ann" || list[1].Subject != "sub-ann-2" {
			t.Fatalf("got %+v, %v; want ann's two links, oldest first", list, err)
		}
		if list, err := store.IdentityListByUser(ctx, "usr_nope"); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("nobody's links: %v, %v; want an empty list", list, err)
		}
	})
	t.Run("Touch", func(t *testing.T) {
		at := t0.Add(2 * time.Hour)
		if err := store.IdentityTouch(ctx, pocket, "sub-bob", "robert@example.com", at); err != nil {
			t.Fatal(err)
		}
		got, _ := store.IdentityByKey(ctx, pocket, "sub-bob")
		if !got.LastSignInAt.Equal(at) || got.Email != "robert@example.com" || !got.LinkedAt.Equal(t0) {
			t.Fatalf("after touch %+v; want last sign-in and email changed, linked_at kept", got)
		}
		if err := store.IdentityTouch(ctx, pocket, "nobody", "", at); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("touching no link: %v; want ErrNotFound", err)
		}
	})
	t.Run("DeleteOnlyOwn", func(t *testing.T) {
		if err := store.IdentityDelete(ctx, bob.ID, pocket, "sub-ann"); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("bob deleting ann's link: %v; want ErrNotFound", err)
		}
		if err := store.IdentityDelete(ctx, ann.ID, pocket, "sub-ann-2"); err != nil {
			t.Fatal(err)
		}
		if list, _ := store.IdentityListByUser(ctx, ann.ID); len(list) != 1 {
			t.Fatalf("after delete %+v; want one link left", list)
		}
	})
	t.Run("GoWithTheUser", func(t *testing.T) {
		if err := store.UserDelete(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.IdentityByKey(ctx, pocket, "sub-bob"); !errors.Is(err, verify.ErrNotFound) {
			t.Fatalf("bob's link after bob is deleted: %v; want ErrNotFound", err)
		}
	})
}

func TestDB_UserByEmail(t *testing.T) {
	store, ctx := dbtest.New(t), context.Background()
	u := newUser(t, store, "Cleo", t0)
	for _, tc := range []struct{ name, email string }{{"Exact", "Cleo@example.com"}, {"OtherCase", "cLEO@EXAMPLE.COM"}} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := store.UserByEmail(ctx, tc.email); err != nil || got.ID != u.ID {
				t.Fatalf("UserByEmail(%q) = %q, %v; want %q", tc.email, got.ID, err, u.ID)
			}
		})
	}
	if _, err := store.UserByEmail(ctx, "Cleo"); !errors.Is(err, verify.ErrNotFound) {
		t.Fatalf("UserByEmail(a username) = %v; want ErrNotFound: the username never counts", err)
	}
}
