package issue_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// TestService_Unlink_LastSignIn: a user without a password keeps their last
// linked identity, whoever asks; a second identity, or a password set by an
// admin or at creation, lets it go.
func TestService_Unlink_LastSignIn(t *testing.T) {
	a := extWorld(t, issue.Options{})
	ctx := context.Background()
	selfOf := func(userID string) issue.Actor {
		return issue.Actor{ID: "user:" + userID,
			Authority: must(a.svc.CallerAuthority(ctx, &verify.Principal{Kind: verify.KindJWT, Subject: userID}))(t)}
	}
	work := func(sub, email string) issue.ExternalIdentity {
		id := person(sub)
		id.Provider, id.Issuer, id.Email = "work", "https://login.work.example", email
		return id
	}
	linkByEmail := issue.ProviderPolicy{LinkByVerifiedEmail: true}

	t.Run("NoPasswordOnlyLink", func(t *testing.T) {
		uma := a.mustSignInExternal(t, person("uma"), createFamily).UserID
		for name, by := range map[string]issue.Actor{"Self": selfOf(uma), "Admin": issue.CLI()} {
			err := a.svc.Unlink(ctx, uma, pocketIssuer, "uma", by)
			if !errors.Is(err, issue.ErrLastSignIn) || !errors.Is(err, issue.ErrConflict) {
				t.Fatalf("%s unlinking uma's only sign-in: %v; want ErrLastSignIn (ErrConflict)", name, err)
			}
			if ce, ok := errors.AsType[issue.ClientError](err); !ok || ce.ClientMessage() == "" {
				t.Fatalf("%s: %v; want a message the client may see", name, err)
			}
		}
		if ids := a.identities(t, uma); len(ids) != 1 {
			t.Fatalf("uma's identities %+v; want hers kept", ids)
		}
		for _, row := range a.auditRows(t, "identity.unlink") {
			if row["_resource_id"] == uma {
				t.Fatalf("identity.unlink row %v for a refused unlink", row)
			}
		}
		// An admin sets a password: now the link may go.
		if _, err := a.svc.UpdateUser(ctx, uma, issue.UserUpdate{Password: ptr("password-of-uma")}, issue.CLI()); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.Unlink(ctx, uma, pocketIssuer, "uma", selfOf(uma)); err != nil {
			t.Fatalf("unlink after a password was set: %v", err)
		}
	})
	t.Run("SecondLinkGoesFirst", func(t *testing.T) {
		vic := a.mustSignInExternal(t, person("vic"), createFamily).UserID
		a.mustSignInExternal(t, work("vic-work", "vic@example.com"), linkByEmail)
		if err := a.svc.Unlink(ctx, vic, pocketIssuer, "vic", selfOf(vic)); err != nil {
			t.Fatalf("unlink one of two: %v", err)
		}
		if err := a.svc.Unlink(ctx, vic, "https://login.work.example", "vic-work", selfOf(vic)); !errors.Is(err, issue.ErrLastSignIn) {
			t.Fatalf("unlink the last: %v; want ErrLastSignIn", err)
		}
	})
	t.Run("CreatedWithPassword", func(t *testing.T) {
		wes := a.newUser(t, "wes").ID
		a.mustSignInExternal(t, person("wes"), linkByEmail)
		if err := a.svc.Unlink(ctx, wes, pocketIssuer, "wes", selfOf(wes)); err != nil {
			t.Fatalf("unlink of a user with a password: %v", err)
		}
	})
	t.Run("ConcurrentUnlinksLeaveOne", func(t *testing.T) {
		xan := a.mustSignInExternal(t, person("xan"), createFamily).UserID
		a.mustSignInExternal(t, work("xan-work", "xan@example.com"), linkByEmail)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, key := range [][2]string{{pocketIssuer, "xan"}, {"https://login.work.example", "xan-work"}} {
			wg.Go(func() { errs[i] = a.svc.Unlink(ctx, xan, key[0], key[1], issue.CLI()) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), issue.ErrLastSignIn) {
			t.Fatalf("got %v; want one unlink and one ErrLastSignIn", errs)
		}
		if ids := a.identities(t, xan); len(ids) != 1 {
			t.Fatalf("xan's identities %+v; want one left", ids)
		}
	})
}
